#include "train/unigram_baseline.h"

#include <cmath>

#include "base/error.h"

namespace qat {

double unigram_cross_entropy(const std::vector<int32_t>& tokens, int64_t split, int64_t vocab_size) {
  QAT_CHECK(split >= 0 && split <= int64_t(tokens.size()) && vocab_size > 0, "unigram baseline: bad split");
  std::vector<double> count(size_t(vocab_size), 1.0);  // add-one smoothing
  double total = double(vocab_size);
  for (int64_t i = 0; i < split; ++i) {
    count[size_t(tokens[size_t(i)])] += 1.0;
    total += 1.0;
  }
  const int64_t n = int64_t(tokens.size()) - split;
  if (n == 0) return 0.0;
  double nll = 0;
  for (int64_t i = split; i < int64_t(tokens.size()); ++i) nll -= std::log(count[size_t(tokens[size_t(i)])] / total);
  return nll / double(n);
}

}  // namespace qat
