// write_hf: tokenizer.json + tokenizer_config.json that HF transformers /
// tokenizers load as the same tokenizer. The JSON is synthesized from the
// loaded state whatever the source was (tokenizer.json, GGUF or
// tokenizer.model), so one code path is tested for all three. The 33 MB
// vocabulary/merges part is written by hand (nlohmann would build a DOM).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/atomic_file.h"
#include "base/error.h"
#include "tokenizer/gemma_tokenizer.h"

namespace qat::tok {

namespace {

void put_string(std::string& out, std::string_view s, const std::string& what) {
  QAT_CHECK(valid_utf8(s), "write_hf: ", what, " is not valid UTF-8, which JSON cannot hold");
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (uint8_t(c) < 0x20) {
          out += "\\u00";
          out.push_back(hex[uint8_t(c) >> 4]);
          out.push_back(hex[uint8_t(c) & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void GemmaTokenizer::write_hf(const std::string& dir) const {
  QAT_CHECK(data_.export_blocker.empty(), "write_hf: ", data_.source, ": ", data_.export_blocker);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  QAT_CHECK(!ec, dir, ": cannot create directory: ", ec.message());
  const int32_t n_model = data_.n_model >= 0 ? data_.n_model : vocab_size();

  // One entry per added id (a GGUF space alias shares its id).
  std::vector<int32_t> added_ids;
  {
    std::unordered_set<int32_t> seen;
    for (const AddedToken& t : data_.added)
      if (seen.insert(t.id).second) added_ids.push_back(t.id);
  }
  std::vector<uint8_t> added_normalized(size_t(vocab_size()), 0);
  for (const AddedToken& t : data_.added)
    if (t.normalized) added_normalized[size_t(t.id)] = 1;

  std::string out;
  out.reserve(40u << 20);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [";
  for (size_t k = 0; k < added_ids.size(); ++k) {
    const int32_t id = added_ids[k];
    out += k ? ",\n    {\"id\": " : "\n    {\"id\": ";
    out += std::to_string(id);
    out += ", \"content\": ";
    put_string(out, piece(id), cat("added token ", id));
    out += ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": ";
    out += added_normalized[size_t(id)] ? "true" : "false";
    out += ", \"special\": ";
    out += data_.special[size_t(id)] ? "true}" : "false}";
  }
  out += "\n  ],\n";
  out += "  \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\u2581\"},\n";
  out += "  \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, "
         "\"behavior\": \"MergedWithPrevious\", \"invert\": false},\n";
  if (data_.add_bos && data_.ids.bos >= 0) {
    std::string bos;
    put_string(bos, piece(data_.ids.bos), "bos token");
    const std::string st = "{\"SpecialToken\": {\"id\": " + bos + ", \"type_id\": ";
    out += "  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [" + st +
           "0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [" + st +
           "0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, " + st +
           "1}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {" + bos +
           ": {\"id\": " + bos + ", \"ids\": [" + std::to_string(data_.ids.bos) + "], \"tokens\": [" + bos +
           "]}}},\n";
  } else {
    out += "  \"post_processor\": null,\n";
  }
  out += "  \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\": "
         "{\"String\": \"\u2581\"}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}]},\n";
  out += "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": ";
  if (data_.ids.unk >= 0)
    put_string(out, piece(data_.ids.unk), "unk token");
  else
    out += "null";
  out += ", \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": ";
  out += data_.fuse_unk ? "true" : "false";
  out += ", \"byte_fallback\": ";
  out += data_.byte_fallback ? "true" : "false";
  out += ", \"ignore_merges\": false,\n    \"vocab\": {";
  {
    std::unordered_set<std::string_view> seen;
    for (int32_t id = 0; id < n_model; ++id) {
      QAT_CHECK(seen.insert(piece(id)).second, "write_hf: ", data_.source, ": piece \"", piece(id),
                "\" appears twice (id ", id, "); a tokenizer.json vocabulary cannot hold that");
      out += id ? ",\n      " : "\n      ";
      put_string(out, piece(id), cat("piece ", id));
      out += ": ";
      out += std::to_string(id);
    }
  }
  out += "\n    },\n    \"merges\": [";
  const auto merges = merge_list();
  for (size_t r = 0; r < merges.size(); ++r) {
    out += r ? ",\n      [" : "\n      [";
    put_string(out, piece(merges[r].first), "merge");
    out += ", ";
    put_string(out, piece(merges[r].second), "merge");
    out += "]";
  }
  out += "\n    ]\n  }\n}\n";
  write_file_atomic((std::filesystem::path(dir) / "tokenizer.json").string(), out);

  // tokenizer_config.json: what transformers needs beside it.
  nlohmann::ordered_json cfg;
  cfg["add_bos_token"] = data_.add_bos;
  cfg["add_eos_token"] = data_.add_eos;
  nlohmann::ordered_json dec = nlohmann::ordered_json::object();
  for (int32_t id : added_ids)
    dec[std::to_string(id)] = {{"content", std::string(piece(id))}, {"lstrip", false},
                               {"normalized", bool(added_normalized[size_t(id)])}, {"rstrip", false},
                               {"single_word", false}, {"special", bool(data_.special[size_t(id)])}};
  cfg["added_tokens_decoder"] = dec;
  auto name = [&](int32_t id) { return id >= 0 ? nlohmann::ordered_json(std::string(piece(id))) : nullptr; };
  cfg["bos_token"] = name(data_.ids.bos);
  cfg["eos_token"] = name(data_.ids.eos);
  cfg["pad_token"] = name(data_.ids.pad);
  cfg["unk_token"] = name(data_.ids.unk);
  cfg["chat_template"] = data_.chat_template.empty() ? std::string(kGemmaChatTemplate) : data_.chat_template;
  cfg["clean_up_tokenization_spaces"] = false;
  cfg["spaces_between_special_tokens"] = false;
  cfg["tokenizer_class"] = "GemmaTokenizer";
  write_file_atomic((std::filesystem::path(dir) / "tokenizer_config.json").string(), cfg.dump(2) + "\n");
}

}  // namespace qat::tok
