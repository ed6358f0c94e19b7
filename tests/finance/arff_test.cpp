// The ARFF reader (arff.h): quoting, comments, missing values, errors that
// name file and line, and Debian weka's credit-g.arff when it is here.
#include "finance/arff.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

#include "base/error.h"
#include "finance/table_features.h"

namespace qat {
namespace {

namespace fs = std::filesystem;

class Arff : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qat_arff_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // read_arff must fail with a message holding every part.
  void expect_error(const std::string& path, const std::vector<std::string>& parts) {
    try {
      read_arff(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      const std::string m = e.what();
      for (const std::string& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
    }
  }

  fs::path dir_;
};

const char* kHeader =
    "% A comment before anything\n"
    "@relation 'test relation'\n"
    "\n"
    "@attribute name string\n"
    "@ATTRIBUTE 'city name' {'New York, NY', Boston}\n"
    "@attribute amount NUMERIC\n"
    "@attribute note string\n"
    "@data\n";

TEST_F(Arff, ReadsQuotedValuesCommentsAndMissing) {
  const std::string path = write("ok.arff", std::string(kHeader) +
                                                "% a comment between rows\n"
                                                "'John Smith', \"New York, NY\", 12.5, ?\n"
                                                "  bob ,  'x,y' , 3 , 'it\\'s'  \r\n"
                                                "\n"
                                                "'', Boston,?,plain text\n");
  const Table t = read_arff(path);
  EXPECT_EQ(t.source, path);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"name", "city name", "amount", "note"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"John Smith", "New York, NY", "12.5", "?"}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"bob", "x,y", "3", "it's"}));
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"", "Boston", "?", "plain text"}));
  EXPECT_EQ(t.column("city name"), 1);
  EXPECT_EQ(t.column("City name"), -1);
}

TEST_F(Arff, WrongValueCountNamesFileAndLine) {
  const std::string path = write("count.arff", std::string(kHeader) + "a, b, 1, c\na, b, 1\n");
  expect_error(path, {path + ":10:", "3 values for 4 attributes"});
  expect_error(write("count2.arff", std::string(kHeader) + "a, b, 1, c, d\n"), {"count2.arff:9:", "5 values"});
}

TEST_F(Arff, UnclosedQuoteNamesFileAndLine) {
  const std::string path = write("quote.arff", std::string(kHeader) + "a, b, 1, c\n'a, b, 1, c\n");
  expect_error(path, {path + ":10:", "quote"});
}

TEST_F(Arff, NoDataSection) {
  const std::string path = write("nodata.arff", "@relation r\n@attribute a numeric\n1\n");
  expect_error(path, {path + ":3:"});
  const std::string header_only = write("header_only.arff", "@relation r\n@attribute a numeric\n");
  expect_error(header_only, {header_only, "@data"});
  const std::string no_rows = write("no_rows.arff", "@relation r\n@attribute a numeric\n@data\n% nothing\n");
  expect_error(no_rows, {no_rows, "no data rows"});
  const std::string no_attrs = write("no_attrs.arff", "@relation r\n@data\n1\n");
  expect_error(no_attrs, {no_attrs + ":2:", "@attribute"});
}

TEST_F(Arff, SparseRowsAreRejected) {
  const std::string path = write("sparse.arff", std::string(kHeader) + "a, b, 1, c\n{0 1}\n");
  expect_error(path, {path + ":10:", "sparse"});
}

TEST_F(Arff, DuplicateAttributeNamesFileAndLine) {
  const std::string path = write("dup.arff", "@relation r\n@attribute a numeric\n@attribute 'a' string\n@data\n1,x\n");
  expect_error(path, {path + ":3:", "'a'", "twice"});
}

TEST_F(Arff, MissingFile) { expect_error((dir_ / "absent.arff").string(), {"absent.arff", "cannot open"}); }

TEST(ArffGermanCredit, ReadsCreditG) {
  const std::string path = std::string(QAT_SHARED_DATA_DIR) + "/credit/german_credit.arff";
  if (!fs::exists(path))
    GTEST_SKIP() << path << " is not here: it lives in the shared data folder next to the repository, "
                            "which a fresh clone does not have";
  const Table t = read_arff(path);
  EXPECT_EQ(t.rows.size(), 1000u);
  ASSERT_EQ(t.columns.size(), 21u);
  EXPECT_EQ(t.columns.front(), "checking_status");
  const int label = t.column("class");
  ASSERT_EQ(label, 20);
  std::set<std::string> classes;
  size_t bad = 0;
  for (const auto& row : t.rows) {
    ASSERT_EQ(row.size(), 21u);
    classes.insert(row[size_t(label)]);
    bad += row[size_t(label)] == "bad";
  }
  EXPECT_EQ(classes, (std::set<std::string>{"good", "bad"}));
  EXPECT_EQ(bad, 300u);  // credit-g: 700 good, 300 bad
  // Features fitted on it: numeric columns binned, every row's symbols in the vocabulary.
  std::vector<std::string> features(t.columns.begin(), t.columns.end() - 1);
  const TableFeatures f = TableFeatures::fit(t, features);
  ASSERT_EQ(f.columns.size(), 20u);
  EXPECT_TRUE(f.columns[1].numeric) << f.columns[1].name;   // duration
  EXPECT_FALSE(f.columns[0].numeric) << f.columns[0].name;  // checking_status
  const std::vector<std::string> v = f.vocabulary();
  const std::set<std::string> vocab(v.begin(), v.end());
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const std::string text = f.render_row(t, r);
    size_t symbols = 0;
    for (size_t i = 0; i < text.size(); ++symbols) {
      const size_t close = text.find('>', i);
      ASSERT_NE(close, std::string::npos);
      ASSERT_TRUE(vocab.count(text.substr(i, close + 1 - i))) << text.substr(i, close + 1 - i);
      i = close + 1;
    }
    ASSERT_EQ(symbols, 20u) << text;
    ASSERT_EQ(text.find(":na>"), std::string::npos) << "credit-g has no missing values: " << text;
  }
}

}  // namespace
}  // namespace qat
