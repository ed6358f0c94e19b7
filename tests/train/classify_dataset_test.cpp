#include "train/classify_dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "data_test_util.h"

namespace qat {
namespace {

using test::expect_error;
using test::temp_dir;
using test::write_file;
using Names = std::vector<std::string>;

ClassifyOptions text_label(std::string text = "text", std::string label = "label") {
  ClassifyOptions o;
  o.text_field = std::move(text);
  o.label_field = std::move(label);
  o.progress = false;
  return o;
}

ClassifyOptions templated(std::string pattern, std::string label = "label") {
  ClassifyOptions o = text_label("", std::move(label));
  o.text_template = std::move(pattern);
  return o;
}

class ClassifyDatasetTest : public testing::Test {
 protected:
  std::unique_ptr<Tokenizer> tok = Tokenizer::byte_level(300);
  std::string dir = temp_dir();
  std::string file(const std::string& name, const std::string& bytes) { return write_file(dir + "/" + name, bytes); }
  ClassifyDataset load(const std::string& path, const ClassifyOptions& o) {
    return load_classify_dataset(path, *tok, o);
  }
};

TEST_F(ClassifyDatasetTest, CsvTextColumnAndStringLabels) {
  const auto path = file("d.csv", "id,text,label\n1,\"hello, world\",spam\n2,\"say \"\"hi\"\"\",ham\n3,plain,spam\n");
  const ClassifyDataset d = load(path, text_label());
  EXPECT_EQ(d.classes, (Names{"ham", "spam"}));  // byte order
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].ids, tok->encode("hello, world", true));
  EXPECT_EQ(d.examples[0].ids[0], tok->special().bos);
  EXPECT_EQ(d.examples[1].ids, tok->encode("say \"hi\"", true));
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[1].label, 0);
  EXPECT_EQ(d.examples[2].line, 4);
  EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(d.stats.rows, 3);
  EXPECT_EQ(d.stats.skipped, 0);
}

TEST_F(ClassifyDatasetTest, TemplateSubstitutesFieldsAndBraces) {
  const auto path =
      file("t.csv", "amount,merchant,category,label\r\n12.50,ACME,\"food, drink\",0\r\n3,Bob's,misc,1\r\n");
  const ClassifyDataset d = load(path, templated("Amount {amount} at {merchant} ({category}) {{x}} {amount}"));
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(tok->decode(d.examples[0].ids, true), "Amount 12.50 at ACME (food, drink) {x} 12.50");
  EXPECT_EQ(tok->decode(d.examples[1].ids, true), "Amount 3 at Bob's (misc) {x} 3");
}

TEST_F(ClassifyDatasetTest, UnknownTemplateFieldNamesItAndListsColumns) {
  const auto path = file("t.csv", "amount,merchant,label\n1,a,0\n");
  expect_error([&] { load(path, templated("Amount {amount} at {shop}")); },
               {"t.csv", "\"shop\"", "columns: amount, merchant, label"});
  expect_error([&] { load(path, text_label("amount", "class")); },
               {"label column \"class\"", "columns: amount, merchant, label"});
  expect_error([&] { load(path, templated("Amount {amount")); }, {"no closing '}'"});
  expect_error([&] { load(path, templated("Amount }")); }, {"closes nothing"});
  expect_error([&] { load(path, templated("Amount {}")); }, {"empty field name"});
  ClassifyOptions both = templated("{amount}");
  both.text_field = "amount";
  expect_error([&] { load(path, both); }, {"exactly one of"});
}

TEST_F(ClassifyDatasetTest, WrongFieldCountNamesFileAndLine) {
  // The quoted line break makes the bad row's line differ from its record number.
  const auto path = file("bad.csv", "text,label\n\"two\nlines\",a\nok,b\nthree,fields,here\nok,a\n");
  expect_error([&] { load(path, text_label()); }, {path + ":5: 3 fields, the header has 2"});
}

TEST_F(ClassifyDatasetTest, EmptyLabelAndAmbiguousColumn) {
  expect_error([&] { load(file("e.csv", "text,label\nhi,\n"), text_label()); }, {"e.csv:2: empty label"});
  expect_error([&] { load(file("dup.csv", "text,label,text\nhi,a,b\n"), text_label()); },
               {"dup.csv:1:", "\"text\" appears twice"});
  expect_error([&] { load(file("none.csv", ""), text_label()); }, {"none.csv", "no header row"});
}

TEST_F(ClassifyDatasetTest, SkipModeCountsBadRowsWithReasons) {
  const auto path = file("s.csv", "text,label\nok,a\nbad\n\"x\"y,b\nfine,\nalso ok,b\n");
  ClassifyOptions o = text_label();
  o.skip_bad_rows = true;
  const ClassifyDataset d = load(path, o);
  EXPECT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.stats.rows, 5);
  EXPECT_EQ(d.stats.skipped, 3);
  ASSERT_EQ(d.stats.skip_reasons.size(), 3u);
  EXPECT_NE(d.stats.skip_reasons[0].find("s.csv:3: 1 fields"), std::string::npos) << d.stats.skip_reasons[0];
  EXPECT_NE(d.stats.skip_reasons[1].find("s.csv:4: unexpected character"), std::string::npos);
  EXPECT_NE(d.stats.skip_reasons[2].find("s.csv:5: empty label"), std::string::npos);
  EXPECT_EQ(d.examples[1].line, 6);
  // Only the first few reasons are kept, all rows are counted.
  std::string many = "text,label\n";
  for (int i = 0; i < 20; ++i) many += "no label column here\n";
  many += "good,a\n";
  const ClassifyDataset m = load(file("m.csv", many), o);
  EXPECT_EQ(m.stats.skipped, 20);
  EXPECT_EQ(m.stats.skip_reasons.size(), 5u);
  // Nothing usable at all: an error that shows the reasons.
  expect_error([&] { load(file("all_bad.csv", "text,label\nx\ny\n"), o); },
               {"no usable examples", "2 skipped", "all_bad.csv:2: 1 fields"});
}

TEST_F(ClassifyDatasetTest, JsonlRowsAndValueConversion) {
  const auto path =
      file("d.jsonl",
           "{\"amount\": 12.5, \"ok\": true, \"n\": 3, \"who\": \"Ann\", \"none\": null, \"label\": \"fraud\"}\n"
           "\n   \n"
           "{\"amount\": -2, \"ok\": false, \"n\": 0, \"who\": \"Bo\", \"none\": 1, \"label\": \"legit\"}\r\n");
  const ClassifyDataset d = load(path, templated("{who}: {amount} {ok} {n} [{none}]"));
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(tok->decode(d.examples[0].ids, true), "Ann: 12.5 true 3 []");
  EXPECT_EQ(tok->decode(d.examples[1].ids, true), "Bo: -2 false 0 [1]");
  EXPECT_EQ(d.examples[1].line, 4);
  EXPECT_EQ(d.classes, (Names{"fraud", "legit"}));
}

TEST_F(ClassifyDatasetTest, JsonlErrorsNameFileAndLine) {
  const std::string good = "{\"text\": \"hi\", \"label\": 1}\n";
  expect_error([&] { load(file("a.jsonl", good + "\n{\"text\": \"x\", \"label\": }\n"), text_label()); },
               {"a.jsonl:3: invalid JSON"});
  expect_error([&] { load(file("b.jsonl", good + "[1, 2]\n"), text_label()); },
               {"b.jsonl:2: expected a JSON object, got array"});
  expect_error([&] { load(file("c.jsonl", good + "{\"txt\": \"x\", \"label\": 0}\n"), text_label()); },
               {"c.jsonl:2: no field \"text\"", "this object has: label, txt"});
  expect_error([&] { load(file("d.jsonl", good + "{\"text\": \"x\"}\n"), text_label()); },
               {"d.jsonl:2: no label field \"label\""});
  expect_error([&] { load(file("e.jsonl", good + "{\"text\": \"x\", \"label\": null}\n"), text_label()); },
               {"e.jsonl:2: empty label"});

  ClassifyOptions skip = text_label();
  skip.skip_bad_rows = true;
  const ClassifyDataset d = load(file("f.jsonl", good + "oops\n" + good + "7\n"), skip);
  EXPECT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.stats.skipped, 2);
  EXPECT_NE(d.stats.skip_reasons[1].find("f.jsonl:4: expected a JSON object, got number"), std::string::npos);
}

TEST_F(ClassifyDatasetTest, FormatFromExtensionOrExplicit) {
  const std::string jsonl = "{\"text\": \"hi\", \"label\": \"a\"}\n";
  EXPECT_EQ(load(file("x.json-lines", jsonl), text_label()).examples.size(), 1u);
  EXPECT_EQ(load(file("x.NDJSON", jsonl), text_label()).examples.size(), 1u);
  expect_error([&] { load(file("x.txt", jsonl), text_label()); }, {"x.txt", "cannot tell the table format"});
  ClassifyOptions o = text_label();
  o.format = TableFormat::Jsonl;
  EXPECT_EQ(load(dir + "/x.txt", o).examples.size(), 1u);
  o.format = TableFormat::Csv;
  EXPECT_EQ(load(file("y.data", "text,label\nhi,a\n"), o).examples.size(), 1u);
  expect_error([&] { load(dir + "/missing.csv", text_label()); }, {dir + "/missing.csv", "cannot open"});
}

TEST_F(ClassifyDatasetTest, IntegerLabelsZeroToKMinusOneAreTheirOwnIds) {
  const auto d =
      load(file("i.csv", "text,label\na,2\nb,0\nc,1\nd,10\ne,3\nf,4\ng,5\nh,6\ni,7\nj,8\nk,9\n"), text_label());
  ASSERT_EQ(d.classes.size(), 11u);
  for (const auto& e : d.examples) EXPECT_EQ(d.classes[size_t(e.label)], std::to_string(e.label));
  EXPECT_EQ(d.examples[0].label, 2);
  EXPECT_EQ(d.examples[3].label, 10);  // numeric, not byte, order
}

TEST_F(ClassifyDatasetTest, OtherIntegerSetsInNumericOrderStringsInByteOrder) {
  EXPECT_EQ(load(file("n.csv", "text,label\na,10\nb,2\nc,-1\nd,2\n"), text_label()).classes, (Names{"-1", "2", "10"}));
  EXPECT_EQ(load(file("s.csv", "text,label\na,b\nb,B\nc,01\nd,1\n"), text_label()).classes,
            (Names{"01", "1", "B", "b"}));
}

TEST_F(ClassifyDatasetTest, ExplicitClassListSharesTheMapping) {
  const auto train = load(file("train.csv", "text,label\na,good\nb,bad\nc,good\n"), text_label());
  EXPECT_EQ(train.classes, (Names{"bad", "good"}));
  ClassifyOptions o = text_label();
  o.classes = train.classes;
  const auto val = load(file("val.csv", "text,label\nx,good\ny,good\n"), o);  // only one class present
  EXPECT_EQ(val.classes, train.classes);
  EXPECT_EQ(val.examples[0].label, 1);
  o.classes = {"good", "bad"};  // the caller's order wins
  EXPECT_EQ(load(dir + "/val.csv", o).examples[0].label, 0);

  o.classes = train.classes;
  const auto path = file("odd.csv", "text,label\nx,good\ny,ugly\n");
  expect_error([&] { load(path, o); }, {"odd.csv:3: label \"ugly\" is not one of the classes: bad, good"});
  o.skip_bad_rows = true;
  const auto kept = load(path, o);
  EXPECT_EQ(kept.examples.size(), 1u);
  EXPECT_EQ(kept.stats.skipped, 1);
  o.classes = {"a", "a"};
  expect_error([&] { load(path, o); }, {"\"a\" appears twice"});
}

TEST_F(ClassifyDatasetTest, TruncationKeepsBosAndTheHead) {
  const auto path = file("long.csv", "text,label\n0123456789abcdefghij,x\nshort,y\n");
  ClassifyOptions o = text_label();
  o.max_seq = 6;
  const auto d = load(path, o);
  const auto full = tok->encode("0123456789abcdefghij", true);
  ASSERT_EQ(full.size(), 21u);  // byte-level: one token a byte, plus <bos>
  EXPECT_EQ(d.examples[0].ids, std::vector<int32_t>(full.begin(), full.begin() + 6));
  EXPECT_EQ(tok->decode(d.examples[0].ids, true), "01234");
  EXPECT_EQ(d.examples[1].length(), 6);  // <bos> + 5: fits exactly
  EXPECT_EQ(d.stats.truncated, 1);
  EXPECT_EQ(d.stats.longest, 21);
  o.max_seq = 1;
  expect_error([&] { load(path, o); }, {"max_seq 1"});
}

TEST_F(ClassifyDatasetTest, SplitIsDeterministicAndDisjoint) {
  std::string csv = "text,label\n";
  for (int i = 0; i < 100; ++i) csv += "row" + std::to_string(i) + "," + (i % 3 ? "a" : "b") + "\n";
  const auto all = load(file("all.csv", csv), text_label());
  const ClassifySplit s = split_classify_dataset(all, 0.2, 5);
  EXPECT_EQ(s.train.examples.size(), 80u);
  EXPECT_EQ(s.val.examples.size(), 20u);
  EXPECT_EQ(s.val.classes, all.classes);
  std::set<int64_t> lines;
  for (const auto* part : {&s.train, &s.val}) {
    for (size_t i = 1; i < part->examples.size(); ++i)
      EXPECT_LT(part->examples[i - 1].line, part->examples[i].line);  // file order
    for (const auto& e : part->examples)
      EXPECT_TRUE(lines.insert(e.line).second) << "line " << e.line << " in both parts";
  }
  EXPECT_EQ(lines.size(), 100u);
  const ClassifySplit again = split_classify_dataset(all, 0.2, 5), other = split_classify_dataset(all, 0.2, 6);
  auto val_lines = [](const ClassifySplit& x) {
    std::vector<int64_t> l;
    for (const auto& e : x.val.examples) l.push_back(e.line);
    return l;
  };
  EXPECT_EQ(val_lines(again), val_lines(s));
  EXPECT_NE(val_lines(other), val_lines(s));
  // Tiny sets still get one validation example; one example cannot be split.
  const auto two = load(file("two.csv", "text,label\na,x\nb,y\n"), text_label());
  EXPECT_EQ(split_classify_dataset(two, 0.01, 1).val.examples.size(), 1u);
  EXPECT_EQ(split_classify_dataset(two, 0.0, 1).train.examples.size(), 2u);
  const auto one = load(file("one.csv", "text,label\na,x\n"), text_label());
  EXPECT_THROW(split_classify_dataset(one, 0.5, 1), Error);
}

}  // namespace
}  // namespace qat
