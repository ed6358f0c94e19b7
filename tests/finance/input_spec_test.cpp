// What a scoring model reads (input_spec.h): the JSON stored in its GGUF and
// turning one JSON record into the model's text.
#include "finance/input_spec.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"
#include "finance/fraud_features.h"

namespace qat {
namespace {

using json = nlohmann::json;

TableFeatures small_table() {
  Table t;
  t.columns = {"age", "purpose", "code"};
  for (int i = 0; i < 20; ++i)
    t.rows.push_back({std::to_string(20 + i), i % 2 ? "car" : "radio/tv", std::to_string(i % 3)});
  return TableFeatures::fit(t, t.columns, 4, 12);  // age: numeric, edges 25 30 35
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  }
}

TEST(InputSpec, RoundTripsAllKinds) {
  InputSpec fraud;
  fraud.kind = InputSpec::Kind::Fraud;
  fraud.positive = "fraud";
  fraud.max_tokens = 70;
  InputSpec back = InputSpec::parse(fraud.to_string());
  EXPECT_EQ(back.kind, InputSpec::Kind::Fraud);
  EXPECT_EQ(back.positive, "fraud");
  EXPECT_EQ(back.max_tokens, 70);
  EXPECT_EQ(back.to_string(), fraud.to_string());

  InputSpec table;
  table.kind = InputSpec::Kind::Table;
  table.table = small_table();
  table.positive = "bad";
  table.max_tokens = 4;
  back = InputSpec::parse(table.to_string());
  EXPECT_EQ(back.kind, InputSpec::Kind::Table);
  EXPECT_EQ(back.positive, "bad");
  EXPECT_EQ(back.max_tokens, 4);
  EXPECT_EQ(back.table.to_json(), table.table.to_json());
  EXPECT_EQ(back.to_string(), table.to_string());
  const json rec = {{"age", "33"}, {"purpose", "car"}, {"code", "1"}};
  EXPECT_EQ(back.render(rec), table.render(rec));
  EXPECT_EQ(back.render(rec), "<age:q2><purpose=car><code=1>");

  InputSpec text;
  text.kind = InputSpec::Kind::Text;
  text.field = "message body";
  text.positive = "scam";
  text.max_tokens = 512;
  text.max_bytes = 4000;
  back = InputSpec::parse(text.to_string());
  EXPECT_EQ(back.max_bytes, 4000);
  EXPECT_EQ(back.kind, InputSpec::Kind::Text);
  EXPECT_EQ(back.field, "message body");
  EXPECT_EQ(back.positive, "scam");
  EXPECT_EQ(back.max_tokens, 512);
  EXPECT_EQ(back.to_string(), text.to_string());

  // The documented minimal forms; positive and max_tokens are optional.
  back = InputSpec::parse(R"({"kind": "text", "field": "text"})");
  EXPECT_EQ(back.field, "text");
  EXPECT_EQ(back.positive, "");
  EXPECT_EQ(back.max_tokens, 0);
  EXPECT_EQ(back.max_bytes, 0);
}

TEST(InputSpec, ParseErrors) {
  expect_error([] { InputSpec::parse("{kind: fraud"); }, {"not JSON"});
  expect_error([] { InputSpec::parse("[1, 2]"); }, {"kind"});
  expect_error([] { InputSpec::parse(R"({"kind": "image"})"); }, {"unknown kind", "image"});
  expect_error([] { InputSpec::parse(R"({"kind": "text"})"); }, {"field"});
  expect_error([] { InputSpec::parse(R"({"kind": "text", "field": 3})"); }, {"field"});
  expect_error([] { InputSpec::parse(R"({"kind": "table"})"); }, {"features"});
  expect_error([] { InputSpec::parse(R"({"kind": "table", "features": {"columns": 1}})"); }, {"columns"});
  expect_error([] { InputSpec::parse(R"({"kind": "fraud", "max_tokens": -1})"); }, {"max_tokens"});
  expect_error([] { InputSpec::parse(R"({"kind": "fraud", "max_tokens": 1.5})"); }, {"max_tokens"});
  expect_error([] { InputSpec::parse(R"({"kind": "fraud", "max_tokens": "64"})"); }, {"max_tokens"});
  expect_error([] { InputSpec::parse(R"({"kind": "fraud", "max_tokens": 10000000000})"); }, {"max_tokens"});
  expect_error([] { InputSpec::parse(R"({"kind": "text", "field": "t", "max_bytes": -5})"); }, {"max_bytes"});
  expect_error([] { InputSpec::parse(R"({"kind": "text", "field": "t", "max_bytes": "4000"})"); }, {"max_bytes"});
}

TEST(InputSpec, RenderText) {
  InputSpec s = InputSpec::parse(R"({"kind": "text", "field": "body"})");
  EXPECT_EQ(s.render({{"body", "Your parcel is waiting <click>"}, {"from", "x"}}), "Your parcel is waiting <click>");
  expect_error([&] { s.render({{"text", "hello"}}); }, {"body", "missing"});
  expect_error([&] { s.render({{"body", 42}}); }, {"body", "string"});
  expect_error([&] { s.render(json::array({"body"})); }, {"object"});
  // A message is cut to the bytes training kept, before tokenizing.
  s.max_bytes = 7;
  EXPECT_EQ(s.render({{"body", "Your parcel is waiting"}}), "Your pa");
  EXPECT_EQ(s.render({{"body", "short"}}), "short");
}

TEST(InputSpec, RenderFraudMatchesFraudEventText) {
  const InputSpec s = InputSpec::parse(R"({"kind": "fraud"})");
  const json rec = json::parse(R"({"history": [{"time_s": 0, "amount": 20, "category": "grocery",
      "channel": "pos", "merchant": 1}], "transaction": {"time_s": 59, "amount": 20, "category": "grocery",
      "distance_km": 2, "channel": "pos", "merchant": 1}})");
  EXPECT_EQ(s.render(rec), fraud_event_text(fraud_event_from_json(rec)));
  EXPECT_EQ(s.render(rec),
            "<t><c:grocery><a:4><g:first><h:0><d:0><ch:pos><dev:card><m:new>"
            "<now><c:grocery><a:4><g:0><h:0><d:1><ch:pos><dev:card><m:known><r:3>");
  expect_error([&] { s.render({{"transaction", {{"amount", 1}}}}); }, {"transaction"});
}

TEST(InputSpec, RenderTableNumbersAsTheirText) {
  InputSpec s;
  s.kind = InputSpec::Kind::Table;
  s.table = small_table();
  // A JSON number and the string of the same value give the same symbols,
  // for a numeric column and for a categorical one holding numbers.
  EXPECT_EQ(s.render({{"age", 35}, {"purpose", "car"}, {"code", 2}}),
            s.render({{"age", "35"}, {"purpose", "car"}, {"code", "2"}}));
  EXPECT_EQ(s.render({{"age", 35}, {"purpose", "car"}, {"code", 2}}), "<age:q3><purpose=car><code=2>");
  EXPECT_EQ(s.render({{"age", 24.5}, {"code", 0}}), s.render({{"age", "24.5"}, {"code", "0"}}));
  EXPECT_EQ(s.render({{"age", 24.5}, {"code", 0}}), "<age:q0><purpose:na><code=0>");
  // null and absent fields are missing; unknown fields are ignored.
  EXPECT_EQ(s.render({{"age", nullptr}, {"purpose", "boat"}, {"income", 5}}), "<age:na><purpose=(other)><code:na>");
  expect_error([&] { s.render({{"income", 5}, {"name", "x"}}); }, {"none of the model's fields"});
  expect_error([&] { s.render(json::object()); }, {"none of the model's fields"});
  expect_error([&] { s.render({{"age", {{"years", 35}}}}); }, {"age", "string or a number"});
  expect_error([&] { s.render({{"age", 30}, {"purpose", json::array({"car"})}}); }, {"purpose"});
  // A number column takes numbers or a missing marker; other text is refused, not read as missing.
  EXPECT_EQ(s.render({{"age", "NA"}, {"code", 1}}), s.render({{"age", ""}, {"code", 1}}));
  EXPECT_EQ(s.render({{"age", " +31 "}, {"code", 1}}), s.render({{"age", 31}, {"code", 1}}));
  expect_error([&] { s.render({{"age", "thirty"}, {"code", 1}}); }, {"\"age\" must be a number", "thirty"});
  expect_error([&] { s.render({{"age", true}}); }, {"\"age\" must be a number", "true"});
  expect_error([&] { s.render({{"age", "1e999"}}); }, {"\"age\" must be a number"});
  // Categorical columns take any text (unseen values are "(other)").
  EXPECT_EQ(s.render({{"age", 31}, {"purpose", true}}), "<age:q2><purpose=(other)><code:na>");
}

// The demo writes test records keyed by the original column names; a column
// whose name had to be sanitized for its symbol must still be found.
TEST(InputSpec, RenderTableFindsColumnsWithSanitizedNames) {
  Table t;
  t.columns = {"loan amount", "home"};
  for (int i = 0; i < 30; ++i) t.rows.push_back({std::to_string(1000 * (i + 1)), i % 2 ? "rent" : "own"});
  InputSpec s;
  s.kind = InputSpec::Kind::Table;
  s.table = TableFeatures::fit(t, t.columns, 4, 12);
  const InputSpec& fitted = s;
  const InputSpec back = InputSpec::parse(s.to_string());
  for (const InputSpec* spec : {&fitted, &back}) {
    EXPECT_EQ(spec->render({{"loan amount", 30000}, {"home", "rent"}}), "<loan_amount:q3><home=rent>");
    EXPECT_EQ(spec->render({{"loan amount", "1000"}, {"home", "own"}}), s.table.render_row(t, 0));
  }
}

}  // namespace
}  // namespace qat
