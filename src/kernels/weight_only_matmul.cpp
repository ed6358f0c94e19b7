#include "kernels/weight_only_matmul.h"

#include <algorithm>
#include <vector>

#include "base/error.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/parallel_team.h"
#include "quant/quant_types.h"

namespace qat {

namespace {

void check_args(TensorType wtype, int64_t rows, int64_t cols, int64_t n) {
  QAT_CHECK(wtype == TensorType::Q8_0 || wtype == TensorType::Q4_0, "weight-only matmul: unsupported weight type ",
            tensor_type_name(wtype), " (expected Q8_0 or Q4_0)");
  QAT_CHECK(rows >= 0 && n >= 0 && cols >= 0 && cols % kQuantBlock == 0, "weight-only matmul: cols ", cols,
            " must be a multiple of ", kQuantBlock, " (rows ", rows, ", n ", n, ")");
}

// Rows [0, count) of GGUF-layout blocks (count * nb of them) to FP32.
void dequantize_rows(TensorType type, const void* blocks, int64_t count, int64_t cols, float* out) {
  const int64_t nb = cols / kQuantBlock;
  for (int64_t j = 0; j < count; ++j) {
    if (type == TensorType::Q8_0)
      dequantize_row_q8_0(static_cast<const BlockQ8_0*>(blocks) + j * nb, out + j * cols, cols);
    else
      dequantize_row_q4_0(static_cast<const BlockQ4_0*>(blocks) + j * nb, out + j * cols, cols);
  }
}

size_t block_bytes(TensorType type) { return type == TensorType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0); }

// The shared driver: 8-row groups [0, groups) split over threads; each
// thread turns its group into FP32 rows (fill_group) and runs the float GEMM
// on them. The float kernels tile rows by 4 from r0, so groups starting at
// multiples of 8 keep the F32 path's tiles and summation order.
template <typename FillGroup>
void run_groups(int64_t rows, int64_t cols, const float* x, float* y, int64_t n, FillGroup fill_group) {
  if (rows == 0 || n == 0) return;
  const FloatGemmFn gemm = kernels().gemm_float;
  const int64_t groups = (rows + kPackRows - 1) / kPackRows;
  // Small products are not worth waking the thread pool (see quant_matmul.cpp).
  const bool parallel = rows * cols * n >= (1 << 18) && groups > 1;
  parallel_team(parallel, [&](int64_t id, int64_t nt) {
    // Per-thread scratch, reused across calls (decode calls this per matrix).
    thread_local std::vector<float> wf;
    wf.resize(size_t(kPackRows * cols));
    const int64_t g0 = groups * id / nt, g1 = groups * (id + 1) / nt;
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * kPackRows, count = std::min<int64_t>(kPackRows, rows - r0);
      fill_group(g, count, wf.data());
      // wf holds rows [r0, r0 + count); y's row stride stays `rows`.
      gemm(TensorType::F32, wf.data(), rows, cols, 0, count, x, n, y + r0);
    }
  });
}

}  // namespace

void dequantize_packed_group(const PackedMatrix& w, int64_t g, float* out) {
  check_args(w.type, w.rows, w.cols, 1);
  QAT_CHECK(g >= 0 && g * kPackRows < w.rows, "dequantize_packed_group: group ", g, " out of range");
  const int64_t nb = w.cols / kQuantBlock, count = std::min<int64_t>(kPackRows, w.rows - g * kPackRows);
  const KernelTable& k = kernels();
  const DequantGroupFn dequant = w.type == TensorType::Q4_0 ? k.dequant_q4_0 : k.dequant_q8_0;
  dequant(w.data.get() + g * nb * packed_group_block_bytes(w.type), nb, count, w.cols, out);
}

void matmul_packed_a16(const PackedMatrix& w, const float* x, float* y, int64_t n) {
  check_args(w.type, w.rows, w.cols, n);
  const int64_t nb = w.cols / kQuantBlock, gbytes = nb * packed_group_block_bytes(w.type);
  const KernelTable& k = kernels();
  const DequantGroupFn dequant = w.type == TensorType::Q4_0 ? k.dequant_q4_0 : k.dequant_q8_0;
  const uint8_t* packed = w.data.get();
  const int64_t cols = w.cols;
  run_groups(w.rows, w.cols, x, y, n, [=](int64_t g, int64_t count, float* out) {
    dequant(packed + g * gbytes, nb, count, cols, out);
  });
}

void matmul_quant_a16(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x, float* y,
                      int64_t n) {
  check_args(wtype, rows, cols, n);
  const size_t row_bytes = size_t(cols / kQuantBlock) * block_bytes(wtype);
  run_groups(rows, cols, x, y, n, [=](int64_t g, int64_t count, float* out) {
    dequantize_rows(wtype, static_cast<const uint8_t*>(w) + size_t(g * kPackRows) * row_bytes, count, cols, out);
  });
}

void matmul_quant_a16_ref(TensorType wtype, const void* w, int64_t rows, int64_t cols, const float* x,
                          float* y, int64_t n) {
  check_args(wtype, rows, cols, n);
  const size_t row_bytes = size_t(cols / kQuantBlock) * block_bytes(wtype);
  std::vector<float> row(static_cast<size_t>(cols)), yr(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_rows(wtype, static_cast<const uint8_t*>(w) + size_t(r) * row_bytes, 1, cols, row.data());
    // matmul_ref itself on the one row: a copy of its loop can be compiled
    // with or without fused multiply-adds independently of it (GCC, -march=
    // native on an Intel Xeon, stop 28: the last bit differed).
    matmul_ref(MatrixView{TensorType::F32, row.data(), 1, cols}, x, yr.data(), n);
    for (int64_t t = 0; t < n; ++t) y[t * rows + r] = yr[size_t(t)];
  }
}

}  // namespace qat
