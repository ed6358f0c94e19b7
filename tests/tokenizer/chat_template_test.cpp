// apply_chat_template against transformers' rendering of Gemma 3's jinja
// template (fixture), and the errors it must raise.
#include <gtest/gtest.h>

#include "base/error.h"
#include "tokenizer_test_util.h"

namespace qat {
namespace {

using test::fixture;

TEST(ChatTemplate, MatchesTransformers) {
  std::ifstream f(fixture("chat_template.json"));
  const auto cases = nlohmann::json::parse(f);
  int rendered = 0, rejected = 0;
  for (const auto& c : cases) {
    std::vector<ChatMessage> msgs;
    for (const auto& m : c["messages"]) msgs.push_back({m["role"], m["content"]});
    const bool gen = c["add_generation_prompt"];
    if (c.contains("rendered")) {
      ++rendered;
      // The jinja template starts with {{ bos_token }}; ours leaves <bos> to encode().
      EXPECT_EQ("<bos>" + apply_chat_template(msgs, gen), c["rendered"].get<std::string>()) << c.dump();
    } else {
      ++rejected;
      EXPECT_THROW(apply_chat_template(msgs, gen), Error) << c.dump();
    }
  }
  EXPECT_GE(rendered, 20);
  EXPECT_GE(rejected, 8);
}

TEST(ChatTemplate, ErrorsSayWhatIsWrong) {
  try {
    apply_chat_template({{"user", "a"}, {"user", "b"}});
    FAIL() << "two user turns in a row were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("message 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("alternate"), std::string::npos) << e.what();
  }
  EXPECT_THROW(apply_chat_template({}), Error);
}

TEST(ChatTemplate, EncodesToTurnTokens) {
  QAT_REQUIRE_GEMMA3();
  const Tokenizer& t = test::gemma3();
  const auto ids = t.encode(apply_chat_template({{"user", "Hi"}}), true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], t.special().bos);
  EXPECT_EQ(ids[1], t.special().start_of_turn);
  EXPECT_EQ(ids[ids.size() - 3], t.special().start_of_turn);  // ... <start_of_turn> model \n
}

}  // namespace
}  // namespace qat
