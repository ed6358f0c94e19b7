// Session::attention: softmax(q k^T * scale [softcapped], causal and, on
// sliding layers, windowed) v over the layer's KV cache.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/forward.h"

namespace qat {

namespace {

// Prompts of at least this many queries take the matmul path; below it
// (decode) copying the keys and values out of the cache would cost more than
// the products.
constexpr int kGemmMinQueries = 4;
// Scores of one query block stay under this many floats (4 MiB).
constexpr int64_t kMaxScoreFloats = int64_t(1) << 20;

}  // namespace

void Session::attention(int layer, int nq, int pos0, const float* q, float* out) {
  if (nq >= kGemmMinQueries) return attention_gemm(layer, nq, pos0, q, out);
  attention_rows(layer, nq, pos0, q, out);
}

void Session::attention_rows(int layer, int nq, int pos0, const float* q, float* out) {
  const ModelConfig& c = m_.config;
  const LayerSpec& s = m_.specs[size_t(layer)];
  const int src = s.kv_source >= 0 ? s.kv_source : layer;
  const LayerCache& lc = cache_[size_t(src)];
  const int64_t nh = c.num_attention_heads, hd = s.head_dim, nkv = s.n_kv_heads;
  const int64_t qd = nh * hd, kvd = nkv * hd, group = nh / nkv;
  const float scale = c.attention_scale();
  const float cap = c.attn_logit_softcapping;
  const int window = s.sliding ? c.sliding_window : max_context_;
  // One scores row per thread; the thread count may have grown since construction.
  const size_t need = size_t(omp_get_max_threads()) * size_t(max_context_);
  if (scores_.size() < need) scores_.resize(need);
  // Threads only when there is enough work (positions x heads x head dim).
  const int64_t work = int64_t(nq) * nh * hd * std::min(pos0 + nq, window);
#pragma omp parallel for collapse(2) schedule(static) if (work >= (1 << 17))
  for (int t = 0; t < nq; ++t) {
    for (int64_t hh = 0; hh < nh; ++hh) {
      float* sc = scores_.data() + size_t(omp_get_thread_num()) * size_t(max_context_);
      const int pos = pos0 + t;
      // Causal, and for sliding layers only the last `window` positions (incl. pos).
      const int lo = std::max(0, pos - window + 1);
      const float* qh = q + t * qd + hh * hd;
      const int64_t g = hh / group;
      const int cnt = pos - lo + 1;
      for (int p = lo; p <= pos; ++p) {
        const float* kh = lc.k.data() + (p % lc.cap) * kvd + g * hd;
        sc[p - lo] = dot_f32(qh, kh, hd) * scale;
      }
      if (cap > 0) softcap(sc, cnt, cap);
      softmax(sc, cnt);
      float* oh = out + t * qd + hh * hd;
      std::fill(oh, oh + hd, 0.0f);
      for (int p = lo; p <= pos; ++p) {
        const float* vh = lc.v.data() + (p % lc.cap) * kvd + g * hd;
        axpy_f32(sc[p - lo], vh, oh, hd);
      }
    }
  }
}

// Per KV head g: the keys every query of the chunk may see, K (ctx, hd), and
// V^T (hd, ctx) are copied out of the ring buffer once; then per block of
// queries Q (rows = queries x heads of the group, hd):
//   S (rows, ctx) = Q K^T          (FP32 matmul, K as the weight matrix)
//   S = softmax(mask(S * scale))   (positions outside a row's causal window: 0)
//   O (rows, hd)  = S (V^T)^T      (FP32 matmul, V^T as the weight matrix)
// Masked scores are exact zeros, so they add nothing to O; the masked half of
// a causal block is computed and thrown away, which the matmul's speed pays for.
void Session::attention_gemm(int layer, int nq, int pos0, const float* q, float* out) {
  const ModelConfig& c = m_.config;
  const LayerSpec& s = m_.specs[size_t(layer)];
  const int src = s.kv_source >= 0 ? s.kv_source : layer;
  const LayerCache& lc = cache_[size_t(src)];
  const int64_t nh = c.num_attention_heads, hd = s.head_dim, nkv = s.n_kv_heads;
  const int64_t qd = nh * hd, kvd = nkv * hd, group = nh / nkv;
  const float scale = c.attention_scale();
  const float cap = c.attn_logit_softcapping;
  const int window = s.sliding ? c.sliding_window : max_context_;
  const int last = pos0 + nq - 1;                      // the last query's position
  const int first_key = std::max(0, pos0 - window + 1);  // the first query's earliest key
  const int64_t ctx = last - first_key + 1;
  const int64_t qb = std::clamp<int64_t>(kMaxScoreFloats / (ctx * group), 1, nq);  // queries per block

  att_k_.resize(size_t(ctx * hd));
  att_vt_.resize(size_t(hd * ctx));
  att_q_.resize(size_t(qb * group * hd));
  att_s_.resize(size_t(qb * group * ctx));
  att_o_.resize(size_t(qb * group * hd));
  const MatrixView kview{TensorType::F32, att_k_.data(), ctx, hd};
  const MatrixView vview{TensorType::F32, att_vt_.data(), hd, ctx};

  for (int64_t g = 0; g < nkv; ++g) {
    for (int64_t j = 0; j < ctx; ++j) {
      const int64_t slot = (first_key + j) % lc.cap;
      const float* kh = lc.k.data() + slot * kvd + g * hd;
      const float* vh = lc.v.data() + slot * kvd + g * hd;
      std::memcpy(att_k_.data() + j * hd, kh, sizeof(float) * size_t(hd));
      for (int64_t d = 0; d < hd; ++d) att_vt_[size_t(d * ctx + j)] = vh[d];
    }
    for (int64_t t0 = 0; t0 < nq; t0 += qb) {
      const int64_t nt = std::min<int64_t>(qb, nq - t0), rows = nt * group;
      // Row (t, i) is query t0 + t of head g * group + i.
      for (int64_t t = 0; t < nt; ++t)
        std::memcpy(att_q_.data() + t * group * hd, q + (t0 + t) * qd + g * group * hd,
                    sizeof(float) * size_t(group * hd));
      matmul(kview, att_q_.data(), att_s_.data(), rows);
#pragma omp parallel for schedule(static) if (rows * ctx >= (1 << 16))
      for (int64_t r = 0; r < rows; ++r) {
        float* sc = att_s_.data() + r * ctx;
        const int pos = pos0 + int(t0 + r / group);
        // Keys [lo, pos] of this row, as offsets into the ctx keys.
        const int64_t lo = std::max(0, pos - window + 1) - first_key, hi = pos - first_key;
        const int64_t cnt = hi - lo + 1;
        for (int64_t j = lo; j <= hi; ++j) sc[j] *= scale;
        if (cap > 0) softcap(sc + lo, cnt, cap);
        softmax(sc + lo, cnt);
        std::fill(sc, sc + lo, 0.0f);
        std::fill(sc + hi + 1, sc + ctx, 0.0f);
      }
      matmul(vview, att_s_.data(), att_o_.data(), rows);
      for (int64_t t = 0; t < nt; ++t)
        std::memcpy(out + (t0 + t) * qd + g * group * hd, att_o_.data() + t * group * hd,
                    sizeof(float) * size_t(group * hd));
    }
  }
}

}  // namespace qat
