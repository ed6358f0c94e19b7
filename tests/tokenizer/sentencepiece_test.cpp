// The small SentencePiece BPE model trained by make_tokenizer_fixtures.py
// (byte fallback, user-defined <start_of_turn>/<end_of_turn>): ids against
// the python sentencepiece package, and the same ids after export to GGUF
// and tokenizer.json, and from llama.cpp's conversions of it.
#include <gtest/gtest.h>

#include <cstdlib>

#include "formats/gguf.h"
#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::fixture;
using test::ids_of;
using test::read_jsonl;
using test::show;
using test::TempDir;

// Number of fixture strings whose ids differ (printing the first few),
// skipping strings that contain one of `known` (differences explained where
// the test lists them).
int count_mismatches(const Tokenizer& t, const char* what, std::vector<std::string> known = {}) {
  int bad = 0;
  for (const auto& r : read_jsonl(fixture("spm_encode.jsonl"))) {
    const std::string text = r["text"];
    bool skip = false;
    for (const auto& k : known) skip = skip || text.find(k) != std::string::npos;
    if (skip) continue;
    if (t.encode(text, false) != ids_of(r["ids"]) && ++bad <= 5)
      ADD_FAILURE() << what << ": encode(\"" << show(text) << "\") differs from sentencepiece";
  }
  return bad;
}

std::unique_ptr<Tokenizer> spm() { return Tokenizer::from_sentencepiece(fixture("spm_test.model")); }

TEST(TokenizerSentencePiece, MatchesPythonSentencePiece) {
  const auto t = spm();
  EXPECT_EQ(t->vocab_size(), 1200);
  EXPECT_EQ(t->special().bos, 2);
  EXPECT_EQ(t->special().eos, 1);
  EXPECT_EQ(t->special().pad, 0);
  EXPECT_EQ(t->special().unk, 3);
  EXPECT_EQ(t->special().start_of_turn, 4);
  EXPECT_EQ(t->special().end_of_turn, 5);
  EXPECT_EQ(count_mismatches(*t, "tokenizer.model"), 0);
  const auto ids = t->encode("<start_of_turn>user\nHi", true);
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], 2);
  EXPECT_EQ(ids[1], 4);
}

TEST(TokenizerSentencePiece, DecodeOfEncodeIsIdentity) {
  const auto t = spm();
  for (const auto& r : read_jsonl(fixture("spm_encode.jsonl"))) {
    const std::string text = r["text"];
    if (text.find("\xE2\x96\x81") != std::string::npos) continue;  // "▁" comes back as a space
    EXPECT_EQ(t->decode(t->encode(text, false)), text) << show(text);
  }
}

TEST(TokenizerSentencePiece, GgufExportKeepsIds) {
  TempDir dir;
  GgufWriter w;
  spm()->write_gguf(w);
  w.write(dir.file("spm.gguf"), false);
  const auto t = Tokenizer::from_gguf(*GgufFile::open(dir.file("spm.gguf")));
  EXPECT_EQ(count_mismatches(*t, "our GGUF of tokenizer.model"), 0);
}

TEST(TokenizerSentencePiece, HfExportKeepsIds) {
  TempDir dir;
  spm()->write_hf(dir.path());
  if (const char* keep = std::getenv("QAT_TOKENIZER_EXPORT_DIR")) spm()->write_hf(std::string(keep) + "/spm");
  const auto t = Tokenizer::from_hf_dir(dir.path());
  EXPECT_EQ(count_mismatches(*t, "our tokenizer.json of tokenizer.model"), 0);
  EXPECT_EQ(t->special().bos, 2);
  EXPECT_TRUE(t->add_bos_token());
}

// What transformers' GemmaConverter makes of the model: our loader agrees
// with sentencepiece on it too.
TEST(TokenizerSentencePiece, TransformersConvertedJson) {
  TempDir dir;
  std::filesystem::copy_file(fixture("spm_test_tokenizer.json"), dir.file("tokenizer.json"));
  const auto t = Tokenizer::from_tokenizer_json(dir.file("tokenizer.json"));
  EXPECT_EQ(t->vocab_size(), 1201);  // + <mask>, which transformers adds (so "<mask>" is one token)
  EXPECT_EQ(t->encode("<mask>", false), std::vector<int32_t>{1200});
  EXPECT_EQ(count_mismatches(*t, "transformers' tokenizer.json", {"<mask>"}), 0);
}

// llama.cpp's converter on the same model, as Gemma 3 (model "llama" from
// tokenizer.model) and Gemma 4 (model "gemma4" with merges).
TEST(TokenizerSentencePiece, LlamaCppConvertedFiles) {
  // The sentencepiece API cannot tell user-defined pieces, so without an
  // added_tokens_decoder in tokenizer_config.json the converter types
  // <start_of_turn>/<end_of_turn> NORMAL and llama.cpp (and we, reading its
  // file) spell them out piece by piece. Everything else agrees.
  const auto g3 = Tokenizer::from_gguf(*GgufFile::open(fixture("spm_llamacpp.gguf")));
  EXPECT_EQ(g3->vocab_size(), 1200);
  EXPECT_EQ(count_mismatches(*g3, "llama.cpp gemma3 GGUF", {"<start_of_turn>", "<end_of_turn>"}), 0);
  EXPECT_NE(g3->encode("<start_of_turn>", false), std::vector<int32_t>{4});
  const auto g4 = Tokenizer::from_gguf(*GgufFile::open(fixture("spm_llamacpp_gemma4.gguf")));
  EXPECT_EQ(g4->vocab_size(), 1201);
  EXPECT_EQ(g4->encode("<start_of_turn>", false), std::vector<int32_t>{4});
  EXPECT_EQ(count_mismatches(*g4, "llama.cpp gemma4 GGUF", {"<mask>"}), 0);
}

}  // namespace
}  // namespace qat
