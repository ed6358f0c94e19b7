#include "train/csv.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "data_test_util.h"

namespace qat {
namespace {

using Fields = std::vector<std::string>;

TEST(Csv, PlainRecords) {
  const auto r = parse_csv("a,b,c\n1,2,3\n", "t.csv");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(r[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_TRUE(r[1].error.empty());
}

TEST(Csv, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
  const auto r = parse_csv("text,label\n\"a, b\",x\n\"say \"\"hi\"\"\",y\n\"two\nlines\",z\n\"\",w\nlast,v\n", "t.csv");
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[1].fields, (Fields{"a, b", "x"}));
  EXPECT_EQ(r[2].fields, (Fields{"say \"hi\"", "y"}));
  EXPECT_EQ(r[3].fields, (Fields{"two\nlines", "z"}));
  EXPECT_EQ(r[3].line, 4);
  EXPECT_EQ(r[4].fields, (Fields{"", "w"}));
  EXPECT_EQ(r[4].line, 6);  // the embedded line break moved the count on
  EXPECT_EQ(r[5].line, 7);
}

TEST(Csv, CrlfBomMissingFinalNewlineAndBlankLines) {
  const auto r = parse_csv("\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\n\r\n2,c", "t.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (Fields{"id", "name"}));   // no BOM in the first name
  EXPECT_EQ(r[1].fields, (Fields{"1", "a\r\nb"}));  // line breaks inside quotes are kept as written
  EXPECT_EQ(r[2].fields, (Fields{"2", "c"}));
  EXPECT_EQ(r[2].line, 5);
}

TEST(Csv, EmptyFieldsAndTrailingComma) {
  const auto r = parse_csv("a,b,c\n,,\n1,2,\n", "t.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].fields, (Fields{"", "", ""}));
  EXPECT_EQ(r[2].fields, (Fields{"1", "2", ""}));
}

TEST(Csv, QuoteInsideUnquotedFieldIsLiteral) {
  const auto r = parse_csv("a,b\n5\" disk,x\n", "t.csv");
  EXPECT_EQ(r[1].fields, (Fields{"5\" disk", "x"}));
}

TEST(Csv, TextAfterClosingQuoteMarksOnlyThatRecord) {
  const auto r = parse_csv("a,b\n\"x\"y,1\n2,3\n", "t.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NE(r[1].error.find("after a closing quote"), std::string::npos);
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[2].fields, (Fields{"2", "3"}));
  EXPECT_EQ(r[2].line, 3);
}

TEST(Csv, UnclosedQuoteIsAnErrorAtTheLineItOpened) {
  test::expect_error([] { parse_csv("a,b\n1,2\n3,\"open\nmore\nstuff\n", "data/t.csv"); },
                     {"data/t.csv:3:", "never closed"});
}

}  // namespace
}  // namespace qat
