// Loading HF tokenizer.json (+ tokenizer_config.json beside it).
//
// Supported is what Gemma uses: model BPE (byte_fallback, merges), normalizer
// Replace(" " -> "▁"), pre_tokenizer Split(" ", MergedWithPrevious) or none,
// decoder Sequence[Replace("▁" -> " "), ByteFallback, Fuse]. Anything else is
// refused by name rather than tokenized differently from HF.
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/mapped_file.h"
#include "tokenizer/gemma_tokenizer.h"
#include "tokenizer/json_scan.h"

namespace qat {

using tok::Kind;
using tok::VocabData;
using json = nlohmann::json;

namespace {

json parse_section(std::string_view raw, const std::string& path, const char* field) {
  try {
    return json::parse(raw);
  } catch (const json::exception& e) {
    fail(path, ": field '", field, "': ", e.what());
  }
}

bool is_space_replace(const json& j, const char* from, const char* to) {
  return j.is_object() && j.value("type", "") == "Replace" && j.contains("pattern") &&
         j["pattern"].is_object() && j["pattern"].value("String", std::string("\x01")) == from &&
         j.value("content", std::string("\x01")) == to;
}

void check_normalizer(const json& j, const std::string& path) {
  if (is_space_replace(j, " ", "\xE2\x96\x81")) return;
  fail(path, ": field 'normalizer': expected Replace(\" \" -> \"\u2581\") as Gemma uses, found ",
       j.dump().substr(0, 200));
}

void check_pre_tokenizer(const json& j, const std::string& path) {
  // After the normalizer there are no spaces left, so Gemma's Split on " "
  // never fires; accept it (or nothing) and nothing else.
  if (j.is_null()) return;
  if (j.is_object() && j.value("type", "") == "Split" && j.contains("pattern") && j["pattern"].is_object() &&
      j["pattern"].value("String", std::string("\x01")) == " ")
    return;
  fail(path, ": field 'pre_tokenizer': expected null or Split(\" \") as Gemma uses, found ",
       j.dump().substr(0, 200));
}

void check_decoder(const json& j, const std::string& path) {
  const bool ok = j.is_object() && j.value("type", "") == "Sequence" && j.contains("decoders") &&
                  j["decoders"].is_array() && j["decoders"].size() == 3 &&
                  is_space_replace(j["decoders"][0], "\xE2\x96\x81", " ") &&
                  j["decoders"][1].value("type", "") == "ByteFallback" &&
                  j["decoders"][2].value("type", "") == "Fuse";
  if (!ok)
    fail(path, ": field 'decoder': expected Sequence[Replace(\"\u2581\" -> \" \"), ByteFallback, Fuse] "
         "as Gemma uses, found ", j.dump().substr(0, 200));
}

bool json_bool(std::string_view raw, const std::string& path, const char* field) {
  if (raw == "true") return true;
  if (raw == "false") return false;
  fail(path, ": field '", field, "': expected true or false, found ", std::string(raw.substr(0, 40)));
}

// A token name in tokenizer_config.json: "<bos>" or {"content": "<bos>", ...}.
std::string config_token(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return {};
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

}  // namespace

namespace tok {

// Reads tokenizer_config.json next to a tokenizer file, if there is one:
// bos/eos/pad/unk names, add_bos/add_eos and the chat template.
void apply_tokenizer_config(VocabData& d, const std::string& dir, const std::function<int32_t(const std::string&)>& id_of) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
  if (!std::filesystem::exists(path)) return;
  json cfg;
  try {
    cfg = json::parse(read_text_file(path));
  } catch (const json::exception& e) {
    fail(path, ": ", e.what());
  }
  QAT_CHECK(cfg.is_object(), path, ": expected a JSON object");
  auto flag = [&](const char* key, bool& out) {
    if (!cfg.contains(key) || cfg[key].is_null()) return;
    QAT_CHECK(cfg[key].is_boolean(), path, ": field '", key, "': expected true or false");
    out = cfg[key].get<bool>();
  };
  flag("add_bos_token", d.add_bos);
  flag("add_eos_token", d.add_eos);
  auto named = [&](const char* key, int32_t& out) {
    const std::string name = config_token(cfg, key);
    if (name.empty()) return;
    const int32_t id = id_of(name);
    QAT_CHECK(id >= 0, path, ": field '", key, "': token \"", name, "\" is not in the vocabulary");
    out = id;
  };
  named("bos_token", d.ids.bos);
  named("eos_token", d.ids.eos);
  named("pad_token", d.ids.pad);
  named("unk_token", d.ids.unk);
  if (cfg.contains("chat_template")) {
    const json& t = cfg["chat_template"];
    if (t.is_string()) {
      d.chat_template = t.get<std::string>();
    } else if (t.is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const json& e : t)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
          d.chat_template = e["template"].get<std::string>();
    }
  }
}

}  // namespace tok

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json(const std::string& path) {
  MappedFile file(path);
  tok::JsonScanner js(std::string_view(reinterpret_cast<const char*>(file.data()), file.size()), path);
  VocabData d;
  d.source = path;
  std::vector<std::pair<std::string_view, std::string_view>> merge_text;  // views into the map
  std::deque<std::string> merge_owned;  // merges whose text had escapes (stable addresses)
  std::string_view added_raw, normalizer_raw = "null", pre_raw = "null", decoder_raw = "null", post_raw = "null";
  bool have_model = false, have_vocab = false;
  std::string unk_name;
  std::string scratch;

  js.expect('{', "the top-level object");
  if (!js.consume('}')) {
    do {
      const std::string key(js.string(scratch, "a top-level key"));
      js.expect(':', "the top-level object");
      if (key == "added_tokens") added_raw = js.raw_value("added_tokens");
      else if (key == "normalizer") normalizer_raw = js.raw_value("normalizer");
      else if (key == "pre_tokenizer") pre_raw = js.raw_value("pre_tokenizer");
      else if (key == "decoder") decoder_raw = js.raw_value("decoder");
      else if (key == "post_processor") post_raw = js.raw_value("post_processor");
      else if (key != "model") js.raw_value(key.c_str());
      else {
        have_model = true;
        js.expect('{', "model");
        if (!js.consume('}')) {
          do {
            const std::string mkey(js.string(scratch, "a key of model"));
            js.expect(':', "model");
            if (mkey == "type") {
              const std::string type(js.string(scratch, "model.type"));
              if (type != "BPE") fail(path, ": field 'model.type' is \"", type, "\", expected \"BPE\" (Gemma)");
            } else if (mkey == "vocab") {
              have_vocab = true;
              js.expect('{', "model.vocab");
              if (!js.consume('}')) {
                do {
                  std::string piece(js.string(scratch, "model.vocab"));
                  js.expect(':', "model.vocab");
                  const int64_t id = js.integer("model.vocab");
                  if (id < 0 || id >= (int64_t(1) << 30))
                    fail(path, ": field 'model.vocab': id ", id, " of \"", piece, "\" is out of range");
                  if (size_t(id) >= d.pieces.size()) {
                    d.pieces.resize(size_t(id) + 1);
                    d.kinds.resize(size_t(id) + 1, Kind::Unused);  // Unused marks a gap until filled
                  }
                  if (d.kinds[size_t(id)] != Kind::Unused)
                    fail(path, ": field 'model.vocab': id ", id, " is given twice");
                  d.pieces[size_t(id)] = std::move(piece);
                  d.kinds[size_t(id)] = Kind::Normal;
                } while (js.consume(','));
                js.expect('}', "model.vocab");
              }
            } else if (mkey == "merges") {
              js.expect('[', "model.merges");
              if (!js.consume(']')) {
                do {
                  std::string_view a, b;
                  if (js.peek() == '[') {  // ["a", "b"] (tokenizers >= 0.20)
                    js.expect('[', "model.merges");
                    a = js.string(scratch, "model.merges");
                    if (a.data() == scratch.data()) a = merge_owned.emplace_back(a);
                    js.expect(',', "a pair of model.merges");
                    b = js.string(scratch, "model.merges");
                    if (b.data() == scratch.data()) b = merge_owned.emplace_back(b);
                    js.expect(']', "a pair of model.merges");
                  } else {  // "a b" (older files; pieces then contain no space)
                    std::string_view ab = js.string(scratch, "model.merges");
                    if (ab.data() == scratch.data()) ab = merge_owned.emplace_back(ab);
                    const size_t sp = ab.find(' ');
                    if (sp == std::string_view::npos || ab.find(' ', sp + 1) != std::string_view::npos)
                      fail(path, ": field 'model.merges': entry ", merge_text.size(), " \"", std::string(ab),
                           "\" is not two pieces separated by one space");
                    a = ab.substr(0, sp);
                    b = ab.substr(sp + 1);
                  }
                  merge_text.emplace_back(a, b);
                } while (js.consume(','));
                js.expect(']', "model.merges");
              }
            } else if (mkey == "byte_fallback") {
              d.byte_fallback = json_bool(js.raw_value("model.byte_fallback"), path, "model.byte_fallback");
            } else if (mkey == "fuse_unk") {
              d.fuse_unk = json_bool(js.raw_value("model.fuse_unk"), path, "model.fuse_unk");
            } else if (mkey == "unk_token") {
              if (js.peek() == '"') unk_name = std::string(js.string(scratch, "model.unk_token"));
              else js.raw_value("model.unk_token");
            } else if (mkey == "ignore_merges") {
              if (json_bool(js.raw_value("model.ignore_merges"), path, "model.ignore_merges"))
                fail(path, ": field 'model.ignore_merges' is true; only false (Gemma) is supported");
            } else if (mkey == "dropout") {
              const std::string_view v = js.raw_value("model.dropout");
              if (v != "null" && v != "0" && v != "0.0")
                fail(path, ": field 'model.dropout' is ", std::string(v), "; BPE dropout is not supported");
            } else if (mkey == "continuing_subword_prefix" || mkey == "end_of_word_suffix") {
              const std::string_view v = js.raw_value(mkey.c_str());
              if (v != "null" && v != "\"\"")
                fail(path, ": field 'model.", mkey, "' is ", std::string(v), "; only null (Gemma) is supported");
            } else {
              js.raw_value(mkey.c_str());
            }
          } while (js.consume(','));
          js.expect('}', "model");
        }
      }
    } while (js.consume(','));
  }
  js.expect('}', "the top-level object");
  if (!js.at_end()) js.fail("unexpected text after the top-level object");
  QAT_CHECK(have_model, path, ": missing field 'model'");
  QAT_CHECK(have_vocab && !d.pieces.empty(), path, ": missing or empty field 'model.vocab'");
  for (size_t i = 0; i < d.kinds.size(); ++i)
    QAT_CHECK(d.kinds[i] != Kind::Unused, path, ": field 'model.vocab': no token has id ", i,
              " (ids must be 0..", d.kinds.size() - 1, ")");
  const size_t n_model = d.pieces.size();
  d.n_model = int32_t(n_model);

  check_normalizer(parse_section(normalizer_raw, path, "normalizer"), path);
  check_pre_tokenizer(parse_section(pre_raw, path, "pre_tokenizer"), path);
  check_decoder(parse_section(decoder_raw, path, "decoder"), path);

  // Added tokens: matched whole before BPE; may lie beyond the model vocab
  // (Gemma 3's <image_soft_token> = 262144).
  d.special.assign(n_model, 0);
  if (!added_raw.empty()) try {
    const json added = parse_section(added_raw, path, "added_tokens");
    QAT_CHECK(added.is_array(), path, ": field 'added_tokens': expected an array");
    for (size_t k = 0; k < added.size(); ++k) {
      const json& t = added[k];
      const std::string where = cat(path, ": field 'added_tokens[", k, "]'");
      QAT_CHECK(t.is_object() && t.contains("id") && t["id"].is_number_integer() && t.contains("content") &&
                    t["content"].is_string(),
                where, ": expected an object with integer 'id' and string 'content'");
      const int64_t id = t["id"].get<int64_t>();
      QAT_CHECK(id >= 0 && id < (int64_t(1) << 30), where, ": id ", id, " is out of range");
      const std::string content = t["content"].get<std::string>();
      for (const char* flag : {"lstrip", "rstrip", "single_word"})
        QAT_CHECK(!t.value(flag, false), where, ": '", flag, "' is true for \"", content,
                  "\"; only false (Gemma) is supported");
      if (size_t(id) >= d.pieces.size()) {
        QAT_CHECK(size_t(id) == d.pieces.size(), where, ": id ", id, " leaves a gap after id ",
                  d.pieces.size() - 1);
        d.pieces.push_back(content);
        d.kinds.push_back(Kind::Normal);
        d.special.push_back(0);
      } else {
        QAT_CHECK(d.pieces[size_t(id)] == content, where, ": content \"", content, "\" differs from \"",
                  d.pieces[size_t(id)], "\", the vocabulary's piece with id ", id);
      }
      const bool special = t.value("special", false);
      d.special[size_t(id)] = special ? 1 : 0;
      d.kinds[size_t(id)] = special ? Kind::Control : Kind::UserDefined;
      d.added.push_back({content, int32_t(id), t.value("normalized", false)});
    }
  } catch (const json::exception& e) {
    fail(path, ": field 'added_tokens': ", e.what());
  }
  for (size_t i = 0; i < n_model; ++i)
    if (d.kinds[i] == Kind::Normal && tok::is_byte_piece(d.pieces[i])) d.kinds[i] = Kind::Byte;

  d.merges_field = "field 'model.merges'";
  // Special ids: the model's unk, Gemma's names, then tokenizer_config.json.
  auto find_any = [&](const std::string& s) -> int32_t {  // a few names: a scan is fine
    for (size_t i = 0; i < d.pieces.size(); ++i)
      if (d.pieces[i] == s) return int32_t(i);
    return -1;
  };
  d.ids.unk = unk_name.empty() ? -1 : find_any(unk_name);
  QAT_CHECK(unk_name.empty() || d.ids.unk >= 0, path, ": field 'model.unk_token': \"", unk_name,
            "\" is not in the vocabulary");
  if (d.ids.unk >= 0 && !d.special[size_t(d.ids.unk)]) d.kinds[size_t(d.ids.unk)] = Kind::Unknown;
  d.ids.bos = find_any("<bos>");
  d.ids.eos = find_any("<eos>");
  d.ids.pad = find_any("<pad>");
  // Without a config, the post-processor says whether <bos> is prepended.
  const json post = parse_section(post_raw, path, "post_processor");
  d.add_bos = false;
  if (post.is_object() && post.value("type", "") == "TemplateProcessing" && post.contains("single") &&
      post["single"].is_array() && !post["single"].empty() && post["single"][0].contains("SpecialToken")) {
    const int32_t id = find_any(post["single"][0]["SpecialToken"].value("id", ""));
    if (id >= 0) {
      d.ids.bos = id;
      d.add_bos = true;
    }
  }
  tok::apply_tokenizer_config(d, std::filesystem::path(path).parent_path().string(), find_any);
  tok::guess_special_ids(d);
  return std::make_unique<tok::GemmaTokenizer>(std::move(d), merge_text);
}

}  // namespace qat
