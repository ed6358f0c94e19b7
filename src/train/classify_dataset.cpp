#include "train/classify_dataset.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "base/error.h"
#include "base/progress.h"
#include "tokenizer/tokenizer.h"
#include "train/rng.h"

namespace qat {

namespace {

constexpr size_t kKeptReasons = 5;

// Canonical decimal integer ("0", "17", "-3"; not "01", "+1", "1.0").
std::optional<int64_t> parse_int(const std::string& s) {
  size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
  if (i == s.size() || (s[i] == '0' && s.size() > i + 1)) return std::nullopt;
  if (s.size() - i > 18) return std::nullopt;  // keeps the value far from int64 overflow
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -v : v;
}

// Class names from the distinct labels (see the header for the rule).
std::vector<std::string> derive_classes(const std::vector<TextLabelRow>& rows) {
  std::vector<std::string> names;
  {
    std::vector<std::string> all;
    for (const auto& r : rows) all.push_back(r.label);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    names = std::move(all);
  }
  std::vector<std::pair<int64_t, std::string>> ints;
  for (const auto& n : names) {
    auto v = parse_int(n);
    if (!v) return names;  // not all integers: byte order
    ints.push_back({*v, n});
  }
  std::sort(ints.begin(), ints.end());
  for (size_t i = 0; i < ints.size(); ++i) names[i] = ints[i].second;
  // Integers 0..K-1 then sit at their own index, as the header promises.
  return names;
}

}  // namespace

std::vector<int64_t> ClassifyDataset::class_counts() const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const auto& e : examples) ++counts[size_t(e.label)];
  return counts;
}

ClassifyDataset load_classify_dataset(const std::string& path, const Tokenizer& tok, const ClassifyOptions& opt) {
  QAT_CHECK(opt.text_field.empty() != opt.text_template.empty(), path,
            ": give exactly one of a text field and a text template");
  QAT_CHECK(opt.max_seq >= 2, "max_seq ", opt.max_seq, " is too small: an example needs <bos> and at least one token");
  const TextTemplate text =
      opt.text_field.empty() ? TextTemplate::parse(opt.text_template) : TextTemplate::field(opt.text_field);

  ClassifyDataset ds;
  ds.source = path;
  auto bad = [&](int64_t line, const std::string& why) {
    const std::string msg = cat(path, ":", line, ": ", why);
    if (!opt.skip_bad_rows) throw Error(msg, "fix the row, or skip bad rows (skip_bad_rows)");
    ++ds.stats.skipped;
    if (ds.stats.skip_reasons.size() < kKeptReasons) ds.stats.skip_reasons.push_back(msg);
  };

  std::map<std::string, int32_t> class_id;
  for (const auto& c : opt.classes) {
    QAT_CHECK(!c.empty(), "class list: an empty class name");
    QAT_CHECK(class_id.emplace(c, int32_t(class_id.size())).second, "class list: \"", c, "\" appears twice");
  }
  std::vector<TextLabelRow> rows = read_text_label_rows(path, opt.format, text, opt.label_field, bad);
  ds.stats.rows = int64_t(rows.size()) + ds.stats.skipped;

  if (!opt.classes.empty()) {
    ds.classes = opt.classes;
    std::vector<TextLabelRow> known;
    std::string listed;
    for (const auto& c : opt.classes) listed += (listed.empty() ? "" : ", ") + c;
    for (auto& r : rows) {
      if (class_id.count(r.label))
        known.push_back(std::move(r));
      else
        bad(r.line, cat("label \"", r.label, "\" is not one of the classes: ", listed));
    }
    rows = std::move(known);
  } else {
    ds.classes = derive_classes(rows);
    for (size_t i = 0; i < ds.classes.size(); ++i) class_id[ds.classes[i]] = int32_t(i);
  }
  if (rows.empty()) {
    std::string reasons;
    for (const auto& r : ds.stats.skip_reasons) reasons += "\n  " + r;
    fail(path, ": no usable examples (", ds.stats.rows, " rows, ", ds.stats.skipped, " skipped)", reasons);
  }

  std::optional<Progress> progress;
  if (opt.progress) progress.emplace("tokenize", rows.size(), "rows");
  ds.examples.reserve(rows.size());
  for (const auto& r : rows) {
    ClassifyExample e;
    e.ids = tok.encode(r.text, /*add_bos=*/true);
    e.label = class_id.at(r.label);
    e.line = r.line;
    ds.stats.longest = std::max<int64_t>(ds.stats.longest, int64_t(e.ids.size()));
    if (e.ids.size() > size_t(opt.max_seq)) {  // keep <bos> and the head of the text
      e.ids.resize(size_t(opt.max_seq));
      ++ds.stats.truncated;
    }
    ds.examples.push_back(std::move(e));
    if (progress) progress->add();
  }
  return ds;
}

ClassifySplit split_classify_dataset(const ClassifyDataset& all, double val_fraction, uint64_t seed) {
  const int64_t n = int64_t(all.examples.size());
  QAT_CHECK(val_fraction >= 0 && val_fraction < 1, all.source, ": validation fraction ", val_fraction,
            " must be in [0, 1)");
  int64_t n_val = std::llround(val_fraction * double(n));
  if (val_fraction > 0) {
    QAT_CHECK(n >= 2, all.source, ": ", n, " example(s) cannot be split into training and validation parts");
    n_val = std::clamp<int64_t>(n_val, 1, n - 1);
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
  Rng rng(seed);
  rng.shuffle(order);
  std::vector<char> in_val(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n_val; ++i) in_val[size_t(order[size_t(i)])] = 1;

  ClassifySplit s;
  for (ClassifyDataset* part : {&s.train, &s.val}) {
    part->source = all.source;
    part->classes = all.classes;
    part->stats = all.stats;
  }
  for (int64_t i = 0; i < n; ++i) (in_val[size_t(i)] ? s.val : s.train).examples.push_back(all.examples[size_t(i)]);
  return s;
}

}  // namespace qat
