// encode_prefix(text, bos, k) is the first k ids of encode(text, bos) for
// every kind of tokenizer the project builds: the real Gemma 3 one (word
// split, added tokens; when the shared data is here), SentencePiece-backed,
// byte-level and word-symbol vocabularies, on the tokenizer fixtures' texts
// one by one and all of them joined into one long text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::fixture;
using test::read_jsonl;
using test::show;

std::vector<std::string> fixture_texts() {
  std::vector<std::string> texts;
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) texts.push_back(r["text"].get<std::string>());
  std::string joined;
  for (const auto& t : texts) joined += t + (joined.size() % 3 ? " \n" : "  ");
  texts.push_back(joined);
  return texts;
}

void expect_prefixes(const Tokenizer& t, const std::string& name) {
  int bad = 0;
  for (const std::string& text : fixture_texts())
    for (bool bos : {false, true}) {
      const std::vector<int32_t> all = t.encode(text, bos);
      for (size_t k : {size_t(0), size_t(1), size_t(2), size_t(5), size_t(17), size_t(128), all.size() - 1,
                       all.size(), all.size() + 9}) {
        if (k > all.size() + 9) continue;  // all.size() - 1 when empty
        const std::vector<int32_t> want(all.begin(), all.begin() + long(std::min(k, all.size())));
        if (t.encode_prefix(text, bos, k) != want && ++bad <= 5)
          ADD_FAILURE() << name << ": encode_prefix(\"" << show(text.substr(0, 80)) << "\", " << bos << ", " << k
                        << ") is not the first " << k << " ids of encode";
      }
    }
}

TEST(TokenizerPrefix, EncodePrefixIsThePrefixOfEncode) {
  expect_prefixes(*Tokenizer::byte_level(300), "byte-level");
  expect_prefixes(*Tokenizer::with_symbols({"<a:1>", "<c:grocery>", "<now>"}), "symbols");
  expect_prefixes(*Tokenizer::from_sentencepiece(fixture("spm_test.model")), "sentencepiece");
}

TEST(TokenizerPrefix, EncodePrefixOfTheRealGemma3Tokenizer) {
  QAT_REQUIRE_GEMMA3();
  expect_prefixes(test::gemma3(), "gemma3");
}

}  // namespace
}  // namespace qat
