// Utf8Stream: streaming generated tokens must print whole characters only,
// and the streamed text must equal the one-shot decode.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace qat {
namespace {

TEST(Utf8Stream, HoldsBackPartialCharacters) {
  Utf8Stream s;
  EXPECT_EQ(s.push("a\xE2"), "a");
  EXPECT_EQ(s.push("\x82"), "");
  EXPECT_EQ(s.push("\xAC!"), "\xE2\x82\xAC!");  // "€!"
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.push("\x9A\x80"), "\xF0\x9F\x9A\x80");  // 🚀
  EXPECT_EQ(s.flush(), "");
}

TEST(Utf8Stream, BrokenBytesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  Utf8Stream s;
  EXPECT_EQ(s.push("\x80x"), fffd + "x");           // stray continuation byte
  EXPECT_EQ(s.push("\xE2\x82y"), fffd + "y");       // sequence cut by an ASCII byte
  EXPECT_EQ(s.push("\xC0\xAF"), fffd + fffd);       // overlong lead bytes never start a character
  EXPECT_EQ(s.push("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate is not valid UTF-8
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.flush(), fffd);  // unfinished at the end
  EXPECT_EQ(s.flush(), "");
}

TEST(Utf8Stream, StreamingTokensEqualsDecode) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = test::gemma3();
  for (const auto& r : test::read_jsonl(test::fixture("gemma3_encode.jsonl"))) {
    const auto ids = test::ids_of(r["ids"]);
    Utf8Stream s;
    std::string streamed;
    for (int32_t id : ids) {
      const std::string piece = s.push(t.token_bytes(id));
      // Every chunk handed out is whole characters.
      EXPECT_TRUE(piece.empty() || (uint8_t(piece[0]) & 0xC0) != 0x80) << test::show(r["text"]);
      streamed += piece;
    }
    streamed += s.flush();
    EXPECT_EQ(streamed, t.decode(ids)) << test::show(r["text"]);
  }
}

}  // namespace
}  // namespace qat
