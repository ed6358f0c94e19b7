#include "kernels/quant_matmul.h"

#include <algorithm>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/parallel_team.h"

namespace qat {

void quantize_activations_q8_0(const float* x, int64_t n, int64_t cols, std::vector<BlockQ8_0>& out) {
  QAT_CHECK(n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "quantize_activations_q8_0: cols ", cols,
            " must be a multiple of ", kQuantBlock, " (n ", n, ")");
  out.resize(size_t(n * (cols / kQuantBlock)));
  // Rows are contiguous and block-aligned, so one call covers them all.
  if (n > 0 && cols > 0) quantize_row_q8_0(x, out.data(), n * cols);
}

KernelActivations quantize_activations_for_kernels(const float* x, int64_t n, int64_t cols) {
  QAT_CHECK(n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "activation quantization: cols ", cols,
            " must be a multiple of ", kQuantBlock);
  const int64_t nb = cols / kQuantBlock;
  // Scratch reused across calls on this thread (decode calls this per matrix).
  thread_local std::vector<BlockQ8_0> xq;
  thread_local std::vector<ActBlockInfo> xinfo;
  thread_local std::vector<uint8_t> tiles;
  xq.resize(size_t(n * nb));
  xinfo.resize(size_t(n * nb));
  const KernelTable& k = kernels();
  if (!k.quantize_act(x, n * nb, xq.data(), xinfo.data()))
    quantize_activations_q8_0(x, n, cols, xq);  // reports the NaN / inf
  if (!k.pack_act_tiles) return {xq.data(), xinfo.data(), nullptr};
  tiles.resize(size_t(n * nb * k.act_tile_block_bytes));
  k.pack_act_tiles(xq.data(), xinfo.data(), n, nb, tiles.data());
  return {xq.data(), xinfo.data(), tiles.data()};
}

float vec_dot_q8_0_q8_0_ref(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  float sum = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 32; ++j) isum += int32_t(w[b].qs[j]) * int32_t(a[b].qs[j]);
    sum += float(isum) * (fp16_to_f32(w[b].d_fp16) * fp16_to_f32(a[b].d_fp16));
  }
  return sum;
}

float vec_dot_q4_0_q8_0_ref(const BlockQ4_0* w, const BlockQ8_0* a, int64_t n_blocks) {
  float sum = 0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (int32_t(w[b].qs[j] & 0x0f) - 8) * int32_t(a[b].qs[j]);
      isum += (int32_t(w[b].qs[j] >> 4) - 8) * int32_t(a[b].qs[j + 16]);
    }
    sum += float(isum) * (fp16_to_f32(w[b].d_fp16) * fp16_to_f32(a[b].d_fp16));
  }
  return sum;
}

namespace {

void check_args(TensorType wtype, int64_t rows, int64_t cols, int64_t n) {
  QAT_CHECK(wtype == TensorType::Q8_0 || wtype == TensorType::Q4_0, "matmul_quant: unsupported weight type ",
            tensor_type_name(wtype), " (expected Q8_0 or Q4_0)");
  QAT_CHECK(rows >= 0 && n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "matmul_quant: cols ", cols,
            " must be a multiple of ", kQuantBlock, " (rows ", rows, ", n ", n, ")");
}

// The product itself, arguments checked by the caller and non-empty.
void run_packed(const PackedMatrix& w, const KernelActivations& a, float* y, int64_t n) {
  const int64_t nb = w.cols / kQuantBlock;
  const KernelTable& k = kernels();
  const PackedGemmFn gemm = w.type == TensorType::Q8_0 ? k.gemm_q8_0 : k.gemm_q4_0;
  const int64_t groups = (w.rows + kPackRows - 1) / kPackRows;
  const BlockQ8_0* xp = a.blocks;
  const ActBlockInfo* sp = a.info;
  const uint8_t* tp = a.tiles;
  // Small products are not worth waking the thread pool: a barrier costs
  // microseconds, and far more when another process holds a core.
  const bool parallel = w.rows * w.cols * n >= (1 << 18) && groups > 1;
  parallel_team(parallel, [&](int64_t id, int64_t nt) {
    const int64_t g0 = groups * id / nt, g1 = groups * (id + 1) / nt;
    if (g1 > g0) gemm(w.data.get(), nb, g0, g1, xp, sp, tp, n, y, w.rows);
  });
}

}  // namespace

void matmul_packed(const PackedMatrix& w, const float* x, float* y, int64_t n) {
  check_args(w.type, w.rows, w.cols, n);
  if (w.rows == 0 || n == 0) return;
  run_packed(w, quantize_activations_for_kernels(x, n, w.cols), y, n);
}

void matmul_packed_quantized(const PackedMatrix& w, const KernelActivations& a, float* y, int64_t n) {
  check_args(w.type, w.rows, w.cols, n);
  if (w.rows == 0 || n == 0) return;
  run_packed(w, a, y, n);
}

void matmul_quant(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                  int64_t n) {
  check_args(wtype, rows, cols, n);
  matmul_packed(make_packed_matrix(wtype, w, rows, cols), x, y, n);
}

void matmul_quant_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                      float* y, int64_t n) {
  check_args(wtype, rows, cols, n);
  std::vector<BlockQ8_0> xq;
  quantize_activations_q8_0(x, n, cols, xq);
  const int64_t nb = cols / kQuantBlock;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t)
      y[t * rows + r] = wtype == TensorType::Q8_0
                            ? vec_dot_q8_0_q8_0_ref(static_cast<const BlockQ8_0*>(w) + r * nb, &xq[size_t(t * nb)], nb)
                            : vec_dot_q4_0_q8_0_ref(static_cast<const BlockQ4_0*>(w) + r * nb, &xq[size_t(t * nb)], nb);
}

}  // namespace qat
