// Visits items 0..n-1 once per epoch, each epoch in its own order: a
// Fisher-Yates shuffle by Rng(mix64(seed ^ mix64(epoch))). The order of any
// epoch is a pure function of (n, seed, epoch), so a sampler resumed from a
// DataCursor continues exactly where it stopped.
#pragma once
#include <cstdint>
#include <vector>

#include "train/data_cursor.h"

namespace qat {

class EpochOrder {
 public:
  EpochOrder(int64_t n, uint64_t seed);  // n > 0

  // The item at cursor c; then advances c, rolling over to {epoch + 1, 0}
  // after the last item, so a cursor never points past the end of an epoch.
  int64_t next(DataCursor& c);
  // Throws qat::Error when c cannot belong to this order (index >= n): the
  // data changed since the cursor was saved.
  void check(const DataCursor& c) const;
  // The full order of one epoch (a permutation of 0..n-1).
  std::vector<int64_t> order(uint64_t epoch) const;
  int64_t size() const { return n_; }

 private:
  int64_t n_;
  uint64_t seed_;
  uint64_t cached_epoch_ = 0;
  std::vector<int64_t> cached_;  // order(cached_epoch_), empty until first use
};

}  // namespace qat
