// Malformed tokenizer files: a qat::Error that names the file and the field,
// never a crash or a silently different tokenizer.
#include <gtest/gtest.h>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::TempDir;
using test::write_file;

// A tiny valid Gemma-style tokenizer.json; tests break one part of it.
std::string tiny_json(const std::string& model_extra = "", const std::string& normalizer = "",
                      const std::string& added = "") {
  const std::string norm =
      normalizer.empty() ? R"({"type": "Replace", "pattern": {"String": " "}, "content": "▁"})" : normalizer;
  const std::string add = added.empty() ? R"([{"id": 2, "content": "<bos>", "special": true}])" : added;
  return R"({"version": "1.0", "added_tokens": )" + add + R"(, "normalizer": )" + norm +
         R"(, "pre_tokenizer": null, "post_processor": null,
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
              {"type": "ByteFallback"}, {"type": "Fuse"}]},
  "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, )" +
         model_extra + R"("vocab": {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "a": 4, "b": 5, "ab": 6, "▁": 7},
  "merges": [["a", "b"]]}})";
}

// Loads `json` and returns the error message ("" when it loaded).
std::string load_error(const std::string& json) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), json);
  try {
    Tokenizer::from_tokenizer_json(dir.file("tokenizer.json"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrors, TinyJsonLoads) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), tiny_json());
  const auto t = Tokenizer::from_tokenizer_json(dir.file("tokenizer.json"));
  EXPECT_EQ(t->encode("ab a<bos>", false), (std::vector<int32_t>{6, 7, 4, 2}));
}

TEST(TokenizerErrors, MalformedJsonNamesFileAndField) {
  struct Case {
    std::string json, must_contain;
  };
  const std::vector<Case> cases = {
      {"", "expected '{'"},
      {"{\"model\": ", "found the end of the file"},
      {"[1, 2]", "expected '{'"},
      {tiny_json() + "x", "unexpected text"},
      {"{\"version\": \"1.0\"}", "missing field 'model'"},
      {R"({"model": {"type": "Unigram", "vocab": []}})", "model.type"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})", "id 0 is given twice"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}}})", "no token has id 1"},
      {R"({"model": {"type": "BPE", "vocab": {"a": "x"}}})", "expected an integer in model.vocab"},
      {R"({"model": {"type": "BPE", "vocab": {"a": -5}}})", "out of range"},
      {R"({"model": {"type": "BPE", "vocab": {"a\ud800": 0}}})", "unpaired surrogate"},
      {tiny_json("\"ignore_merges\": true, "), "model.ignore_merges"},
      {tiny_json("\"dropout\": 0.1, "), "model.dropout"},
      {tiny_json("\"byte_fallback\": 7, "), "model.byte_fallback"},
      {tiny_json("", R"({"type": "NFKC"})"), "field 'normalizer'"},
      {tiny_json("", "", R"([{"id": 2}])"), "added_tokens[0]"},
      {tiny_json("", "", R"([{"id": 9, "content": "<x>"}])"), "leaves a gap"},
      {tiny_json("", "", R"([{"id": 2, "content": "<not-bos>"}])"), "differs from"},
      {tiny_json("", "", R"([{"id": 2, "content": "<bos>", "lstrip": true}])"), "lstrip"},
      {tiny_json("", "", R"({"not": "an array"})"), "added_tokens"},
  };
  for (const Case& c : cases) {
    const std::string msg = load_error(c.json);
    EXPECT_NE(msg.find("tokenizer.json"), std::string::npos) << "no file name in: " << msg;
    EXPECT_NE(msg.find(c.must_contain), std::string::npos)
        << "for input " << c.json.substr(0, 80) << "\nmessage: " << msg;
  }
}

TEST(TokenizerErrors, BadMergesAreNamed) {
  std::string j = tiny_json();
  j.replace(j.find(R"([["a", "b"]])"), 12, R"([["a", "zz"]])");
  EXPECT_NE(load_error(j).find("model.merges"), std::string::npos);
  j = tiny_json();
  j.replace(j.find(R"([["a", "b"]])"), 12, R"([["b", "a"]])");  // "ba" is not a piece
  EXPECT_NE(load_error(j).find("\"ba\" is not in the vocabulary"), std::string::npos) << load_error(j);
}

TEST(TokenizerErrors, MissingFiles) {
  EXPECT_THROW(Tokenizer::from_tokenizer_json("/nonexistent/tokenizer.json"), Error);
  EXPECT_THROW(Tokenizer::from_sentencepiece("/nonexistent/tokenizer.model"), Error);
  TempDir dir;
  EXPECT_THROW(Tokenizer::from_hf_dir(dir.path()), Error);
  write_file(dir.file("tokenizer.model"), "not a protobuf");
  EXPECT_THROW(Tokenizer::from_sentencepiece(dir.file("tokenizer.model")), Error);
  write_file(dir.file("tokenizer_config.json"), "{broken");
  write_file(dir.file("tokenizer.json"), tiny_json());
  try {
    Tokenizer::from_hf_dir(dir.path());
    FAIL() << "a broken tokenizer_config.json was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
  }
}

// GGUF: a file whose tokenizer keys are wrong.
std::string gguf_error(const std::function<void(GgufWriter&)>& edit) {
  TempDir dir;
  GgufWriter w;
  Tokenizer::byte_level(300)->write_gguf(w);
  edit(w);
  w.write(dir.file("t.gguf"), false);
  try {
    Tokenizer::from_gguf(*GgufFile::open(dir.file("t.gguf")));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrors, GgufKeysAreChecked) {
  EXPECT_EQ(gguf_error([](GgufWriter&) {}), "");
  EXPECT_NE(gguf_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", GgufValue::string("bert")); })
                .find("tokenizer.ggml.model"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) {
              w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
              w.set("tokenizer.ggml.pre", GgufValue::string("llama3"));
            }).find("tokenizer.ggml.pre"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) { w.set("tokenizer.ggml.model", GgufValue::string("gemma4")); })
                .find("tokenizer.ggml.merges"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) { w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(5000)); })
                .find("tokenizer.ggml.bos_token_id"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) {
              w.set("tokenizer.ggml.token_type", GgufValue::i32_array(std::vector<int32_t>(300, 9)));
            }).find("tokenizer.ggml.token_type"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) { w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(true)); })
                .find("add_space_prefix"),
            std::string::npos);
  EXPECT_NE(gguf_error([](GgufWriter& w) {
              w.set("tokenizer.ggml.model", GgufValue::string("gemma4"));
              w.set("tokenizer.ggml.merges", GgufValue::string_array({"<0x41>"}));
            }).find("tokenizer.ggml.merges"),
            std::string::npos);
}

TEST(TokenizerErrors, ByteLevelNeedsRoom) {
  EXPECT_THROW(Tokenizer::byte_level(100), Error);
  const auto t = Tokenizer::byte_level(263);
  EXPECT_EQ(t->decode(t->encode("ok", true), true), "ok");
}

}  // namespace
}  // namespace qat

namespace qat {
namespace {

// Invalid UTF-8 in the input is not an error: each bad byte becomes its
// <0xNN> token, token_bytes gives the exact input back, decode shows U+FFFD.
TEST(TokenizerErrors, InvalidUtf8InputKeepsItsBytes) {
  const auto t = Tokenizer::byte_level(300);
  const std::string bad = "\xff\xfe abc \xc3 \xe2\x82 end\xf0";
  std::string back;
  for (int32_t id : t->encode(bad, false)) back += t->token_bytes(id);
  EXPECT_EQ(back, bad);
  EXPECT_NE(t->decode(t->encode(bad, false)).find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_THROW(t->token_bytes(300), Error);
  EXPECT_EQ(t->decode({-1, 100000, 7 + 0x43}), "C");  // unknown ids are dropped, as HF does
}

}  // namespace
}  // namespace qat
