// GGUF tokenizer metadata: what we write (model "llama" with synthesized
// scores) must tokenize like HF after a round trip, and what llama.cpp's
// converter writes ("llama" from tokenizer.model, "gemma4" with merges) must
// load and tokenize like the original.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::fixture;
using test::ids_of;
using test::read_jsonl;
using test::show;
using test::TempDir;

std::unique_ptr<Tokenizer> round_trip_gguf(const Tokenizer& t, const TempDir& dir, int32_t pad_to = 0) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("gemma3"));
  if (pad_to)
    t.write_gguf_padded(w, pad_to);
  else
    t.write_gguf(w);
  const std::string path = dir.file("tok.gguf");
  w.write(path, false);
  return Tokenizer::from_gguf(*GgufFile::open(path));
}

// The claim behind writing "llama": with scores = -(rank of the first merge
// making a piece), merging the highest-scoring pair first (SentencePiece /
// llama.cpp) gives the same ids as merging the lowest-rank pair (HF).
TEST(TokenizerGguf, WrittenScoresReproduceHfIds) {
  QAT_REQUIRE_GEMMA3();
  TempDir dir;
  const auto g = round_trip_gguf(test::gemma3(), dir);
  EXPECT_EQ(g->vocab_size(), 262145);
  int bad = 0;
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    const std::string text = r["text"];
    if (g->encode(text, false) != ids_of(r["ids"]) || g->encode(text, true) != ids_of(r["ids_bos"])) {
      ADD_FAILURE() << "GGUF-loaded encode(\"" << show(text) << "\") differs from HF";
      if (++bad > 10) break;
    }
    EXPECT_EQ(g->decode(ids_of(r["ids_bos"])), r["decode"].get<std::string>()) << show(text);
    EXPECT_EQ(g->decode(ids_of(r["ids_bos"]), true), r["decode_skip"].get<std::string>()) << show(text);
  }
}

// The same claim on real English at length: 200 kB of State of the Union.
TEST(TokenizerGguf, WrittenScoresReproduceJsonIdsOnLongText) {
  QAT_REQUIRE_GEMMA3();
  const std::string path = std::string(QAT_SHARED_DATA_DIR) + "/text/sotu.txt";
  std::ifstream f(path, std::ios::binary);
  if (!f) GTEST_SKIP() << path << " is not here";
  std::string text(200000, '\0');
  f.read(text.data(), std::streamsize(text.size()));
  text.resize(size_t(f.gcount()));
  while (!text.empty() && (uint8_t(text.back()) & 0xC0) == 0x80) text.pop_back();  // whole characters
  if (!text.empty() && uint8_t(text.back()) >= 0xC0) text.pop_back();
  TempDir dir;
  const auto g = round_trip_gguf(test::gemma3(), dir);
  const auto a = test::gemma3().encode(text, true), b = g->encode(text, true);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b);
}

TEST(TokenizerGguf, WrittenKeysFollowLlamaCpp) {
  QAT_REQUIRE_GEMMA3();
  TempDir dir;
  GgufWriter w;
  test::gemma3().write_gguf_padded(w, 262208);
  w.write(dir.file("t.gguf"), false);
  const auto g = GgufFile::open(dir.file("t.gguf"));
  EXPECT_EQ(g->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(g->get_string("tokenizer.ggml.pre"), "default");
  const auto& tokens = g->get_array("tokenizer.ggml.tokens", GgufType::STRING).strs;
  ASSERT_EQ(tokens.size(), 262208u);
  EXPECT_EQ(tokens[2], "<bos>");
  EXPECT_EQ(tokens[138], "\xE2\x96\x81\xE2\x96\x81");  // "▁▁": NORMAL, so llama.cpp merges it by score
  EXPECT_EQ(tokens[262207], "[PAD262207]");
  const auto& types = g->get_array("tokenizer.ggml.token_type", GgufType::INT32).raw;
  auto type = [&](size_t i) {
    int32_t v;
    std::memcpy(&v, types.data() + 4 * i, 4);
    return v;
  };
  EXPECT_EQ(type(2), 3);       // <bos>: CONTROL
  EXPECT_EQ(type(4), 3);       // <mask>: CONTROL (llama.cpp's "looks special")
  EXPECT_EQ(type(107), 4);     // "\n": USER_DEFINED
  EXPECT_EQ(type(138), 1);     // "▁▁": NORMAL (see write_gguf_padded)
  EXPECT_EQ(type(238), 6);     // <0x00>: BYTE
  EXPECT_EQ(type(1000), 1);    // NORMAL
  EXPECT_EQ(type(262207), 5);  // padding: UNUSED
  EXPECT_EQ(g->get_uint("tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(g->get_uint("tokenizer.ggml.eos_token_id"), 106u);
  EXPECT_EQ(g->get_uint("tokenizer.ggml.unknown_token_id"), 3u);
  EXPECT_EQ(g->get_uint("tokenizer.ggml.padding_token_id"), 0u);
  EXPECT_TRUE(g->get_bool_opt("tokenizer.ggml.add_bos_token", false));
  EXPECT_FALSE(g->get_bool_opt("tokenizer.ggml.add_eos_token", true));
  EXPECT_FALSE(g->get_bool_opt("tokenizer.ggml.add_space_prefix", true));
  EXPECT_NE(g->get_string("tokenizer.chat_template").find("<start_of_turn>"), std::string::npos);
  // The padded file loads too, and pads never come out of encode.
  const auto t = Tokenizer::from_gguf(*g);
  EXPECT_EQ(t->vocab_size(), 262208);
  EXPECT_EQ(t->encode("Hello world", true), test::gemma3().encode("Hello world", true));
}

// Real-size files from llama.cpp's own converter, when the developer made
// them (tools/reference/make_tokenizer_fixtures.py prints how); too big to commit.
TEST(TokenizerGguf, LlamaCppConvertedGemma3Files) {
  QAT_REQUIRE_GEMMA3();
  const char* dir = std::getenv("QAT_LLAMACPP_GGUF_DIR");
  if (!dir) GTEST_SKIP() << "set QAT_LLAMACPP_GGUF_DIR to a folder with gemma3_llamacpp.gguf / gemma4_llamacpp.gguf";
  for (const char* name : {"gemma3_llamacpp.gguf", "gemma4_llamacpp.gguf"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    const auto t = Tokenizer::from_gguf(*GgufFile::open(path));
    int bad = 0, total = 0;
    for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
      ++total;
      if (t->encode(r["text"], false) != ids_of(r["ids"])) {
        ++bad;
        std::cout << name << " differs on \"" << show(r["text"]) << "\"\n";
      }
    }
    std::cout << name << ": " << total - bad << "/" << total << " fixture strings give HF's ids\n";
  }
}

}  // namespace
}  // namespace qat
