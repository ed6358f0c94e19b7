#include "model/sampler.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qat {

int32_t argmax(const float* logits, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

Sampler::Sampler(SamplerParams p) : p_(p), rng_(p.seed) {
  QAT_CHECK(p.temperature >= 0 && std::isfinite(p.temperature), "--temp must be >= 0, got ", p.temperature);
  QAT_CHECK(p.top_k >= 0, "--top-k must be >= 0, got ", p.top_k);
  QAT_CHECK(p.top_p > 0 && p.top_p <= 1, "--top-p must be in (0, 1], got ", p.top_p);
}

int32_t Sampler::sample(const float* logits, int vocab) {
  if (p_.temperature == 0.0f) return argmax(logits, vocab);
  cand_.resize(size_t(vocab));
  for (int i = 0; i < vocab; ++i) cand_[size_t(i)] = {logits[i], i};
  // Top-k: keep the k largest logits (sorted, largest first).
  const int k = (p_.top_k > 0 && p_.top_k < vocab) ? p_.top_k : vocab;
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.end(), by_logit);
  cand_.resize(size_t(k));
  // Softmax at the temperature.
  const float mx = cand_[0].first;
  double sum = 0;
  for (auto& c : cand_) {
    c.first = std::exp((c.first - mx) / p_.temperature);
    sum += c.first;
  }
  // Top-p: the smallest prefix whose probability reaches p.
  double cum = 0;
  size_t keep = cand_.size();
  for (size_t i = 0; i < cand_.size(); ++i) {
    cum += cand_[i].first / sum;
    if (cum >= p_.top_p) {
      keep = i + 1;
      break;
    }
  }
  cand_.resize(keep);
  double total = 0;
  for (auto& c : cand_) total += c.first;
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (auto& c : cand_) {
    r -= c.first;
    if (r <= 0) return c.second;
  }
  return cand_.back().second;
}

}  // namespace qat
