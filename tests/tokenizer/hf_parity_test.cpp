// The real Gemma 3 tokenizer against HF `tokenizers` (fixtures from
// tools/reference/make_tokenizer_fixtures.py): ids with and without <bos>,
// decode with and without skip_special_tokens, and decode(encode(s)) == s.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::fixture;
using test::gemma3;
using test::ids_of;
using test::read_jsonl;
using test::show;

TEST(TokenizerHfParity, FixtureIsBigEnough) {
  const auto rows = read_jsonl(fixture("gemma3_encode.jsonl"));
  EXPECT_GE(rows.size(), 400u);
}

TEST(TokenizerHfParity, EncodeMatchesHf) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = gemma3();
  int bad = 0;
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    const std::string text = r["text"];
    const auto got = t.encode(text, false);
    const auto got_bos = t.encode(text, true);
    if (got != ids_of(r["ids"]) || got_bos != ids_of(r["ids_bos"])) {
      ADD_FAILURE() << "encode(\"" << show(text) << "\") differs from HF";
      if (++bad > 10) break;
    }
  }
}

TEST(TokenizerHfParity, DecodeMatchesHf) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = gemma3();
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    const auto ids = ids_of(r["ids_bos"]);
    EXPECT_EQ(t.decode(ids, false), r["decode"].get<std::string>()) << show(r["text"]);
    EXPECT_EQ(t.decode(ids, true), r["decode_skip"].get<std::string>()) << show(r["text"]);
  }
  for (const auto& r : read_jsonl(fixture("gemma3_decode.jsonl"))) {
    const auto ids = ids_of(r["ids"]);
    EXPECT_EQ(t.decode(ids, false), r["decode"].get<std::string>()) << r["ids"].dump();
    EXPECT_EQ(t.decode(ids, true), r["decode_skip"].get<std::string>()) << r["ids"].dump();
  }
}

// Lossless, except that a literal "▁" (U+2581) in the input is Gemma's own
// space mark and comes back as a space (HF does the same).
std::string expected_round_trip(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(TokenizerHfParity, DecodeOfEncodeIsIdentity) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = gemma3();
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    const std::string text = r["text"];
    EXPECT_EQ(t.decode(t.encode(text, false)), expected_round_trip(text)) << show(text);
    EXPECT_EQ(t.decode(t.encode(text, true)), "<bos>" + expected_round_trip(text)) << show(text);
  }
}

TEST(TokenizerHfParity, TokenBytesConcatenateToDecode) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = gemma3();
  for (const auto& r : read_jsonl(fixture("gemma3_encode.jsonl"))) {
    const std::string text = r["text"];
    std::string bytes;
    for (int32_t id : t.encode(text, false)) bytes += t.token_bytes(id);
    EXPECT_EQ(bytes, expected_round_trip(text)) << show(text);
  }
}

TEST(TokenizerHfParity, SpecialIdsAndConfig) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = gemma3();
  EXPECT_EQ(t.vocab_size(), 262145);  // 262,144 pieces + <image_soft_token>
  EXPECT_EQ(t.special().bos, 2);
  EXPECT_EQ(t.special().eos, 106);  // tokenizer_config.json (instruction-tuned): eos is <end_of_turn>
  EXPECT_EQ(t.special().pad, 0);
  EXPECT_EQ(t.special().unk, 3);
  EXPECT_EQ(t.special().start_of_turn, 105);
  EXPECT_EQ(t.special().end_of_turn, 106);
  EXPECT_TRUE(t.add_bos_token());
  EXPECT_TRUE(t.is_special(2));
  EXPECT_TRUE(t.is_special(106));
  EXPECT_FALSE(t.is_special(4));  // <mask> is an added token but not special in HF
  EXPECT_FALSE(t.is_special(107));  // "\n"
  EXPECT_NE(t.chat_template().find("<start_of_turn>"), std::string::npos);
  EXPECT_EQ(t.token_bytes(107), "\n");
  EXPECT_EQ(t.token_bytes(138), "  ");                         // "▁▁"
  EXPECT_EQ(t.token_bytes(t.encode("\xC3", false).at(0)), "\xC3");  // a lone byte token
}

}  // namespace
}  // namespace qat
