// GGUF tokenizer metadata (tokenizer.ggml.*), read and written the way
// llama.cpp's convert_hf_to_gguf.py and src/llama-vocab.cpp use it.
//
// What llama.cpp's converter writes for Gemma:
//  - Gemma 3 with tokenizer.model: model "llama" (SentencePiece), pre
//    "default", tokens, scores, token_type, bos/eos/(unk)/padding ids,
//    add_bos_token, add_eos_token, add_space_prefix = false, chat_template.
//  - Gemma 3 with tokenizer.json only: model "gpt2" with merges, pre
//    "granite-embed-multi-311m" (its pre-tokenizer hash; llama.cpp treats it
//    as the gemma4 pre-tokenizer).
//  - Gemma 4: model "gemma4": tokens, scores (all -1000), token_type, merges
//    ("left right"), special ids, add_space_prefix = false, add_bos_token.
// In all of them added tokens that are not special are USER_DEFINED with "▁"
// written as a space, and <mask>/<unusedN> count as CONTROL. Reading, we
// match such a token in both spellings and keep "▁" as its piece.
//
// We write the "llama" form: every llama.cpp and ollama build reads it.
// From tokenizer.json the scores are synthesized (-rank of the first merge
// making each piece), so llama.cpp's merge-by-score gives HF's merge-by-rank
// result; tests/tokenizer checks that claim on the fixtures. One deliberate
// difference from the converter: added tokens spelled with "▁" are written
// NORMAL (see write_gguf_padded).
#include <cstring>
#include <string>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer/gemma_tokenizer.h"

namespace qat {

using tok::Kind;
using tok::VocabData;

namespace {

// The converter's does_token_look_special(): names it marks CONTROL even
// when HF calls them plain added tokens.
bool looks_special(std::string_view t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.size() >= 4 && t.substr(0, 2) == "<|" && t.substr(t.size() - 2) == "|>") return true;
  if (t.size() > 8 && t.substr(0, 7) == "<unused" && t.back() == '>') return true;
  return false;
}

// Of those, the ones HF's Gemma tokenizer does not treat as special (kept
// by decode(skip_special_tokens=True)).
bool hf_plain_added(std::string_view t) {
  return t == "<mask>" || (t.size() > 8 && t.substr(0, 7) == "<unused" && t.back() == '>');
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& g) {
  const std::string& path = g.path();
  const std::string model = g.get_string("tokenizer.ggml.model");
  const std::string pre = g.get_string_opt("tokenizer.ggml.pre").value_or("");
  const bool llama = model == "llama";
  const bool gemma4 = model == "gemma4" || (model == "gpt2" && (pre == "gemma4" || pre == "granite-embed-multi-311m"));
  if (!llama && !gemma4) {
    if (model == "gpt2")
      fail(path, ": key 'tokenizer.ggml.pre' is \"", pre,
           "\": not a Gemma pre-tokenizer (expected \"gemma4\" or \"granite-embed-multi-311m\")");
    fail(path, ": key 'tokenizer.ggml.model' is \"", model,
         "\": expected \"llama\" (SentencePiece), \"gemma4\" or \"gpt2\" (Gemma BPE)");
  }
  QAT_CHECK(!g.get_bool_opt("tokenizer.ggml.add_space_prefix", false), path,
            ": key 'tokenizer.ggml.add_space_prefix' is true; Gemma tokenizers have it false");

  VocabData d;
  d.source = path;
  d.pieces = g.get_array("tokenizer.ggml.tokens", GgufType::STRING).strs;
  const size_t n = d.pieces.size();
  QAT_CHECK(n > 0, path, ": key 'tokenizer.ggml.tokens' is empty");
  d.kinds.assign(n, Kind::Normal);
  if (g.find("tokenizer.ggml.token_type")) {
    const GgufValue& v = g.get_array("tokenizer.ggml.token_type", GgufType::INT32);
    QAT_CHECK(v.array_size() == n, path, ": key 'tokenizer.ggml.token_type' has ", v.array_size(),
              " entries, expected ", n);
    for (size_t i = 0; i < n; ++i) {
      int32_t t;
      std::memcpy(&t, v.raw.data() + 4 * i, 4);
      QAT_CHECK(t >= 1 && t <= 6, path, ": key 'tokenizer.ggml.token_type': token ", i, " has type ", t,
                ", expected 1..6");
      d.kinds[i] = Kind(t);
    }
  }
  // The "gpt2" path of the converter types <0xNN> NORMAL; llama.cpp finds
  // byte-fallback tokens by that text whatever their type, and so do we.
  for (size_t i = 0; i < n; ++i)
    if (d.kinds[i] == Kind::Normal && tok::is_byte_piece(d.pieces[i])) d.kinds[i] = Kind::Byte;
  if (g.find("tokenizer.ggml.scores")) {
    const GgufValue& v = g.get_array("tokenizer.ggml.scores", GgufType::FLOAT32);
    QAT_CHECK(v.array_size() == n, path, ": key 'tokenizer.ggml.scores' has ", v.array_size(),
              " entries, expected ", n);
    d.scores.resize(n);
    std::memcpy(d.scores.data(), v.raw.data(), 4 * n);
  }
  QAT_CHECK(!llama || !d.scores.empty(), path, ": missing key 'tokenizer.ggml.scores' (needed by model \"llama\")");

  // Added tokens: CONTROL, USER_DEFINED and UNKNOWN are matched whole. The
  // converter wrote USER_DEFINED "▁" as a space: keep the HF piece ("▁") for
  // BPE and decoding, and match both spellings.
  d.special.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Kind k = d.kinds[i];
    if (k != Kind::Control && k != Kind::UserDefined && k != Kind::Unknown) continue;
    if (k == Kind::UserDefined && d.pieces[i].find(' ') != std::string::npos) {
      d.added.push_back({d.pieces[i], int32_t(i), false});
      d.pieces[i] = tok::replace_all(d.pieces[i], " ", tok::kSpaceMark);
    }
    d.added.push_back({d.pieces[i], int32_t(i), false});
    d.special[i] = k != Kind::UserDefined && !hf_plain_added(d.pieces[i]);
  }

  auto id_key = [&](const char* key, const char* name) -> int32_t {
    if (auto v = g.get_uint_opt(key)) {
      QAT_CHECK(*v < n, path, ": key '", key, "' is ", *v, ", outside the vocabulary (", n, " tokens)");
      return int32_t(*v);
    }
    for (size_t i = 0; i < n; ++i)
      if (d.pieces[i] == name) return int32_t(i);
    return -1;
  };
  d.ids.bos = id_key("tokenizer.ggml.bos_token_id", "<bos>");
  d.ids.eos = id_key("tokenizer.ggml.eos_token_id", "<eos>");
  d.ids.unk = id_key("tokenizer.ggml.unknown_token_id", "<unk>");
  d.ids.pad = id_key("tokenizer.ggml.padding_token_id", "<pad>");
  d.add_bos = g.get_bool_opt("tokenizer.ggml.add_bos_token", true);
  d.add_eos = g.get_bool_opt("tokenizer.ggml.add_eos_token", false);
  d.chat_template = g.get_string_opt("tokenizer.chat_template").value_or("");
  tok::guess_special_ids(d);

  if (llama) return std::make_unique<tok::GemmaTokenizer>(std::move(d));

  // gemma4 / gpt2: BPE by merge rank; llama.cpp cuts newline runs first.
  d.split_newline_runs = true;
  const GgufValue& mv = g.get_array("tokenizer.ggml.merges", GgufType::STRING);
  d.merges_field = "key 'tokenizer.ggml.merges'";
  std::vector<tok::GemmaTokenizer::MergeText> merges;
  merges.reserve(mv.strs.size());
  for (size_t r = 0; r < mv.strs.size(); ++r) {
    const std::string_view m = mv.strs[r];
    const size_t sp = m.find(' ', 1);  // as llama.cpp: a piece may start with a space
    QAT_CHECK(sp != std::string::npos, path, ": key 'tokenizer.ggml.merges': entry ", r, " \"", m,
              "\" is not \"left right\"");
    merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  return std::make_unique<tok::GemmaTokenizer>(std::move(d), merges);
}

namespace tok {

void GemmaTokenizer::write_gguf(GgufWriter& w) const { write_gguf_padded(w, vocab_size()); }

void GemmaTokenizer::write_gguf_padded(GgufWriter& w, int32_t n_vocab) const {
  QAT_CHECK(data_.export_blocker.empty(), "write_gguf: ", data_.source, ": ", data_.export_blocker);
  QAT_CHECK(n_vocab >= vocab_size(), "write_gguf: cannot pad ", vocab_size(), " tokens down to ", n_vocab);
  const size_t n = size_t(vocab_size());
  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<float> scores = gguf_scores();
  scores.resize(size_t(n_vocab), -1000.0f);
  std::vector<int32_t> types(size_t(n_vocab), int32_t(Kind::Unused));
  for (size_t i = 0; i < n; ++i) {
    Kind k = data_.kinds[i];
    std::string t = data_.pieces[i];
    if (k == Kind::UserDefined && looks_special(t)) k = Kind::Control;
    // Gemma's "▁▁".."▁"x31 added tokens: the converter writes them USER_DEFINED
    // with spaces, which makes llama.cpp cut space runs out before BPE and
    // differ from HF next to a literal "▁". Written NORMAL with their merge
    // scores, llama.cpp's merge-by-score makes them exactly as HF's BPE does,
    // and decodes them to spaces (llama.cpp prints USER_DEFINED text raw).
    if (k == Kind::UserDefined && t.find(kSpaceMark) != std::string::npos) k = Kind::Normal;
    tokens[i] = std::move(t);
    types[i] = int32_t(k);
  }
  for (size_t i = n; i < size_t(n_vocab); ++i) tokens[i] = cat("[PAD", i, "]");

  w.set("tokenizer.ggml.model", GgufValue::string("llama"));
  w.set("tokenizer.ggml.pre", GgufValue::string("default"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(std::move(tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  const SpecialIds& s = data_.ids;
  if (s.bos >= 0) w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(uint32_t(s.bos)));
  if (s.eos >= 0) w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(uint32_t(s.eos)));
  if (s.unk >= 0) w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(uint32_t(s.unk)));
  if (s.pad >= 0) w.set("tokenizer.ggml.padding_token_id", GgufValue::u32(uint32_t(s.pad)));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(data_.add_bos));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(data_.add_eos));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  w.set("tokenizer.chat_template",
        GgufValue::string(data_.chat_template.empty() ? std::string(kGemmaChatTemplate) : data_.chat_template));
}

}  // namespace tok
}  // namespace qat
