// Causal attention forward / backward (declared in train_ops.h): a loop
// version for any scalar type (the finite-difference tests run it in
// double), and FP32 specializations whose products are GEMMs through
// OpenBLAS.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/fast_math.h"
#include "train/train_ops.h"

namespace qat {

// ---- attention ------------------------------------------------------------

static int64_t first_key(int64_t t, int64_t window) { return window > 0 ? std::max<int64_t>(0, t - window + 1) : 0; }

template <typename T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const AttentionShape& s) {
  const int64_t Tn = s.T, nh = s.nh, nkv = s.nkv, hd = s.hd, group = nh / nkv;
  const T scale = T(s.scale), cap = T(s.softcap);
  const bool big = s.B * nh * Tn * Tn * hd >= (1 << 16);  // threads only when they pay
#pragma omp parallel for collapse(2) schedule(static) if (big)
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < nh; ++h) {
      const int64_t g = h / group;
      for (int64_t t = 0; t < Tn; ++t) {
        const T* qt = q + ((b * Tn + t) * nh + h) * hd;
        T* pr = probs + ((b * nh + h) * Tn + t) * Tn;
        const int64_t lo = first_key(t, s.window);
        T mx = -INFINITY;
        for (int64_t p = lo; p <= t; ++p) {
          const T* kp = k + ((b * Tn + p) * nkv + g) * hd;
          T acc = 0;
          for (int64_t i = 0; i < hd; ++i) acc += qt[i] * kp[i];
          acc *= scale;
          if (cap > 0) acc = cap * std::tanh(acc / cap);
          pr[p] = acc;
          mx = std::max(mx, acc);
        }
        double sum = 0;
        for (int64_t p = lo; p <= t; ++p) {
          pr[p] = std::exp(pr[p] - mx);
          sum += double(pr[p]);
        }
        const T inv = T(1.0 / sum);
        for (int64_t p = 0; p < lo; ++p) pr[p] = 0;
        for (int64_t p = lo; p <= t; ++p) pr[p] *= inv;
        for (int64_t p = t + 1; p < Tn; ++p) pr[p] = 0;
        T* ot = out + ((b * Tn + t) * nh + h) * hd;
        std::fill(ot, ot + hd, T(0));
        for (int64_t p = lo; p <= t; ++p) {
          const T* vp = v + ((b * Tn + p) * nkv + g) * hd;
          const T w = pr[p];
          for (int64_t i = 0; i < hd; ++i) ot[i] += w * vp[i];
        }
      }
    }
}

template <typename T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k,
                        const T* v, const AttentionShape& s) {
  const int64_t Tn = s.T, nh = s.nh, nkv = s.nkv, hd = s.hd, group = nh / nkv;
  const T scale = T(s.scale), cap = T(s.softcap);
  // One task per (sequence, KV head): the query heads of a group all add into
  // the same dk / dv rows, so they run in one task, in order (deterministic).
  const bool big = s.B * nh * Tn * Tn * hd >= (1 << 16);
#pragma omp parallel for collapse(2) schedule(static) if (big)
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t g = 0; g < nkv; ++g) {
      std::vector<T> dscore(static_cast<size_t>(Tn));
      for (int64_t h = g * group; h < (g + 1) * group; ++h)
        for (int64_t t = 0; t < Tn; ++t) {
          const T* qt = q + ((b * Tn + t) * nh + h) * hd;
          T* dqt = dq + ((b * Tn + t) * nh + h) * hd;
          const T* dot_ = dout + ((b * Tn + t) * nh + h) * hd;
          const T* pr = probs + ((b * nh + h) * Tn + t) * Tn;
          const int64_t lo = first_key(t, s.window);
          // dP[p] = dout . v_p ; dv_p += P[p] * dout
          T wsum = 0;
          for (int64_t p = lo; p <= t; ++p) {
            const T* vp = v + ((b * Tn + p) * nkv + g) * hd;
            T* dvp = dv + ((b * Tn + p) * nkv + g) * hd;
            T acc = 0;
            for (int64_t i = 0; i < hd; ++i) {
              acc += dot_[i] * vp[i];
              dvp[i] += pr[p] * dot_[i];
            }
            dscore[size_t(p)] = acc;
            wsum += acc * pr[p];
          }
          // softmax backward, then softcap backward (needs the capped score:
          // recomputed from q and k rather than stored).
          for (int64_t p = lo; p <= t; ++p) {
            const T* kp = k + ((b * Tn + p) * nkv + g) * hd;
            T ds = pr[p] * (dscore[size_t(p)] - wsum);
            if (cap > 0) {
              T raw = 0;
              for (int64_t i = 0; i < hd; ++i) raw += qt[i] * kp[i];
              const T th = std::tanh(raw * scale / cap);
              ds *= T(1) - th * th;
            }
            ds *= scale;
            T* dkp = dk + ((b * Tn + p) * nkv + g) * hd;
            for (int64_t i = 0; i < hd; ++i) {
              dqt[i] += ds * kp[i];
              dkp[i] += ds * qt[i];
            }
          }
        }
    }
}

// FP32: per (sequence, head) the scores, the probabilities' products and
// every gradient are GEMMs through OpenBLAS (strided views into the
// (B, T, heads, hd) layouts); only the masking and the softmax are loops.
// Causal masking wastes the upper triangle's flops, which a GEMM still does
// faster than the loops above.
template <>
void attention_forward<float>(float* out, float* probs, const float* q, const float* k, const float* v,
                              const AttentionShape& s) {
  const int64_t Tn = s.T, nh = s.nh, nkv = s.nkv, hd = s.hd, group = nh / nkv;
  const int ldq = int(nh * hd), ldk = int(nkv * hd);
  const float cap = s.softcap, inv_cap = cap > 0 ? 1.0f / cap : 0.0f;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < nh; ++h) {
      const int64_t g = h / group;
      const float* Q = q + (b * Tn * nh + h) * hd;
      const float* K = k + (b * Tn * nkv + g) * hd;
      const float* Vv = v + (b * Tn * nkv + g) * hd;
      float* P = probs + (b * nh + h) * Tn * Tn;  // (T, T)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(Tn), int(Tn), int(hd), s.scale, Q, ldq, K, ldk, 0.0f,
                  P, int(Tn));
      for (int64_t t = 0; t < Tn; ++t) {
        float* row = P + t * Tn;
        const int64_t lo = first_key(t, s.window);
        if (cap > 0) {
#pragma omp simd
          for (int64_t p = lo; p <= t; ++p) row[p] = cap * tanh_poly(row[p] * inv_cap);
        }
        float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
        for (int64_t p = lo; p <= t; ++p) mx = row[p] > mx ? row[p] : mx;
        double sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t p = lo; p <= t; ++p) {
          row[p] = exp_poly(row[p] - mx);
          sum += double(row[p]);
        }
        const float inv = float(1.0 / sum);
        for (int64_t p = 0; p < lo; ++p) row[p] = 0.0f;
#pragma omp simd
        for (int64_t p = lo; p <= t; ++p) row[p] *= inv;
        for (int64_t p = t + 1; p < Tn; ++p) row[p] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(Tn), int(hd), int(Tn), 1.0f, P, int(Tn), Vv, ldk,
                  0.0f, out + (b * Tn * nh + h) * hd, ldq);
    }
}

template <>
void attention_backward<float>(float* dq, float* dk, float* dv, const float* dout, const float* probs, const float* q,
                               const float* k, const float* v, const AttentionShape& s) {
  const int64_t Tn = s.T, nh = s.nh, nkv = s.nkv, hd = s.hd, group = nh / nkv;
  const int ldq = int(nh * hd), ldk = int(nkv * hd), T = int(Tn);
  const float cap = s.softcap, inv_cap = cap > 0 ? 1.0f / cap : 0.0f;
  // One task per (sequence, KV head): the group's query heads add into the
  // same dk / dv rows in a fixed order (deterministic for any thread count).
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t g = 0; g < nkv; ++g) {
      std::vector<float> dS(size_t(Tn * Tn)), S;
      if (cap > 0) S.resize(size_t(Tn * Tn));
      const float* K = k + (b * Tn * nkv + g) * hd;
      const float* Vv = v + (b * Tn * nkv + g) * hd;
      float* dK = dk + (b * Tn * nkv + g) * hd;
      float* dV = dv + (b * Tn * nkv + g) * hd;
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const float* Q = q + (b * Tn * nh + h) * hd;
        const float* dO = dout + (b * Tn * nh + h) * hd;
        const float* P = probs + (b * nh + h) * Tn * Tn;
        // dV += P^T dO ; dP = dO V^T (into dS)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, int(hd), T, 1.0f, P, T, dO, ldq, 1.0f, dV, ldk);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, int(hd), 1.0f, dO, ldq, Vv, ldk, 0.0f, dS.data(), T);
        if (cap > 0)  // the capped scores, for the softcap's derivative
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, int(hd), s.scale, Q, ldq, K, ldk, 0.0f, S.data(),
                      T);
        for (int64_t t = 0; t < Tn; ++t) {
          const float* pr = P + t * Tn;
          float* d = dS.data() + t * Tn;
          const int64_t lo = first_key(t, s.window);
          float w = 0;
#pragma omp simd reduction(+ : w)
          for (int64_t p = lo; p <= t; ++p) w += pr[p] * d[p];
          for (int64_t p = 0; p < lo; ++p) d[p] = 0.0f;
#pragma omp simd
          for (int64_t p = lo; p <= t; ++p) d[p] = pr[p] * (d[p] - w) * s.scale;
          if (cap > 0) {
            const float* sr = S.data() + t * Tn;
#pragma omp simd
            for (int64_t p = lo; p <= t; ++p) {
              const float th = tanh_poly(sr[p] * inv_cap);
              d[p] *= 1.0f - th * th;
            }
          }
          for (int64_t p = t + 1; p < Tn; ++p) d[p] = 0.0f;
        }
        // dQ += dS K ; dK += dS^T Q
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, int(hd), T, 1.0f, dS.data(), T, K, ldk, 1.0f,
                    dq + (b * Tn * nh + h) * hd, ldq);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, int(hd), T, 1.0f, dS.data(), T, Q, ldq, 1.0f, dK, ldk);
      }
    }
}

template void attention_forward<double>(double*, double*, const double*, const double*, const double*,
                                       const AttentionShape&);
template void attention_backward<double>(double*, double*, double*, const double*, const double*, const double*,
                                        const double*, const double*, const AttentionShape&);

}  // namespace qat
