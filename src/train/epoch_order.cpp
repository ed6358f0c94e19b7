#include "train/epoch_order.h"

#include "base/error.h"
#include "train/rng.h"

namespace qat {

EpochOrder::EpochOrder(int64_t n, uint64_t seed) : n_(n), seed_(seed) {
  QAT_CHECK(n > 0, "epoch order over ", n, " items: need at least one");
}

std::vector<int64_t> EpochOrder::order(uint64_t epoch) const {
  std::vector<int64_t> v(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) v[size_t(i)] = i;
  Rng rng(mix64(seed_ ^ mix64(epoch)));
  rng.shuffle(v);
  return v;
}

void EpochOrder::check(const DataCursor& c) const {
  QAT_CHECK(c.index < uint64_t(n_), "data cursor {epoch ", c.epoch, ", index ", c.index,
            "} is past the end of an epoch of ", n_,
            " items: the data (or batch/seq settings) changed since it was saved");
}

int64_t EpochOrder::next(DataCursor& c) {
  check(c);
  if (cached_.empty() || cached_epoch_ != c.epoch) {
    cached_ = order(c.epoch);
    cached_epoch_ = c.epoch;
  }
  const int64_t item = cached_[size_t(c.index)];
  if (++c.index == uint64_t(n_)) c = {c.epoch + 1, 0};
  return item;
}

}  // namespace qat
