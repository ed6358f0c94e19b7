// Tabular records as feature symbols (table_features.h): which columns are
// numeric, quantile bins, missing and unseen values, sanitizing, the
// vocabulary and the JSON form stored in a model.
#include "finance/table_features.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"

namespace qat {
namespace {

using json = nlohmann::json;

// 20 applicants aged 20..39, four purposes (one with '<' '>', one with a
// space), a small code 1..3, then two rows with everything missing.
Table applicants() {
  Table t;
  t.source = "applicants.csv";
  t.columns = {"age", "purpose", "code", "unused"};
  const char* purposes[] = {"car", "radio/tv", "a<b>c", "used car"};
  for (int i = 0; i < 20; ++i)
    t.rows.push_back({std::to_string(39 - i), purposes[i % 4], std::to_string(1 + i % 3), "x"});
  t.rows.push_back({"?", "?", "", "x"});
  t.rows.push_back({"", "", "?", "x"});
  return t;
}

const std::vector<std::string> kFeatures = {"age", "purpose", "code"};

std::string render(const TableFeatures& f, const std::map<std::string, std::string>& record) {
  return f.render([&](const std::string& name) -> const std::string* {
    const auto it = record.find(name);
    return it == record.end() ? nullptr : &it->second;
  });
}

std::vector<std::string> symbols_of(const std::string& text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const size_t close = text.find('>', i);
    EXPECT_EQ(text[i], '<') << text;
    EXPECT_NE(close, std::string::npos) << text;
    if (text[i] != '<' || close == std::string::npos) break;
    out.push_back(text.substr(i, close + 1 - i));
    i = close + 1;
  }
  return out;
}

TEST(TableFeatures, FitFindsNumericAndCategoricalColumns) {
  const TableFeatures f = TableFeatures::fit(applicants(), kFeatures, 4, 12);
  ASSERT_EQ(f.columns.size(), 3u);
  EXPECT_EQ(f.columns[0].name, "age");
  EXPECT_TRUE(f.columns[0].numeric);  // 20 distinct numbers > 12
  // Quartiles of 20..39: the values at ranks 5, 10, 15.
  EXPECT_EQ(f.columns[0].edges, (std::vector<double>{25, 30, 35}));
  EXPECT_TRUE(f.columns[0].categories.empty());
  EXPECT_FALSE(f.columns[1].numeric);
  EXPECT_EQ(f.columns[1].categories, (std::vector<std::string>{"altbgtc", "car", "radio/tv", "used_car"}));
  EXPECT_FALSE(f.columns[2].numeric);  // numbers, but only 3 distinct values
  EXPECT_EQ(f.columns[2].categories, (std::vector<std::string>{"1", "2", "3"}));
  // With max_categories below the distinct count, the code column becomes numeric.
  EXPECT_TRUE(TableFeatures::fit(applicants(), {"code"}, 4, 2).columns[0].numeric);
  // More bins than distinct values: duplicate edges are dropped, ascending.
  const TableFeatures many = TableFeatures::fit(applicants(), {"age"}, 64, 12);
  const auto& e = many.columns[0].edges;
  for (size_t i = 1; i < e.size(); ++i) EXPECT_LT(e[i - 1], e[i]);
  EXPECT_LE(e.size(), 20u);
}

TEST(TableFeatures, RenderGivesOneSymbolPerColumn) {
  const TableFeatures f = TableFeatures::fit(applicants(), kFeatures, 4, 12);
  EXPECT_EQ(render(f, {{"age", "20"}, {"purpose", "car"}, {"code", "2"}}), "<age:q0><purpose=car><code=2>");
  EXPECT_EQ(render(f, {{"age", "25"}, {"purpose", "used car"}, {"code", "3"}}), "<age:q1><purpose=used_car><code=3>");
  EXPECT_EQ(render(f, {{"age", "34.9"}, {"purpose", "a<b>c"}, {"code", "1"}}), "<age:q2><purpose=altbgtc><code=1>");
  EXPECT_EQ(render(f, {{"age", "80"}, {"purpose", "radio/tv"}, {"code", "1"}}), "<age:q3><purpose=radio/tv><code=1>");
  EXPECT_EQ(render(f, {{"age", "-5"}, {"purpose", "car"}, {"code", "1"}}), "<age:q0><purpose=car><code=1>");
  // Missing: "?", "", absent; a number column holding text is missing too.
  EXPECT_EQ(render(f, {{"age", "?"}, {"purpose", ""}}), "<age:na><purpose:na><code:na>");
  EXPECT_EQ(render(f, {{"age", "old"}, {"purpose", "?"}, {"code", ""}}), "<age:na><purpose:na><code:na>");
  // A category not seen in training, including one with '<' / '>'.
  EXPECT_EQ(render(f, {{"age", "30"}, {"purpose", "boat"}, {"code", "7"}}), "<age:q2><purpose=(other)><code=(other)>");
  EXPECT_EQ(render(f, {{"age", "30"}, {"purpose", "<x>"}, {"code", "1"}}), "<age:q2><purpose=(other)><code=1>");
  // Rows of a table, columns found by name whatever their order.
  const Table t = applicants();
  EXPECT_EQ(f.render_row(t, 0), "<age:q3><purpose=car><code=1>");  // age 39
  EXPECT_EQ(f.render_row(t, 20), "<age:na><purpose:na><code:na>");
  Table shuffled;
  shuffled.columns = {"code", "age"};
  shuffled.rows = {{"2", "21"}};
  EXPECT_EQ(f.render_row(shuffled, 0), "<age:q0><purpose:na><code=2>");
}

TEST(TableFeatures, SanitizedValuesHoldNoSymbolDelimiters) {
  Table t;
  t.columns = {"v"};
  for (const char* v : {"<0", ">=200", "0<=X<200", "no checking", "it's \"x\""}) t.rows.push_back({v});
  const TableFeatures f = TableFeatures::fit(t, {"v"});
  EXPECT_EQ(f.columns[0].categories,
            (std::vector<std::string>{"0lt=Xlt200", "gt=200", "it_s__x_", "lt0", "no_checking"}));
  for (const auto& row : t.rows) {
    const std::string s = render(f, {{"v", row[0]}});
    EXPECT_EQ(s.find('<', 1), std::string::npos) << s;
    EXPECT_EQ(s.find('>'), s.size() - 1) << s;
    EXPECT_EQ(s.find(' '), std::string::npos) << s;
    EXPECT_EQ(s.find("(other)"), std::string::npos) << s;
  }
}

TEST(TableFeatures, VocabularyHoldsEveryRenderedSymbol) {
  const Table t = applicants();
  const TableFeatures f = TableFeatures::fit(t, kFeatures, 4, 12);
  const std::vector<std::string> v = f.vocabulary();
  const std::set<std::string> vocab(v.begin(), v.end());
  EXPECT_EQ(vocab.size(), v.size()) << "duplicates in the vocabulary";
  // 3 columns: age (na + 4 bins), purpose (na + 4 + other), code (na + 3 + other).
  EXPECT_EQ(v.size(), 5u + 6u + 5u);
  std::vector<std::string> texts;
  for (size_t r = 0; r < t.rows.size(); ++r) texts.push_back(f.render_row(t, r));
  texts.push_back(render(f, {{"age", "1000"}, {"purpose", "boat"}, {"code", "9"}}));
  texts.push_back(render(f, {}));
  for (const std::string& text : texts) {
    const auto syms = symbols_of(text);
    EXPECT_EQ(syms.size(), 3u) << text;
    for (const std::string& s : syms) EXPECT_TRUE(vocab.count(s)) << s << " is not in the vocabulary";
  }
}

TEST(TableFeatures, JsonRoundTripRendersIdentically) {
  const Table t = applicants();
  const TableFeatures f = TableFeatures::fit(t, kFeatures, 4, 12);
  const TableFeatures g = TableFeatures::from_json(json::parse(f.to_json().dump()));
  EXPECT_EQ(g.to_json(), f.to_json());
  EXPECT_EQ(g.vocabulary(), f.vocabulary());
  for (size_t r = 0; r < t.rows.size(); ++r) EXPECT_EQ(g.render_row(t, r), f.render_row(t, r)) << r;
  EXPECT_EQ(render(g, {{"age", "29.5"}, {"purpose", "boat"}}), render(f, {{"age", "29.5"}, {"purpose", "boat"}}));
}

TEST(TableFeatures, FromJsonRejectsGarbage) {
  for (const char* text : {
           "42",
           "{}",
           R"({"columns": 3})",
           R"({"columns": [5]})",
           R"({"columns": [{"name": "a"}]})",
           R"({"columns": [{"name": "a", "numeric": "yes", "edges": []}]})",
           R"({"columns": [{"name": "a", "numeric": true}]})",
           R"({"columns": [{"name": "a", "numeric": true, "edges": [3, 1]}]})",
           R"({"columns": [{"name": "a", "numeric": false, "categories": ["b", "a"]}]})",
           R"({"columns": [{"name": 7, "numeric": false, "categories": []}]})",
       })
    EXPECT_THROW(TableFeatures::from_json(json::parse(text)), Error) << text;
  EXPECT_NO_THROW(TableFeatures::from_json(json::parse(R"({"columns": []})")));
}

TEST(TableFeatures, FitErrors) {
  const Table t = applicants();
  EXPECT_THROW(TableFeatures::fit(t, {"age", "salary"}), Error);
  EXPECT_THROW(TableFeatures::fit(t, {"age"}, 1), Error);
  Table empty;
  empty.columns = {"age"};
  EXPECT_THROW(TableFeatures::fit(empty, {"age"}), Error);
}

// A column whose name is not a valid symbol ("loan amount") is written
// sanitized in the symbols ("<loan_amount:q1>"); its values must still be
// found in the table and in a record keyed by the original name.
TEST(TableFeatures, ColumnNamesWithSpacesStillFindTheirValues) {
  Table t;
  t.columns = {"loan amount", "home"};
  for (int i = 0; i < 30; ++i) t.rows.push_back({std::to_string(1000 * (i + 1)), i % 2 ? "rent" : "own"});
  const TableFeatures f = TableFeatures::fit(t, {"loan amount", "home"}, 4, 12);
  ASSERT_EQ(f.columns[0].name, "loan_amount");
  EXPECT_EQ(f.render_row(t, 0), "<loan_amount:q0><home=own>");
  EXPECT_EQ(f.render_row(t, 29), "<loan_amount:q3><home=rent>");
}

}  // namespace
}  // namespace qat
