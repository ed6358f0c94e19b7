#include "train/train_ops.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/fast_math.h"

namespace qat {

namespace {
// FP32 uses the inference kernels' vectorizable polynomials (so training
// computes GELU, softcap and softmax as the deployed model does); double
// (finite-difference tests) uses libm.
inline float tanh_of(float x) { return tanh_poly(x); }
inline double tanh_of(double x) { return std::tanh(x); }
inline float exp_of(float x) { return exp_poly(x); }
inline double exp_of(double x) { return std::exp(x); }
inline float gelu_of(float x) { return gelu_poly(x); }
inline double gelu_of(double x) {
  return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}
// GELU's value (bit for bit the forward's) and its derivative. With
// s = 1 / (1 + e^-2u): gelu = x s, d/dx = s + 2 x s (1 - s) u'(x).
inline void gelu_with_grad(float x, float& g, float& dg) {
  const float e = gelu_exp_term(x);
  const float s = 1.0f / (1.0f + e);
  const float d = s + 2.0f * x * s * (1.0f - s) * (kGeluK + (3.0f * kGeluK * kGeluA) * (x * x));
  g = gelu_from_exp_term(x, e);
  dg = x < -10.0f ? 0.0f : d;  // where GELU is flat 0
}
inline void gelu_with_grad(double x, double& g, double& dg) {
  constexpr double k = 0.7978845608028654, a = 0.044715;
  const double th = std::tanh(k * (x + a * x * x * x));
  g = 0.5 * x * (1 + th);
  dg = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * a * x * x);
}
}  // namespace

// ---- embedding ------------------------------------------------------------

template <typename T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int64_t N, int64_t C, T scale) {
#pragma omp parallel for schedule(static) if (N * C >= (1 << 16))
  for (int64_t n = 0; n < N; ++n) {
    const T* row = table + int64_t(ids[n]) * C;
    for (int64_t i = 0; i < C; ++i) out[n * C + i] = row[i] * scale;
  }
}

template <typename T>
void embedding_backward(T* dtable, const T* dout, const int32_t* ids, int64_t N, int64_t C, T scale,
                        int32_t skip_id) {
  // Sequential over rows: two rows with the same id add into one table row,
  // and a fixed order keeps the result identical for any thread count.
  for (int64_t n = 0; n < N; ++n) {
    if (ids[n] == skip_id) continue;
    T* row = dtable + int64_t(ids[n]) * C;
    for (int64_t i = 0; i < C; ++i) row[i] += dout[n * C + i] * scale;
  }
}

// ---- RMSNorm --------------------------------------------------------------

template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* x, const T* w, int64_t N, int64_t C, T eps) {
#pragma omp parallel for schedule(static) if (N * C >= (1 << 15))
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
    double ss = 0;  // double accumulation as the inference rms_norm does
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < C; ++i) ss += double(xr[i]) * double(xr[i]);
    const T mean = T(ss / double(C));
    const T s = T(1) / std::sqrt(mean + eps);
    rstd[n] = s;
    T* o = out + n * C;
    if (w)
      for (int64_t i = 0; i < C; ++i) o[i] = (xr[i] * s) * w[i];
    else
      for (int64_t i = 0; i < C; ++i) o[i] = xr[i] * s;
  }
}

template <typename T>
void rmsnorm_backward(T* dx, T* dw, const T* dout, const T* x, const T* w, const T* rstd, int64_t N,
                      int64_t C) {
  // y = x * s * w with s = (mean(x^2) + eps)^-1/2:
  //   dx = s * (dy * w) - x * s^3 / C * sum(dy * w * x)
#pragma omp parallel for schedule(static) if (N * C >= (1 << 15))
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
    const T* dy = dout + n * C;
    const T s = rstd[n];
    double dot = 0;
    T* d = dx + n * C;
    if (w) {
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < C; ++i) dot += double(dy[i]) * double(w[i]) * double(xr[i]);
      const T k = T(dot * double(s) * double(s) * double(s) / double(C));
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) d[i] += s * dy[i] * w[i] - xr[i] * k;
    } else {
#pragma omp simd reduction(+ : dot)
      for (int64_t i = 0; i < C; ++i) dot += double(dy[i]) * double(xr[i]);
      const T k = T(dot * double(s) * double(s) * double(s) / double(C));
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) d[i] += s * dy[i] - xr[i] * k;
    }
  }
  if (dw) {
    // dw[i] = sum_n dout[n,i] * x[n,i] * rstd[n]: rows are read in order
    // (a column walk would stride through memory), in fixed chunks of rows
    // whose partial sums are added in chunk order, so the result is the
    // same for any thread count.
    constexpr int64_t kRows = 64;
    const int64_t chunks = (N + kRows - 1) / kRows;
    std::vector<double> part(size_t(chunks * C), 0.0);
#pragma omp parallel for schedule(static) if (N * C >= (1 << 15))
    for (int64_t ch = 0; ch < chunks; ++ch) {
      double* acc = part.data() + ch * C;
      for (int64_t n = ch * kRows; n < std::min(N, (ch + 1) * kRows); ++n) {
        const T* dy = dout + n * C;
        const T* xr = x + n * C;
        const double s = double(rstd[n]);
#pragma omp simd
        for (int64_t i = 0; i < C; ++i) acc[i] += double(dy[i]) * double(xr[i]) * s;
      }
    }
    for (int64_t i = 0; i < C; ++i) {
      double acc = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) acc += part[size_t(ch * C + i)];
      dw[i] += T(acc);
    }
  }
}

// ---- matmul ---------------------------------------------------------------

template <typename T>
void matmul_forward(T* out, const T* x, const T* W, int64_t N, int64_t C, int64_t OC) {
#pragma omp parallel for schedule(static) if (N * C * OC >= (1 << 16))
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < OC; ++o) {
      T acc = 0;
      for (int64_t i = 0; i < C; ++i) acc += x[n * C + i] * W[o * C + i];
      out[n * OC + o] = acc;
    }
}

template <typename T>
void matmul_backward(T* dx, T* dW, const T* dout, const T* x, const T* W, int64_t N, int64_t C,
                     int64_t OC) {
  const bool big = N * C * OC >= (1 << 16);
  if (dx) {
#pragma omp parallel for schedule(static) if (big)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < OC; ++o) {
        const T g = dout[n * OC + o];
        for (int64_t i = 0; i < C; ++i) dx[n * C + i] += g * W[o * C + i];
      }
  }
  if (dW) {
#pragma omp parallel for schedule(static) if (big)
    for (int64_t o = 0; o < OC; ++o)
      for (int64_t n = 0; n < N; ++n) {
        const T g = dout[n * OC + o];
        for (int64_t i = 0; i < C; ++i) dW[o * C + i] += g * x[n * C + i];
      }
  }
}

// FP32: OpenBLAS (row-major sgemm).
template <>
void matmul_forward<float>(float* out, const float* x, const float* W, int64_t N, int64_t C, int64_t OC) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(N), int(OC), int(C), 1.0f, x, int(C), W, int(C),
              0.0f, out, int(OC));
}

template <>
void matmul_backward<float>(float* dx, float* dW, const float* dout, const float* x, const float* W,
                            int64_t N, int64_t C, int64_t OC) {
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(N), int(C), int(OC), 1.0f, dout, int(OC), W,
                int(C), 1.0f, dx, int(C));
  if (dW)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(OC), int(C), int(N), 1.0f, dout, int(OC), x,
                int(C), 1.0f, dW, int(C));
}

void set_matmul_threads(int n) { openblas_set_num_threads(n); }

// ---- RoPE -----------------------------------------------------------------

template <typename T>
static void rotate(T* x, const float* cos_tab, const float* sin_tab, const int32_t* pos, int64_t N,
                   int64_t heads, int64_t hd, T sign) {
  const int64_t half = hd / 2;
#pragma omp parallel for schedule(static) if (N * heads * hd >= (1 << 15))
  for (int64_t n = 0; n < N; ++n) {
    const float* c = cos_tab + int64_t(pos[n]) * half;
    const float* s = sin_tab + int64_t(pos[n]) * half;
    for (int64_t h = 0; h < heads; ++h) {
      T* lo = x + (n * heads + h) * hd;
      T* hi = lo + half;
      for (int64_t j = 0; j < half; ++j) {
        const T a = lo[j], b = hi[j], cj = T(c[j]), sj = sign * T(s[j]);
        lo[j] = a * cj - b * sj;
        hi[j] = b * cj + a * sj;
      }
    }
  }
}

template <typename T>
void rope_forward(T* x, const float* cos_tab, const float* sin_tab, const int32_t* pos, int64_t N,
                  int64_t heads, int64_t hd) {
  rotate(x, cos_tab, sin_tab, pos, N, heads, hd, T(1));
}

template <typename T>
void rope_backward(T* d, const float* cos_tab, const float* sin_tab, const int32_t* pos, int64_t N,
                   int64_t heads, int64_t hd) {
  // A rotation's Jacobian is the rotation itself; its transpose rotates back.
  rotate(d, cos_tab, sin_tab, pos, N, heads, hd, T(-1));
}

// ---- GeGLU ----------------------------------------------------------------

template <typename T>
void geglu_forward(T* out, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = gelu_of(gate[i]) * up[i];
}

template <typename T>
void geglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    T g, dg;
    gelu_with_grad(gate[i], g, dg);
    dgate[i] += dout[i] * up[i] * dg;
    dup[i] += dout[i] * g;
  }
}

// ---- softcap --------------------------------------------------------------

template <typename T>
void softcap_forward(T* out, const T* x, int64_t n, T cap) {
  const T inv = T(1) / cap;
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = cap * tanh_of(x[i] * inv);
}

template <typename T>
void softcap_backward(T* dx, const T* dout, const T* y, int64_t n, T cap) {
  const T inv = T(1) / cap;
  const bool in_place = dx == dout;
#pragma omp parallel for simd schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const T r = y[i] * inv;
    const T g = dout[i] * (T(1) - r * r);
    dx[i] = in_place ? g : dx[i] + g;
  }
}

// ---- cross-entropy --------------------------------------------------------

template <typename T>
double cross_entropy_forward_backward(T* dlogits, const T* logits, const int32_t* targets, int64_t N,
                                      int64_t V, int32_t ignore, T dloss, int64_t* count) {
  int64_t cnt = 0;
  for (int64_t n = 0; n < N; ++n) cnt += targets[n] != ignore;
  if (count) *count = cnt;
  std::vector<double> row_loss(size_t(N), 0.0);
  const double g = cnt > 0 ? double(dloss) / double(cnt) : 0.0;
#pragma omp parallel for schedule(static) if (N * V >= (1 << 14))
  for (int64_t n = 0; n < N; ++n) {
    const T* l = logits + n * V;
    T* d = dlogits ? dlogits + n * V : nullptr;
    if (targets[n] == ignore) {
      if (d) std::fill(d, d + V, T(0));
      continue;
    }
    T mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < V; ++i) mx = l[i] > mx ? l[i] : mx;
    const T tgt = l[targets[n]];  // read before d (which may alias l) is written
    double sum = 0;
    if (d) {
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < V; ++i) {
        d[i] = exp_of(l[i] - mx);
        sum += double(d[i]);
      }
      const T scale = T(g / sum);
#pragma omp simd
      for (int64_t i = 0; i < V; ++i) d[i] *= scale;
      d[targets[n]] -= T(g);
    } else {
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < V; ++i) sum += double(exp_of(l[i] - mx));
    }
    row_loss[size_t(n)] = double(mx) + std::log(sum) - double(tgt);
  }
  double total = 0;
  for (int64_t n = 0; n < N; ++n) total += row_loss[size_t(n)];
  return cnt > 0 ? total / double(cnt) : 0.0;
}

// ---- pooling and scalars --------------------------------------------------

template <typename T>
void pool_forward(T* out, const T* x, const int32_t* len, int64_t B, int64_t T_, int64_t C, Pooling p) {
  for (int64_t b = 0; b < B; ++b) {
    T* o = out + b * C;
    const T* xb = x + b * T_ * C;
    if (p == Pooling::Last) {
      std::copy(xb + int64_t(len[b] - 1) * C, xb + int64_t(len[b]) * C, o);
    } else {
      std::vector<double> acc(size_t(C), 0.0);
      for (int64_t t = 0; t < len[b]; ++t)
        for (int64_t i = 0; i < C; ++i) acc[size_t(i)] += double(xb[t * C + i]);
      for (int64_t i = 0; i < C; ++i) o[i] = T(acc[size_t(i)] / double(len[b]));
    }
  }
}

template <typename T>
void pool_backward(T* dx, const T* dout, const int32_t* len, int64_t B, int64_t T_, int64_t C, Pooling p) {
  for (int64_t b = 0; b < B; ++b) {
    const T* d = dout + b * C;
    T* dxb = dx + b * T_ * C;
    if (p == Pooling::Last) {
      T* row = dxb + int64_t(len[b] - 1) * C;
      for (int64_t i = 0; i < C; ++i) row[i] += d[i];
    } else {
      const T inv = T(1) / T(len[b]);
      for (int64_t t = 0; t < len[b]; ++t)
        for (int64_t i = 0; i < C; ++i) dxb[t * C + i] += d[i] * inv;
    }
  }
}

template <typename T>
void scale_backward(T* dx, T* ds, const T* dout, const T* x, T s, int64_t n) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    acc += double(dout[i]) * double(x[i]);
    dx[i] += dout[i] * s;
  }
  *ds += T(acc);
}

// ---- instantiations -------------------------------------------------------

#define QAT_TRAIN_OPS(T)                                                                                  \
  template void embedding_forward<T>(T*, const int32_t*, const T*, int64_t, int64_t, T);                   \
  template void embedding_backward<T>(T*, const T*, const int32_t*, int64_t, int64_t, T, int32_t);                  \
  template void rmsnorm_forward<T>(T*, T*, const T*, const T*, int64_t, int64_t, T);                       \
  template void rmsnorm_backward<T>(T*, T*, const T*, const T*, const T*, const T*, int64_t, int64_t);     \
  template void rope_forward<T>(T*, const float*, const float*, const int32_t*, int64_t, int64_t, int64_t); \
  template void rope_backward<T>(T*, const float*, const float*, const int32_t*, int64_t, int64_t, int64_t); \
  template void geglu_forward<T>(T*, const T*, const T*, int64_t);                                         \
  template void geglu_backward<T>(T*, T*, const T*, const T*, const T*, int64_t);                          \
  template void softcap_forward<T>(T*, const T*, int64_t, T);                                              \
  template void softcap_backward<T>(T*, const T*, const T*, int64_t, T);                                   \
  template double cross_entropy_forward_backward<T>(T*, const T*, const int32_t*, int64_t, int64_t,        \
                                                    int32_t, T, int64_t*);                                \
  template void pool_forward<T>(T*, const T*, const int32_t*, int64_t, int64_t, int64_t, Pooling);         \
  template void pool_backward<T>(T*, const T*, const int32_t*, int64_t, int64_t, int64_t, Pooling);        \
  template void scale_backward<T>(T*, T*, const T*, const T*, T, int64_t);

QAT_TRAIN_OPS(float)
QAT_TRAIN_OPS(double)
template void matmul_forward<double>(double*, const double*, const double*, int64_t, int64_t, int64_t);
template void matmul_backward<double>(double*, double*, const double*, const double*, const double*, int64_t,
                                      int64_t, int64_t);

}  // namespace qat
