// Scalar level: portable loops over the packed layout. Also the fallback on
// CPUs without a SIMD level and the baseline the SIMD levels are tested
// against (through matmul_quant_ref, which reads the GGUF layout instead).
#include "base/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/quant_pack.h"

namespace qat {

namespace {

// Code of row j, column k (0..31) of a packed group-block's qs.
inline int q8_code(const uint8_t* qs, int j, int k) {
  return int(int8_t(qs[((k / 4) * kPackRows + j) * 4 + k % 4]));
}
inline int q4_code(const uint8_t* qs, int j, int k) {
  const int kk = k % 16;
  const uint8_t byte = qs[((kk / 4) * kPackRows + j) * 4 + kk % 4];
  return int(k < 16 ? byte & 0x0f : byte >> 4) - 8;
}

template <bool kQ4>
void gemm_packed(const uint8_t* w, int64_t nb, int64_t g0, int64_t g1, const BlockQ8_0* x, const ActBlockInfo*,
                 const uint8_t*, int64_t n, float* y, int64_t rows) {
  const int64_t gbytes = kQ4 ? 144 : 272;
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < n; ++t) {
      float acc[kPackRows] = {};
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = w + (g * nb + b) * gbytes;
        const auto* d = reinterpret_cast<const uint16_t*>(blk);
        const uint8_t* qs = blk + 2 * kPackRows;
        const BlockQ8_0& a = x[t * nb + b];
        const float da = fp16_to_f32(a.d_fp16);
        for (int j = 0; j < kPackRows; ++j) {
          int32_t s = 0;
          for (int k = 0; k < 32; ++k) s += (kQ4 ? q4_code(qs, j, k) : q8_code(qs, j, k)) * int32_t(a.qs[k]);
          acc[j] += float(s) * (fp16_to_f32(d[j]) * da);
        }
      }
      for (int j = 0; j < kPackRows; ++j)
        if (g * kPackRows + j < rows) y[t * rows + g * kPackRows + j] = acc[j];
    }
}

inline float load_float(TensorType type, const void* w, int64_t i) {
  if (type == TensorType::F32) return static_cast<const float*>(w)[i];
  const uint16_t h = static_cast<const uint16_t*>(w)[i];
  return type == TensorType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
}

void gemm_float(TensorType type, const void* w, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                const float* x, int64_t n, float* y) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t t = 0; t < n; ++t) {
      // Four partial sums: keeps the loop free of one long dependency chain.
      float s[4] = {};
      int64_t c = 0;
      for (; c + 4 <= cols; c += 4)
        for (int i = 0; i < 4; ++i) s[i] += load_float(type, w, r * cols + c + i) * x[t * cols + c + i];
      for (; c < cols; ++c) s[0] += load_float(type, w, r * cols + c) * x[t * cols + c];
      y[t * rows + r] = (s[0] + s[1]) + (s[2] + s[3]);
    }
}

// Row j's codes gathered from the interleaved 4-byte chunks, then
// float(code) * d, the expression of dequantize_row_*.
template <bool kQ4>
void dequant_group(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  constexpr int64_t kGroupBlock = kQ4 ? 144 : 272;
  constexpr int kChunks = kQ4 ? 4 : 8;  // 4-byte chunks of codes per row and block
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = group + b * kGroupBlock;
    const auto* d = reinterpret_cast<const uint16_t*>(blk);
    const uint8_t* qs = blk + 2 * kPackRows;
    for (int64_t j = 0; j < count; ++j) {
      const float dj = fp16_to_f32(d[j]);
      float* o = out + j * cols + b * 32;
      for (int c = 0; c < kChunks; ++c)
        for (int m = 0; m < 4; ++m) {
          const uint8_t byte = qs[(c * kPackRows + j) * 4 + m];
          if (kQ4) {
            o[4 * c + m] = float(int(byte & 0x0f) - 8) * dj;
            o[16 + 4 * c + m] = float(int(byte >> 4) - 8) * dj;
          } else {
            o[4 * c + m] = float(int8_t(byte)) * dj;
          }
        }
    }
  }
}

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch);

const KernelTable kTable{CpuLevel::Scalar,    gemm_packed<false>,   gemm_packed<true>,
                         gemm_float,          quantize_act_ref,     dequant_group<false>,
                         dequant_group<true>, unpack_row_compat,    dot_compat_ref,
                         rows_compat,         gemm_nn_f32_ref,      nullptr,
                         0};

void rows_compat(TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0, int64_t r1, int64_t cols,
                 const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y, int64_t rows, uint8_t* scratch) {
  rows_compat_unfused(kTable, type, w, row_bytes, r0, r1, cols, x, xi, n, y, rows, scratch);
}

}  // namespace

void dequant_group_q8_0_ref(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<false>(group, nb, count, cols, out);
}
void dequant_group_q4_0_ref(const uint8_t* group, int64_t nb, int64_t count, int64_t cols, float* out) {
  dequant_group<true>(group, nb, count, cols, out);
}

bool quantize_act_ref(const float* x, int64_t nb, BlockQ8_0* y, ActBlockInfo* info) {
  quantize_row_q8_0(x, y, nb * kQuantBlock);  // throws on NaN / inf
  for (int64_t b = 0; b < nb; ++b) {
    int32_t lo = 0, hi = 0;
    for (int k = 0; k < kQuantBlock / 2; ++k) lo += y[b].qs[k];
    for (int k = kQuantBlock / 2; k < kQuantBlock; ++k) hi += y[b].qs[k];
    info[b] = {lo + hi, fp16_to_f32(y[b].d_fp16), lo};
  }
  return true;
}

void rows_compat_unfused(const KernelTable& k, TensorType type, const uint8_t* w, uint64_t row_bytes, int64_t r0,
                         int64_t r1, int64_t cols, const BlockQ8_0* x, const ActBlockInfo* xi, int64_t n, float* y,
                         int64_t rows, uint8_t* scratch) {
  // The chunks go first: they need 4-byte alignment, the codes none.
  auto* chunks = reinterpret_cast<CompatChunk*>(scratch);
  auto* codes = reinterpret_cast<int8_t*>(scratch + (cols / 32) * int64_t(sizeof(CompatChunk)));
  for (int64_t r = r0; r < r1; ++r) {
    k.unpack_compat(type, w + uint64_t(r) * row_bytes, cols, codes, chunks);
    k.dot_compat(codes, chunks, cols / 32, x, xi, n, y + r, rows);
  }
}

void dot_compat_ref(const int8_t* codes, const CompatChunk* chunks, int64_t nb, const BlockQ8_0* x,
                    const ActBlockInfo* xi, int64_t n, float* y, int64_t y_stride) {
  for (int64_t t = 0; t < n; ++t) {
    const BlockQ8_0* a = x + t * nb;
    const ActBlockInfo* ai = xi + t * nb;
    float sum = 0;
    for (int64_t b = 0; b < nb; ++b) {
      const int8_t* w = codes + b * 32;
      int32_t lo = 0, hi = 0;
      for (int k = 0; k < 16; ++k) lo += int32_t(w[k]) * a[b].qs[k];
      for (int k = 16; k < 32; ++k) hi += int32_t(w[k]) * a[b].qs[k];
      const int32_t isum = chunks[b].sc[0] * lo + chunks[b].sc[1] * hi;
      const int32_t msum = chunks[b].mn[0] * ai[b].sum_lo + chunks[b].mn[1] * (ai[b].sum - ai[b].sum_lo);
      sum += ai[b].d * (chunks[b].s * float(isum) + chunks[b].m * float(msum));
    }
    y[t * y_stride] = sum;
  }
}

void gemm_nn_f32_ref(const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t ldb, float* c,
                     int64_t ldc, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (int64_t p = 0; p < k; ++p) s += a[i * a_rs + p * a_cs] * b[p * ldb + j];
      c[i * ldc + j] = s;
    }
}

const KernelTable* scalar_kernels() { return &kTable; }

}  // namespace qat
