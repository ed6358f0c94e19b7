#include "train/classify_sampler.h"

#include <algorithm>

#include "base/error.h"

namespace qat {

namespace {
int64_t checked_size(const ClassifyDataset& data, int batch) {
  QAT_CHECK(batch > 0, "classification sampler: batch ", batch, " must be positive");
  QAT_CHECK(!data.examples.empty(), data.source, ": no examples to sample from");
  return int64_t(data.examples.size());
}
}  // namespace

ClassifyBatch make_classify_batch(const ClassifyDataset& data, const std::vector<int64_t>& indices, int32_t pad_id) {
  ClassifyBatch b;
  b.batch = int(indices.size());
  for (int64_t i : indices) b.seq = std::max(b.seq, data.examples[size_t(i)].length());
  b.ids.assign(size_t(b.batch) * size_t(b.seq), pad_id);
  for (int r = 0; r < b.batch; ++r) {
    const ClassifyExample& e = data.examples[size_t(indices[size_t(r)])];
    std::copy(e.ids.begin(), e.ids.end(), b.ids.begin() + int64_t(r) * b.seq);
    b.lengths.push_back(e.length());
    b.labels.push_back(e.label);
  }
  return b;
}

ClassifySampler::ClassifySampler(const ClassifyDataset& data, int batch, uint64_t seed, int32_t pad_id)
    : data_(data), batch_(batch), pad_id_(pad_id), order_(checked_size(data, batch), seed) {}

void ClassifySampler::set_cursor(const DataCursor& c) {
  order_.check(c);
  cursor_ = c;
}

ClassifyBatch ClassifySampler::next() {
  std::vector<int64_t> picks(static_cast<size_t>(batch_));
  for (auto& p : picks) p = order_.next(cursor_);
  return make_classify_batch(data_, picks, pad_id_);
}

int64_t ClassifySampler::batches_per_epoch() const { return (order_.size() + batch_ - 1) / batch_; }

ClassifyBatch ClassifySampler::eval_batch(int64_t i) const {
  QAT_CHECK(i >= 0 && i < eval_batches(), "evaluation batch ", i, " out of range: there are ", eval_batches());
  std::vector<int64_t> picks;
  for (int64_t k = i * batch_; k < std::min<int64_t>((i + 1) * batch_, order_.size()); ++k) picks.push_back(k);
  return make_classify_batch(data_, picks, pad_id_);
}

}  // namespace qat
