// Session::attention: softmax(q k^T * scale [softcapped], causal and, on
// sliding layers, windowed) v over the layer's KV cache.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "model/forward.h"

namespace qat {

namespace {

// Prompts of at least this many queries take the gemm path; below it
// (decode) copying the keys and values out of the cache would cost more than
// the products gain.
constexpr int kGemmMinQueries = 4;

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

// Per KV head g, the keys every query of the chunk may see are copied out of
// the ring buffer once, K transposed (hd, ctx) and V as it is (ctx, hd); then
// per query position t, for the `group` heads that share g (rows of Q, hd):
//   S (group, cnt) = Q K^T[:, lo..hi] * scale   (the row's causal window only)
//   S = softmax(softcap(S))
//   O (group, hd)  = S V[lo..hi, :]
// Both products vectorize across their output columns (kernels' gemm_nn_f32),
// so no horizontal sums, and no masked scores are computed.
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
  const int first_key = std::max(0, pos0 - window + 1);  // the first query's earliest key
  const int64_t ctx = pos0 + nq - first_key;             // through the last query's position
  const GemmNNFn gemm_nn = kernels().gemm_nn_f32;
  const int threads = omp_get_max_threads();
  att_k_.resize(size_t(hd * ctx));
  att_v_.resize(size_t(ctx * hd));
  att_s_.resize(size_t(threads) * size_t(group * ctx));
  // Threads only when there is enough work (queries x heads x head dim x keys).
  const int64_t work = int64_t(nq) * nh * hd * std::min<int64_t>(ctx, window);

  for (int64_t g = 0; g < nkv; ++g) {
    for (int64_t j = 0; j < ctx; ++j) {
      const int64_t slot = (first_key + j) % lc.cap;
      const float* kh = lc.k.data() + slot * kvd + g * hd;
      for (int64_t d = 0; d < hd; ++d) att_k_[size_t(d * ctx + j)] = kh[d];
      std::memcpy(att_v_.data() + j * hd, lc.v.data() + slot * kvd + g * hd, sizeof(float) * size_t(hd));
    }
#pragma omp parallel for schedule(static) if (work >= (1 << 17))
    for (int t = 0; t < nq; ++t) {
      float* sc = att_s_.data() + size_t(omp_get_thread_num()) * size_t(group * ctx);  // (group, cnt)
      const int pos = pos0 + t;
      // Keys [lo, hi] of this position, as offsets into the ctx copied keys.
      const int64_t lo = std::max(0, pos - window + 1) - first_key, hi = pos - first_key, cnt = hi - lo + 1;
      const float* qt = q + t * qd + g * group * hd;  // (group, hd)
      gemm_nn(qt, hd, att_k_.data() + lo, ctx, sc, cnt, group, hd, cnt);
      for (int64_t i = 0; i < group; ++i) {
        float* row = sc + i * cnt;
        for (int64_t j = 0; j < cnt; ++j) row[j] *= scale;
        if (cap > 0) softcap(row, cnt, cap);
        softmax(row, cnt);
      }
      gemm_nn(sc, cnt, att_v_.data() + lo * hd, hd, out + t * qd + g * group * hd, hd, group, cnt, hd);
    }
  }
}

}  // namespace qat
