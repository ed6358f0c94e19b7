// write_hf: the tokenizer.json we synthesize (from tokenizer.json or from a
// GGUF) loads back as the same tokenizer. With QAT_TOKENIZER_EXPORT_DIR set,
// the exports are also left there (json/, gguf/, spm/) for
//   make_tokenizer_fixtures.py --check-hf $QAT_TOKENIZER_EXPORT_DIR/{json,gguf,spm}
// which checks that HF tokenizers / transformers give the same ids.
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

// Also writes the export where the python check can find it, if asked.
void keep_export(const Tokenizer& t, const char* name) {
  if (const char* dir = std::getenv("QAT_TOKENIZER_EXPORT_DIR")) t.write_hf(std::string(dir) + "/" + name);
}

void expect_hf_ids(const Tokenizer& t, const char* what) {
  int bad = 0;
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    if (t.encode(r["text"], true) != ids_of(r["ids_bos"]) && ++bad <= 5)
      ADD_FAILURE() << what << ": encode(\"" << show(r["text"]) << "\") differs from HF";
    if (t.decode(ids_of(r["ids_bos"]), true) != r["decode_skip"].get<std::string>() && ++bad <= 5)
      ADD_FAILURE() << what << ": decode of \"" << show(r["text"]) << "\" differs from HF";
  }
}

TEST(TokenizerHfExport, FromTokenizerJson) {
  QAT_REQUIRE_GEMMA3();
  TempDir dir;
  test::gemma3().write_hf(dir.path());
  keep_export(test::gemma3(), "json");
  ASSERT_TRUE(std::filesystem::exists(dir.file("tokenizer_config.json")));
  const auto t = Tokenizer::from_hf_dir(dir.path());
  EXPECT_EQ(t->vocab_size(), 262145);
  EXPECT_EQ(t->special().eos, 106);
  EXPECT_TRUE(t->add_bos_token());
  EXPECT_EQ(t->chat_template(), test::gemma3().chat_template());
  expect_hf_ids(*t, "tokenizer.json -> write_hf");
}

TEST(TokenizerHfExport, FromOurGguf) {
  QAT_REQUIRE_GEMMA3();
  TempDir dir;
  GgufWriter w;
  test::gemma3().write_gguf(w);
  w.write(dir.file("t.gguf"), false);
  const auto g = Tokenizer::from_gguf(*GgufFile::open(dir.file("t.gguf")));
  g->write_hf(dir.file("hf"));
  keep_export(*g, "gguf");
  const auto t = Tokenizer::from_hf_dir(dir.file("hf"));
  expect_hf_ids(*t, "GGUF -> write_hf");
}

TEST(TokenizerHfExport, ByteLevelRoundTrips) {
  const auto b = Tokenizer::byte_level(300);
  TempDir dir;
  b->write_hf(dir.path());
  const auto t = Tokenizer::from_hf_dir(dir.path());
  EXPECT_EQ(t->vocab_size(), 300);
  const std::string s = "héllo <start_of_turn> 🚀";
  EXPECT_EQ(t->encode(s, true), b->encode(s, true));
  EXPECT_EQ(t->decode(t->encode(s, false)), s);
}

}  // namespace
}  // namespace qat
