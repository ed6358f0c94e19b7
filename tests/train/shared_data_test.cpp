// Smoke tests on the real data in ../shared/data (skipped when it is absent,
// as in a fresh clone): a 10.8 MB speech corpus through the token stream and
// its cache, and the credit CSVs through the classification loader.
#include <gtest/gtest.h>

#include <filesystem>

#include "tokenizer/tokenizer.h"
#include "train/classify_dataset.h"
#include "train/classify_sampler.h"
#include "train/lm_sampler.h"
#include "train/token_stream.h"
#include "data_test_util.h"

namespace qat {
namespace {

TEST(SharedData, StateOfTheUnionTokenStreamAndCache) {
  QAT_REQUIRE_SHARED("text/sotu.txt");
  auto tok = Tokenizer::byte_level(300);
  const std::string text = test::shared_data("text/sotu.txt"), cache = test::temp_dir() + "/sotu.tokens";
  TokenStreamOptions o;
  o.cache_path = cache;
  o.progress = false;
  const TokenStream s = build_token_stream({text}, *tok, o);
  // Byte-level: one token a byte, plus <bos> and <eos>.
  EXPECT_EQ(s.tokens.size(), std::filesystem::file_size(text) + 2);
  const TokenStream again = build_token_stream({text}, *tok, o);
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.tokens, s.tokens);

  LmSamplerOptions so;
  so.batch = 8;
  so.seq = 512;
  so.val_fraction = 0.01;
  LmSampler sampler(s.tokens, so);
  EXPECT_GT(sampler.train_windows(), 20000);
  EXPECT_GT(sampler.val_windows(), 200);
  const LmBatch b = sampler.next();
  EXPECT_EQ(b.inputs.size(), size_t(8 * 512));
}

TEST(SharedData, CreditCsvWithATemplate) {
  QAT_REQUIRE_SHARED("credit/credit_data.csv");
  auto tok = Tokenizer::byte_level(300);
  ClassifyOptions o;
  o.text_template =
      "Applicant aged {Age}, {Marital}, job {Job}, home {Home}, income {Income}, asks {Amount} for a price of {Price}.";
  o.label_field = "Status";
  o.max_seq = 256;
  o.progress = false;
  const ClassifyDataset d = load_classify_dataset(test::shared_data("credit/credit_data.csv"), *tok, o);
  EXPECT_EQ(d.classes, (std::vector<std::string>{"bad", "good"}));
  EXPECT_EQ(d.examples.size(), 4454u);
  EXPECT_EQ(d.class_counts()[0], 1254);  // as the data's README says
  EXPECT_EQ(d.stats.truncated, 0);
  const ClassifySplit split = split_classify_dataset(d, 0.1, 1);
  EXPECT_EQ(split.val.examples.size(), 445u);
  ClassifySampler sampler(split.train, 16, 1, tok->special().pad);
  const ClassifyBatch b = sampler.next();
  EXPECT_EQ(b.batch, 16);
  EXPECT_LE(b.seq, 256);
}

TEST(SharedData, LendingClubWithTheGemmaTokenizer) {
  QAT_REQUIRE_SHARED("credit/lending_club.csv");
  QAT_REQUIRE_SHARED("tokenizers/gemma3/tokenizer.json");
  auto tok = Tokenizer::from_tokenizer_json(test::shared_data("tokenizers/gemma3/tokenizer.json"));
  ClassifyOptions o;
  o.text_template =
      "Loan of {funded_amnt} over {term} at {int_rate}% (grade {sub_grade}), income {annual_inc}, {emp_length}.";
  o.label_field = "Class";
  o.max_seq = 64;
  o.progress = false;
  const ClassifyDataset d = load_classify_dataset(test::shared_data("credit/lending_club.csv"), *tok, o);
  EXPECT_EQ(d.examples.size(), 9857u);
  EXPECT_EQ(d.classes, (std::vector<std::string>{"bad", "good"}));
  EXPECT_EQ(d.examples[0].ids[0], 2);  // <bos>
  EXPECT_EQ(tok->decode(d.examples[0].ids, true).rfind("Loan of 16100 over term_36 at 13.99% (grade C4)", 0), 0u);
}

}  // namespace
}  // namespace qat
