// Batches of next-token windows from a packed token stream (token_stream.h).
//
// Split: the last floor(val_fraction * N) tokens of the stream are the
// validation part, the rest the training part. One cut, so no validation
// token is ever read by a training window (as input or as target); with a
// directory of documents the validation part is the tail of the last files.
//
// Windows: window w of a part reads its tokens [w*seq, w*seq + seq] (seq+1
// tokens): inputs are the first seq, targets the last seq. Consecutive
// windows share only their boundary token (target of one, input of the next),
// so every next-token pair of a part is a target exactly once; the tail
// shorter than a window is left out.
//
// Training order: each epoch visits every training window once, in an order
// shuffled per epoch (epoch_order.h); batches fill across epoch ends, so every
// batch has `batch` rows. cursor() says where the sampler stands; a sampler
// given a saved cursor continues with exactly the batches an uninterrupted
// run would have drawn. Validation batches are the validation windows in
// order, `batch` at a time (the last batch may be smaller).
#pragma once
#include <cstdint>
#include <vector>

#include "train/data_cursor.h"
#include "train/epoch_order.h"

namespace qat {

struct LmBatch {
  int batch = 0, seq = 0;
  std::vector<int32_t> inputs;   // (B, T) tokens
  std::vector<int32_t> targets;  // (B, T) the token after each input
};

struct LmSamplerOptions {
  int batch = 8;
  int seq = 256;
  double val_fraction = 0.05;  // in [0, 1); 0 = no validation part
  uint64_t seed = 1234;
};

class LmSampler {
 public:
  // Keeps a reference to tokens: they must outlive the sampler. Throws
  // qat::Error when a part is shorter than one window (saying how many tokens
  // it has and how many seq needs).
  LmSampler(const std::vector<int32_t>& tokens, const LmSamplerOptions& options);
  LmSampler(std::vector<int32_t>&&, const LmSamplerOptions&) = delete;  // would dangle

  LmBatch next();  // the training batch at cursor(); advances the cursor
  const DataCursor& cursor() const { return cursor_; }
  void set_cursor(const DataCursor& c);  // throws when c is past an epoch's end

  int64_t train_windows() const { return train_windows_; }
  int64_t val_windows() const { return val_windows_; }
  int64_t val_batches() const;
  LmBatch val_batch(int64_t i) const;  // validation windows [i*B, min((i+1)*B, val_windows))

  int64_t val_begin() const { return val_begin_; }  // first validation token; = N without validation
  // Token offsets of windows, for tests and diagnostics.
  int64_t train_window_offset(int64_t w) const { return w * opt_.seq; }
  int64_t val_window_offset(int64_t w) const { return val_begin_ + w * opt_.seq; }

 private:
  void copy_window(int64_t offset, int row, LmBatch& b) const;

  const std::vector<int32_t>& tokens_;
  LmSamplerOptions opt_;
  int64_t val_begin_ = 0, train_windows_ = 0, val_windows_ = 0;
  EpochOrder order_;
  DataCursor cursor_;
};

}  // namespace qat
