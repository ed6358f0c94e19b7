#include "train/lm_sampler.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"

namespace qat {

namespace {

// Windows of seq+1 tokens at stride seq in a part of n tokens.
int64_t windows_in(int64_t n, int seq) { return n > seq ? (n - 1) / seq : 0; }

int64_t checked_train_windows(const std::vector<int32_t>& tokens, const LmSamplerOptions& o) {
  QAT_CHECK(o.batch > 0 && o.seq > 0, "LM sampler: batch (", o.batch, ") and seq (", o.seq, ") must be positive");
  QAT_CHECK(o.val_fraction >= 0 && o.val_fraction < 1, "LM sampler: val_fraction ", o.val_fraction,
            " must be in [0, 1)");
  const int64_t n = int64_t(tokens.size());
  const int64_t val = int64_t(std::floor(o.val_fraction * double(n)));
  const int64_t w = windows_in(n - val, o.seq);
  QAT_CHECK(w > 0, "the text is shorter than one training window: ", n - val, " training tokens (of ", n,
            ", after holding out ", val, " for validation), and seq ", o.seq, " needs ", int64_t(o.seq) + 1,
            ": use more text or a smaller seq");
  return w;
}

}  // namespace

LmSampler::LmSampler(const std::vector<int32_t>& tokens, const LmSamplerOptions& options)
    : tokens_(tokens), opt_(options), order_(checked_train_windows(tokens, options), options.seed) {
  const int64_t n = int64_t(tokens.size());
  val_begin_ = n - int64_t(std::floor(opt_.val_fraction * double(n)));
  train_windows_ = order_.size();
  val_windows_ = windows_in(n - val_begin_, opt_.seq);
  QAT_CHECK(opt_.val_fraction == 0 || val_windows_ > 0,
            "the validation part is shorter than one window: ", n - val_begin_, " tokens (val_fraction ",
            opt_.val_fraction, " of ", n, "), and seq ", opt_.seq, " needs ", int64_t(opt_.seq) + 1,
            ": raise val_fraction, use more text or a smaller seq");
}

void LmSampler::set_cursor(const DataCursor& c) {
  order_.check(c);
  cursor_ = c;
}

void LmSampler::copy_window(int64_t offset, int row, LmBatch& b) const {
  const int32_t* src = tokens_.data() + offset;
  std::copy(src, src + opt_.seq, b.inputs.begin() + int64_t(row) * opt_.seq);
  std::copy(src + 1, src + 1 + opt_.seq, b.targets.begin() + int64_t(row) * opt_.seq);
}

LmBatch LmSampler::next() {
  LmBatch b{opt_.batch, opt_.seq, {}, {}};
  b.inputs.resize(size_t(opt_.batch) * size_t(opt_.seq));
  b.targets.resize(b.inputs.size());
  for (int r = 0; r < opt_.batch; ++r) copy_window(train_window_offset(order_.next(cursor_)), r, b);
  return b;
}

int64_t LmSampler::val_batches() const { return (val_windows_ + opt_.batch - 1) / opt_.batch; }

LmBatch LmSampler::val_batch(int64_t i) const {
  QAT_CHECK(i >= 0 && i < val_batches(), "validation batch ", i, " out of range: there are ", val_batches());
  const int64_t first = i * opt_.batch;
  const int rows = int(std::min<int64_t>(opt_.batch, val_windows_ - first));
  LmBatch b{rows, opt_.seq, {}, {}};
  b.inputs.resize(size_t(rows) * size_t(opt_.seq));
  b.targets.resize(b.inputs.size());
  for (int r = 0; r < rows; ++r) copy_window(val_window_offset(first + r), r, b);
  return b;
}

}  // namespace qat
