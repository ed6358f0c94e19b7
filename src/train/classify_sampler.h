// Batches of classification examples (classify_dataset.h).
//
// Training: each epoch visits every example once in an order shuffled per
// epoch (epoch_order.h); batches fill across epoch ends, so every batch has
// `batch` rows (a dataset smaller than a batch repeats within one). cursor()
// is saved with a checkpoint and restores the exact batch sequence.
// Evaluation: the examples in file order, `batch` at a time (the last batch
// may be smaller).
//
// Padding: T is the longest example in the batch; shorter rows are padded
// with pad_id at the END, so position lengths[b]-1 holds each row's last real
// token (what last-token pooling reads) and causal attention over the real
// tokens is unaffected by the padding.
#pragma once
#include <cstdint>
#include <vector>

#include "train/classify_dataset.h"
#include "train/data_cursor.h"
#include "train/epoch_order.h"

namespace qat {

struct ClassifyBatch {
  int batch = 0, seq = 0;
  std::vector<int32_t> ids;      // (B, T) token ids, pad_id after each row's length
  std::vector<int32_t> lengths;  // (B) real tokens per row, 1..T
  std::vector<int32_t> labels;   // (B) class ids
};

// The batch of the given examples (indices into data.examples), in that order.
ClassifyBatch make_classify_batch(const ClassifyDataset& data, const std::vector<int64_t>& indices, int32_t pad_id);

class ClassifySampler {
 public:
  // Keeps a reference to data: it must outlive the sampler.
  ClassifySampler(const ClassifyDataset& data, int batch, uint64_t seed, int32_t pad_id);
  ClassifySampler(ClassifyDataset&&, int, uint64_t, int32_t) = delete;  // would dangle

  ClassifyBatch next();  // the training batch at cursor(); advances the cursor
  const DataCursor& cursor() const { return cursor_; }
  void set_cursor(const DataCursor& c);  // throws when c is past an epoch's end

  int64_t batches_per_epoch() const;  // ceil(n / batch)
  int64_t eval_batches() const { return batches_per_epoch(); }
  ClassifyBatch eval_batch(int64_t i) const;  // examples [i*B, min((i+1)*B, n)) in file order

 private:
  const ClassifyDataset& data_;
  int batch_;
  int32_t pad_id_;
  EpochOrder order_;
  DataCursor cursor_;
};

}  // namespace qat
