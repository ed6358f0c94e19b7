// The finance demo's tasks as data: texts and labels split into train /
// validation / test, the JSON records a scoring app would send for the test
// rows, the tokenizer the classifier reads them with, and the input spec
// stored in its GGUF for `qat score`.
//   fraud   SIMULATED card transactions (finance/fraud_sim.h), split by customer
//   credit  German Credit (Debian weka's credit-g.arff) or a Lending Club CSV
//   scam    SpamAssassin e-mails (JSONL or JSONL.gz with "text" and "label")
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "finance/input_spec.h"
#include "tokenizer/tokenizer.h"

namespace qat::cli {

struct DemoSplit {
  std::vector<std::string> texts;
  std::vector<int32_t> labels;  // 1 = the positive class (fraud, bad loan, scam)
  int64_t positives() const;
};

struct DemoData {
  std::string task, title, source, data_note;
  std::vector<std::string> class_names;  // {negative, positive}
  InputSpec spec;
  std::unique_ptr<Tokenizer> tokenizer;
  std::function<std::unique_ptr<Tokenizer>()> new_tokenizer;  // another copy of it (for a model)
  DemoSplit train, val, test;
  std::vector<nlohmann::json> test_records;  // (test) what `qat score` would read for each test row
  std::vector<std::vector<int32_t>> baseline_features_train, baseline_features_test;  // logistic baseline
  int32_t baseline_features = 0;  // feature count (0: no baseline for this task)
  int max_seq = 0;                // tokens per example incl. <bos>
  std::vector<std::string> metric_keys;  // report order; the first is the primary metric
};

struct DemoDataOptions {
  std::string task = "fraud";
  std::string data;       // credit / scam: the data file ("" = the default place)
  std::string work_dir;   // for the tokenizer the scam task trains
  uint64_t seed = 1234;
  bool large = false;
  double fraud_rate = 0.015;
  int customers = 0;         // fraud: simulated customers (0: 2,000; large 6,000)
  int64_t test_records = 0;  // cap on the test split (0: fraud 5,000 / large 20,000; others all)
};

DemoData load_demo_data(const DemoDataOptions& options);

// Lines of symbols -> feature ids for the logistic baseline: every token id
// of the text at or above first_symbol_id, minus it.
std::vector<int32_t> symbol_features(const Tokenizer& tok, const std::string& text, int32_t first_symbol_id);

}  // namespace qat::cli
