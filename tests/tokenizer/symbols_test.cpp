// Tokenizer::with_symbols: the byte-level vocabulary plus whole-word feature
// symbols, each one token, kept through a GGUF round trip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "formats/gguf.h"
#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::TempDir;

const std::vector<std::string> kSymbols = {"<a:1>", "<c:grocery>", "<a:10>", "<age=lt0>", "<r:none>"};

int32_t byte_id(unsigned char b) { return 7 + int32_t(b); }  // after <pad> <eos> <bos> <unk> <mask> <sot> <eot>

TEST(TokenizerSymbols, VocabularyLayout) {
  const auto t = Tokenizer::with_symbols(kSymbols);
  EXPECT_EQ(t->vocab_size(), 264 + int32_t(kSymbols.size()));
  EXPECT_EQ(Tokenizer::with_symbols({})->vocab_size(), 264);
  for (size_t i = 0; i < kSymbols.size(); ++i) {
    EXPECT_EQ(t->token_bytes(int32_t(264 + i)), kSymbols[i]);
    EXPECT_FALSE(t->is_special(int32_t(264 + i))) << kSymbols[i];
  }
  EXPECT_EQ(t->token_bytes(byte_id('x')), "x");
  EXPECT_EQ(t->token_bytes(263), " ");
  EXPECT_EQ(t->special().bos, 2);
}

TEST(TokenizerSymbols, SymbolsEncodeToOneTokenEach) {
  const auto t = Tokenizer::with_symbols(kSymbols);
  EXPECT_EQ(t->encode("<a:1><c:grocery>", false), (std::vector<int32_t>{264, 265}));
  EXPECT_EQ(t->encode("<c:grocery><a:1>", true), (std::vector<int32_t>{2, 265, 264}));
  // "<a:10>" is not "<a:1>" followed by bytes.
  EXPECT_EQ(t->encode("<a:10><a:1><r:none><age=lt0>", false), (std::vector<int32_t>{266, 264, 268, 267}));
}

TEST(TokenizerSymbols, PlainBytesAroundSymbols) {
  const auto t = Tokenizer::with_symbols(kSymbols);
  EXPECT_EQ(t->encode("x<a:1>y", false), (std::vector<int32_t>{byte_id('x'), 264, byte_id('y')}));
  // A symbol-like string not in the vocabulary is plain bytes.
  std::vector<int32_t> bytes;
  for (unsigned char c : std::string("<a:2>")) bytes.push_back(byte_id(c));
  EXPECT_EQ(t->encode("<a:2>", false), bytes);
  // A space is the "▁" token.
  EXPECT_EQ(t->encode("<a:1> <a:1>", false), (std::vector<int32_t>{264, 263, 264}));
}

TEST(TokenizerSymbols, DecodeRoundTrip) {
  const auto t = Tokenizer::with_symbols(kSymbols);
  for (const std::string text : {"<a:1><c:grocery>", "x<a:1>y", "<a:10> and <a:2>, caf\xc3\xa9", "", "<r:none"}) {
    EXPECT_EQ(t->decode(t->encode(text, false)), text) << test::show(text);
    EXPECT_EQ(t->decode(t->encode(text, true), true), text) << test::show(text);
  }
}

TEST(TokenizerSymbols, BadSymbolsThrow) {
  EXPECT_THROW(Tokenizer::with_symbols({"<a>", "<b>", "<a>"}), Error);
  EXPECT_THROW(Tokenizer::with_symbols({"<a>", ""}), Error);
  EXPECT_THROW(Tokenizer::with_symbols({"<bos>"}), Error);   // an existing special token
  EXPECT_THROW(Tokenizer::with_symbols({"<0x41>"}), Error);  // an existing byte token
}

TEST(TokenizerSymbols, SurvivesGgufRoundTrip) {
  const auto t = Tokenizer::with_symbols(kSymbols);
  TempDir dir;
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("gemma3"));
  t->write_gguf(w);
  const std::string path = dir.file("symbols.gguf");
  w.write(path, false);
  const auto g = Tokenizer::from_gguf(*GgufFile::open(path));
  EXPECT_EQ(g->vocab_size(), t->vocab_size());
  for (const std::string text : {"<a:1><c:grocery>", "x<a:1>y", "<a:10><a:1><r:none><age=lt0>", "<a:1> <a:2>"}) {
    EXPECT_EQ(g->encode(text, true), t->encode(text, true)) << text;
    EXPECT_EQ(g->decode(g->encode(text, false)), text);
  }
  EXPECT_EQ(g->encode("<a:1><c:grocery>", false), (std::vector<int32_t>{264, 265}));
}

}  // namespace
}  // namespace qat
