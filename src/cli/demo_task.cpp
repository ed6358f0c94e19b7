#include "cli/demo_task.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "base/error.h"
#include "finance/arff.h"
#include "finance/fraud_features.h"
#include "finance/sim_random.h"
#include "train/csv.h"
#include "train/tokenizer_trainer.h"

namespace qat::cli {

namespace fs = std::filesystem;

int64_t DemoSplit::positives() const { return std::accumulate(labels.begin(), labels.end(), int64_t(0)); }

std::vector<int32_t> symbol_features(const Tokenizer& tok, const std::string& text, int32_t first_symbol_id) {
  std::vector<int32_t> f;
  for (int32_t id : tok.encode(text, false))
    if (id >= first_symbol_id) f.push_back(id - first_symbol_id);
  std::sort(f.begin(), f.end());
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return f;
}

namespace {

constexpr int32_t kFirstSymbol = Tokenizer::kFirstSymbolId;

// A shuffled order of n indices (SimRandom, so every platform agrees).
std::vector<size_t> shuffled(size_t n, uint64_t seed) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t(0));
  SimRandom rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[size_t(rng.uniform() * double(i))]);
  return idx;
}

void add_baseline_features(DemoData& d) {
  d.baseline_features = d.tokenizer->vocab_size() - kFirstSymbol;
  for (const std::string& t : d.train.texts)
    d.baseline_features_train.push_back(symbol_features(*d.tokenizer, t, kFirstSymbol));
  for (const std::string& t : d.test.texts)
    d.baseline_features_test.push_back(symbol_features(*d.tokenizer, t, kFirstSymbol));
}

// ---- fraud ----------------------------------------------------------------

void add_events(DemoSplit& s, const std::vector<FraudEvent>& events, std::vector<nlohmann::json>* records,
                const InputSpec& spec) {
  for (const FraudEvent& e : events) {
    if (records) {
      // The test rows go through JSON, as `qat score` reads them.
      records->push_back(fraud_event_to_json(e));
      s.texts.push_back(spec.render(records->back()));
    } else {
      s.texts.push_back(fraud_event_text(e));
    }
    s.labels.push_back(e.current.is_fraud() ? 1 : 0);
  }
}

DemoData load_fraud(const DemoDataOptions& o) {
  DemoData d;
  d.task = "fraud";
  d.title = "card-fraud scoring";
  FraudSimOptions so;
  so.seed = o.seed;
  so.customers = o.customers > 0 ? o.customers : o.large ? 6000 : 2000;
  so.days = 60;
  so.fraud_rate = o.fraud_rate;
  const FraudSimData sim = simulate_fraud(so);
  d.source = cat("qat's transaction simulator (seed ", o.seed, "): ", so.customers, " customers, ", so.days, " days, ",
                 sim.transactions.size(), " transactions, ", sim.fraud_count, " fraudulent (",
                 sim.pattern_counts[1], " card testing, ", sim.pattern_counts[2], " account takeover, ",
                 sim.pattern_counts[3], " compromised merchant, ", sim.pattern_counts[4], " velocity)");
  d.data_note = "SIMULATED transactions from qat's PaySim-style simulator — not real card data.";
  d.class_names = {"legit", "fraud"};
  d.spec.kind = InputSpec::Kind::Fraud;
  d.spec.positive = "fraud";
  d.new_tokenizer = [] { return Tokenizer::with_symbols(fraud_vocabulary()); };
  d.tokenizer = d.new_tokenizer();
  d.max_seq = 1 + (kFraudHistory + 1) * 9 + 1;
  d.metric_keys = {"pr_auc", "roc_auc", "recall_at_1pct_fpr"};

  // Split by customer (70 / 10 / 20), so no customer's history leaks across.
  const int n = so.customers, train_end = n * 7 / 10, val_end = n * 8 / 10;
  int64_t train_fraud = 0, train_all = sim.customer_begin[train_end];
  for (int64_t i = 0; i < train_all; ++i) train_fraud += sim.transactions[i].is_fraud();
  // Training keeps every fraud and enough legitimate events for ~15 % positives
  // (a rank metric like PR-AUC does not care; the model sees more fraud).
  const double keep_legit = std::min(1.0, double(train_fraud) * 85.0 / 15.0 / double(train_all - train_fraud));
  add_events(d.train, fraud_events(sim, 0, train_end, keep_legit, 1.0, o.seed + 1), nullptr, d.spec);
  // Validation and test keep the natural fraud rate (uniform subsamples).
  const int64_t test_all = sim.customer_begin[n] - sim.customer_begin[val_end];
  const double cap = o.test_records > 0 ? double(o.test_records) : o.large ? 20000.0 : 5000.0;
  const double test_keep = std::min(1.0, cap / double(test_all));
  add_events(d.val, fraud_events(sim, train_end, val_end, 0.2, 0.2, o.seed + 2), nullptr, d.spec);
  add_events(d.test, fraud_events(sim, val_end, n, test_keep, test_keep, o.seed + 3), &d.test_records, d.spec);
  add_baseline_features(d);
  return d;
}

// ---- credit ---------------------------------------------------------------

Table read_csv_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QAT_CHECK(in, path, ": cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<CsvRecord> recs = parse_csv(text, path);
  QAT_CHECK(!recs.empty(), path, ": empty CSV");
  Table t;
  t.source = path;
  t.columns = recs[0].fields;
  for (size_t i = 1; i < recs.size(); ++i) {
    QAT_CHECK(recs[i].error.empty(), path, ":", recs[i].line, ": ", recs[i].error);
    QAT_CHECK(recs[i].fields.size() == t.columns.size(), path, ":", recs[i].line, ": ", recs[i].fields.size(),
              " fields, the header has ", t.columns.size());
    t.rows.push_back(std::move(recs[i].fields));
  }
  return t;
}

// The first candidate that exists, each tried relative to the working
// directory and to the checkout the binary was built in (ROOT/build/qat).
std::string find_first(const std::vector<std::string>& candidates) {
  std::error_code ec;
  const fs::path root = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path();
  for (const std::string& c : candidates) {
    if (fs::exists(c, ec)) return c;
    if (!root.empty() && fs::path(c).is_relative() && fs::exists(root / c, ec)) return (root / c).string();
  }
  return "";
}

DemoData load_credit(const DemoDataOptions& o) {
  std::string path = o.data;
  if (path.empty()) {
    path = find_first({"data/credit-g.arff", "/usr/share/doc/weka/examples/credit-g.arff",
                       "../shared/data/credit/german_credit.arff"});
    QAT_CHECK(!path.empty(), "qat demo --task credit: no German Credit file (credit-g.arff); run "
                             "scripts/get_data.sh (it extracts it from Debian's weka package into data/), "
                             "or pass --data FILE.arff|FILE.csv");
  }
  QAT_CHECK(fs::exists(path), path, ": no such file");
  const bool arff = path.size() > 5 && path.substr(path.size() - 5) == ".arff";
  Table t = arff ? read_arff(path) : read_csv_table(path);
  // The label: German Credit's "class", Lending Club's "Class" (good / bad).
  int label = -1;
  for (const char* name : {"class", "Class", "label", "status", "Status"})
    if (label < 0) label = t.column(name);
  QAT_CHECK(label >= 0, path, ": no label column (class, Class, label or Status)");
  DemoData d;
  d.task = "credit";
  d.title = "credit-risk scoring";
  d.source = cat(path, ": ", t.rows.size(), " applications, ", t.columns.size() - 1, " attributes");
  d.class_names = {"good", "bad"};
  d.metric_keys = {"roc_auc", "ks", "brier", "pr_auc"};

  // Stratification is left to chance: a shuffled 60 / 20 / 20 split.
  const std::vector<size_t> order = shuffled(t.rows.size(), o.seed);
  const size_t n = t.rows.size(), train_end = n * 6 / 10, val_end = n * 8 / 10;
  Table train;
  train.source = path;
  train.columns = t.columns;
  for (size_t i = 0; i < train_end; ++i) train.rows.push_back(t.rows[order[i]]);
  std::vector<std::string> features;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (int(c) != label) features.push_back(t.columns[c]);
  d.spec.kind = InputSpec::Kind::Table;
  d.spec.table = TableFeatures::fit(train, features);
  d.spec.positive = "bad";
  d.new_tokenizer = [v = d.spec.table.vocabulary()] { return Tokenizer::with_symbols(v); };
  d.tokenizer = d.new_tokenizer();
  d.max_seq = 1 + int(features.size());
  for (size_t k = 0; k < n; ++k) {
    const size_t r = order[k];
    const std::string& y = t.rows[r][size_t(label)];
    QAT_CHECK(y == "good" || y == "bad", path, ": label '", y, "' is neither good nor bad");
    DemoSplit& s = k < train_end ? d.train : k < val_end ? d.val : d.test;
    s.texts.push_back(d.spec.table.render_row(t, r));
    s.labels.push_back(y == "bad" ? 1 : 0);
    if (&s == &d.test) {
      nlohmann::json rec = nlohmann::json::object();
      for (size_t i = 0; i < features.size(); ++i) {
        const std::string& v = t.rows[r][size_t(t.column(features[i]))];
        // Text in a number column was read as missing in training; the record
        // says so with null, which `qat score` takes (and refuses the text).
        const bool junk = d.spec.table.columns[i].numeric && !table_value_is_missing(v) && !table_value_is_number(v);
        rec[features[i]] = junk ? nlohmann::json() : nlohmann::json(v);
      }
      d.test_records.push_back(std::move(rec));
    }
  }
  add_baseline_features(d);
  return d;
}

// ---- scam -----------------------------------------------------------------

std::string read_maybe_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files too
  QAT_CHECK(f, path, ": cannot open");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  const bool bad = n < 0;
  gzclose(f);
  QAT_CHECK(!bad, path, ": corrupt gzip data");
  return out;
}

DemoData load_scam(const DemoDataOptions& o) {
  std::string path = o.data;
  if (path.empty()) {
    path = find_first({"data/spamassassin.jsonl.gz", "../shared/data/messages/spamassassin.jsonl.gz"});
    QAT_CHECK(!path.empty(), "qat demo --task scam: no SpamAssassin corpus found (data/spamassassin.jsonl.gz); "
                             "pass --data FILE.jsonl[.gz] with one {\"text\": ..., \"label\": \"spam\"|\"ham\"} "
                             "object a line");
  }
  const std::string all = read_maybe_gz(path);
  std::vector<std::pair<std::string, int32_t>> rows;
  size_t line_no = 0;
  for (size_t b = 0; b < all.size();) {
    size_t e = all.find('\n', b);
    if (e == std::string::npos) e = all.size();
    ++line_no;
    const std::string line = all.substr(b, e - b);
    b = e + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      fail(path, ":", line_no, ": not valid JSON");
    }
    QAT_CHECK(j.is_object() && j.contains("text") && j["text"].is_string() && j.contains("label") &&
                  j["label"].is_string(),
              path, ":", line_no, ": needs string fields \"text\" and \"label\"");
    const std::string y = j["label"].get<std::string>();
    QAT_CHECK(y == "spam" || y == "ham", path, ":", line_no, ": label '", y, "' is neither spam nor ham");
    rows.push_back({j["text"].get<std::string>(), y == "spam" ? 1 : 0});
  }
  QAT_CHECK(rows.size() >= 20, path, ": only ", rows.size(), " messages");
  DemoData d;
  d.task = "scam";
  d.title = "scam / spam e-mail detection";
  d.source = cat(path, ": ", rows.size(), " e-mails");
  d.class_names = {"ham", "spam"};
  d.spec.kind = InputSpec::Kind::Text;
  d.spec.field = "text";
  d.spec.positive = "spam";
  // Messages are cut to their first 4,000 bytes: the head (headers, subject,
  // opening) is what the classifier reads within max_seq tokens anyway. The
  // spec carries the cut, so `qat score` reads what training read (at 512
  // tokens a message's 4,000 bytes are not always more than the model reads).
  d.spec.max_bytes = 4000;
  d.metric_keys = {"accuracy", "f1", "roc_auc", "pr_auc"};
  // 128 tokens (headers, subject and the opening) keep the scam demo near
  // 5 minutes; 256 took twice as long for 95.8 % accuracy at 150 steps.
  d.max_seq = o.large ? 512 : 128;
  const std::vector<size_t> order = shuffled(rows.size(), o.seed);
  const size_t n = rows.size(), train_end = n * 7 / 10, val_end = n * 8 / 10;
  for (size_t k = 0; k < n; ++k) {
    const auto& [text, y] = rows[order[k]];
    DemoSplit& s = k < train_end ? d.train : k < val_end ? d.val : d.test;
    s.texts.push_back(d.spec.render({{"text", text}}));
    s.labels.push_back(y);
    if (&s == &d.test) d.test_records.push_back({{"text", s.texts.back()}});
  }
  // The project's tokenizer trainer on the training messages only.
  fs::create_directories(o.work_dir);
  const std::string corpus = o.work_dir + "/scam_train.txt", model = o.work_dir + "/scam_tokenizer.model";
  {
    std::ofstream out(corpus, std::ios::binary);
    for (const std::string& t : d.train.texts) {
      std::string one = t;
      std::replace(one.begin(), one.end(), '\n', ' ');
      out << one << '\n';
    }
  }
  TokenizerTrainOptions to;
  to.vocab_size = 4096;
  to.seed = o.seed;
  train_sentencepiece({corpus}, model, to);
  d.new_tokenizer = [model] { return Tokenizer::from_sentencepiece(model); };
  d.tokenizer = d.new_tokenizer();
  return d;
}

}  // namespace

DemoData load_demo_data(const DemoDataOptions& o) {
  if (o.task == "fraud") return load_fraud(o);
  if (o.task == "credit") return load_credit(o);
  if (o.task == "scam") return load_scam(o);
  fail("--task must be fraud, credit or scam, got '", o.task, "'");
}

}  // namespace qat::cli
