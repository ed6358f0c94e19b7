#include "kernels/compat_matmul.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "base/error.h"
#include "kernels/kernel_table.h"
#include "kernels/parallel_team.h"
#include "kernels/quant_matmul.h"
#include "quant/ggml_compat_types.h"

namespace qat {
namespace {

uint64_t check_args(TensorType type, int64_t rows, int64_t cols, int64_t n) {
  QAT_CHECK(is_compat_type(type), "matmul_compat: ", tensor_type_name(type), " is not a compat type");
  const uint32_t bs = tensor_type_info(type).block_size;
  QAT_CHECK(rows >= 0 && n >= 0 && cols >= 0 && cols % bs == 0, "matmul_compat: cols ", cols,
            " must be a multiple of ", tensor_type_name(type), "'s block size ", bs);
  return tensor_bytes(uint32_t(type), uint64_t(cols));  // bytes per row
}

// Rows [r0, r1) times all tokens, with per-thread scratch.
void rows_times_tokens(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t rows,
                       int64_t cols, const KernelActivations& a, int64_t n, float* y) {
  thread_local std::vector<uint64_t> scratch;  // 8-byte elements keep the base aligned
  scratch.resize(size_t(compat_rows_scratch_bytes(cols, n) + 7) / 8);
  kernels().rows_compat(type, w, row_bytes, r0, r1, cols, a.blocks, a.info, n, y, rows,
                        reinterpret_cast<uint8_t*>(scratch.data()));
}

}  // namespace

void matmul_compat(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y, int64_t n) {
  const uint64_t row_bytes = check_args(type, rows, cols, n);
  if (rows == 0 || n == 0) return;
  const KernelActivations a = quantize_activations_for_kernels(x, n, cols);
  const auto* wb = static_cast<const uint8_t*>(w);
  // Small products are not worth waking the thread pool (as in quant_matmul).
  const bool parallel = rows * cols * n >= (1 << 18) && rows > 1;
  if (n <= 2) {
    // Decode: threads take ranges of rows (about 32 per thread, whole 8-row
    // groups, at least 64 rows) from a shared counter, so a core slowed by
    // other work does not leave the other waiting at the end of every product.
    // Each row's result is the same whichever thread computes it.
    std::atomic<int64_t> next{0};
    parallel_team(parallel, [&](int64_t, int64_t nt) {
      const int64_t chunk_rows = std::max<int64_t>(64, (rows + 32 * nt - 1) / (32 * nt) + 7) / 8 * 8;
      for (int64_t r0; (r0 = next.fetch_add(chunk_rows, std::memory_order_relaxed)) < rows;)
        rows_times_tokens(type, wb, row_bytes, r0, std::min(rows, r0 + chunk_rows), rows, cols, a, n, y);
    });
    return;
  }
  parallel_team(parallel, [&](int64_t id, int64_t nt) {
    // Whole 8-row groups per thread (the prompt kernels' tile).
    const int64_t groups = (rows + 7) / 8;
    const int64_t r0 = std::min(rows, groups * id / nt * 8), r1 = std::min(rows, groups * (id + 1) / nt * 8);
    if (r1 > r0) rows_times_tokens(type, wb, row_bytes, r0, r1, rows, cols, a, n, y);
  });
}

void matmul_compat_a16(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                       int64_t n) {
  const uint64_t row_bytes = check_args(type, rows, cols, n);
  const auto* wb = static_cast<const uint8_t*>(w);
#pragma omp parallel if (rows * cols * n >= (1 << 18))
  {
    std::vector<float> row(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row_compat(type, wb + uint64_t(r) * row_bytes, row.data(), cols);
      for (int64_t t = 0; t < n; ++t) {
        const float* xt = x + t * cols;
        float s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < cols; ++c) s += row[size_t(c)] * xt[c];
        y[t * rows + r] = s;
      }
    }
  }
}

void matmul_compat_ref(TensorType type, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                       int64_t n) {
  const uint64_t row_bytes = check_args(type, rows, cols, n);
  std::vector<BlockQ8_0> xq(size_t(n * (cols / 32)));
  std::vector<ActBlockInfo> info(xq.size());
  quantize_act_ref(x, n * (cols / 32), xq.data(), info.data());  // the reference quantizer, plus block sums
  std::vector<int8_t> codes(static_cast<size_t>(cols));
  std::vector<CompatChunk> chunks(size_t(cols / 32));
  for (int64_t r = 0; r < rows; ++r) {
    unpack_row_compat(type, static_cast<const uint8_t*>(w) + uint64_t(r) * row_bytes, cols, codes.data(),
                      chunks.data());
    dot_compat_ref(codes.data(), chunks.data(), cols / 32, xq.data(), info.data(), n, y + r, rows);
  }
}

}  // namespace qat
