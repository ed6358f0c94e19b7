// Session::attention: softmax(q k^T * scale [softcapped], causal and, on
// sliding layers, windowed) v over the layer's KV cache.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/parallel_team.h"
#include "model/forward.h"

namespace qat {

namespace {

// Prompts of at least this many queries take the gemm path; below it
// (decode) copying the keys and values out of the cache would cost more than
// the products gain.
constexpr int kGemmMinQueries = 4;
// Query rows (positions x heads of one KV head) per block of the gemm path:
// one 512-bit register of scores per key.
constexpr int64_t kBlockQueries = 16;

}  // namespace

void Session::attention(int layer, int nq, int pos0, const float* q, float* out) {
  const ModelConfig& c = m_.config;
  const LayerSpec& s = m_.specs[size_t(layer)];
  const int64_t nh = c.num_attention_heads, hd = s.head_dim, nkv = s.n_kv_heads;
  const LayerCache* cache = &cache_[size_t(s.kv_source >= 0 ? s.kv_source : layer)];
  const LayerAttention a{cache, nh, hd, nkv, nh * hd, nkv * hd, nh / nkv, c.attention_scale(), c.attn_logit_softcapping,
                         s.sliding ? c.sliding_window : max_context_};
  if (nq >= kGemmMinQueries) return attention_gemm(a, nq, pos0, q, out);
  attention_rows(a, nq, pos0, q, out);
}

void Session::attention_rows(const LayerAttention& a, int nq, int pos0, const float* q, float* out) {
  const LayerCache& lc = *a.cache;
  const int64_t nh = a.nh, hd = a.hd, qd = a.qd, kvd = a.kvd, group = a.group;
  const float scale = a.scale, cap = a.cap;
  const int window = a.window;
  // One scores row per thread; the thread count may have grown since construction.
  const size_t need = size_t(omp_get_max_threads()) * size_t(max_context_);
  if (scores_.size() < need) scores_.resize(need);
  // Threads only when there is enough work (positions x heads x head dim).
  const int64_t work = int64_t(nq) * nh * hd * std::min(pos0 + nq, window);
  const int64_t items = int64_t(nq) * nh;  // (query, head) pairs
  parallel_team(work >= (1 << 17), [&](int64_t id, int64_t nt) {
    float* sc = scores_.data() + size_t(id) * size_t(max_context_);
    for (int64_t i = items * id / nt; i < items * (id + 1) / nt; ++i) {
      const int t = int(i / nh);
      const int64_t hh = i % nh;
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
  });
}

// Per KV head g, the keys every query of the chunk may see, K and V (ctx,
// hd): read in place from the ring buffer, or copied out once where they wrap
// around its end. Queries go in blocks of
// `rows` = positions x the `group` heads that share g (about kBlockQueries),
// laid across columns so that the softmax reduces across vector lanes:
//   S (span, rows) = K[first..last] Q^T     (span: the block's keys)
//   S = softmax down each column, over that query's causal window only
//   O (rows, hd)   = S^T V[first..last]     (masked scores are exact zeros)
// Both products are kernels' gemm_nn_f32, vectorized across output columns.
void Session::attention_gemm(const LayerAttention& a, int nq, int pos0, const float* q, float* out) {
  const LayerCache& lc = *a.cache;
  const int64_t nh = a.nh, hd = a.hd, qd = a.qd, kvd = a.kvd, group = a.group, nkv = a.nkv;
  const float scale = a.scale, cap = a.cap;
  const int window = a.window;
  const int first_key = std::max(0, pos0 - window + 1);  // the first query's earliest key
  const int64_t ctx = pos0 + nq - first_key;             // through the last query's position
  const int64_t per_block = std::max<int64_t>(1, kBlockQueries / group);  // positions per block
  const int64_t cols = per_block * group, blocks = (nq + per_block - 1) / per_block;
  const GemmNNFn gemm_nn = kernels().gemm_nn_f32;
  // Per thread: Q^T (hd, cols), S (ctx, cols), O (cols, hd); the columns' key windows.
  const int64_t scratch = hd * cols + ctx * cols + cols * hd;
  const size_t threads = size_t(omp_get_max_threads());
  att_s_.resize(threads * size_t(scratch));
  att_win_.resize(threads * size_t(2 * cols));
  // Threads only when there is enough work (queries x heads x head dim x keys).
  const int64_t work = int64_t(nq) * nh * hd * std::min<int64_t>(ctx, window);

  // Where the keys do not wrap around the ring buffer (a prompt that fits the
  // cache: every scored record), K and V are read in place, rows kvd apart.
  const int64_t first_slot = first_key % lc.cap;
  const bool in_place = first_slot + ctx <= lc.cap;
  const int64_t kv_rs = in_place ? kvd : hd;  // row stride of the keys and values read
  if (!in_place) {
    att_k_.resize(size_t(ctx * hd));
    att_v_.resize(size_t(ctx * hd));
  }
  for (int64_t g = 0; g < nkv; ++g) {
    const float* keys = lc.k.data() + first_slot * kvd + g * hd;  // (ctx, hd), rows kv_rs apart
    const float* values = lc.v.data() + first_slot * kvd + g * hd;
    if (!in_place) {
      for (int64_t j = 0; j < ctx; ++j) {
        const int64_t slot = (first_key + j) % lc.cap;
        std::memcpy(att_k_.data() + j * hd, lc.k.data() + slot * kvd + g * hd, sizeof(float) * size_t(hd));
        std::memcpy(att_v_.data() + j * hd, lc.v.data() + slot * kvd + g * hd, sizeof(float) * size_t(hd));
      }
      keys = att_k_.data();
      values = att_v_.data();
    }
    parallel_team(work >= (1 << 17), [&](int64_t id, int64_t nt) {
      for (int64_t b = blocks * id / nt; b < blocks * (id + 1) / nt; ++b) {
        const size_t thread = size_t(id);
        float* qt = att_s_.data() + thread * size_t(scratch);  // (hd, rows)
        float* sc = qt + hd * cols;                            // (span, rows)
        float* o = sc + ctx * cols;                            // (rows, hd)
        int32_t* lo = att_win_.data() + thread * size_t(2 * cols);
        int32_t* hi = lo + cols;
        const int64_t t0 = b * per_block, np = std::min(per_block, nq - t0), rows = np * group;
        // The block's keys [first, first + span), as offsets into the copied ones.
        const int64_t first = std::max(0, pos0 + int(t0) - window + 1) - first_key;
        const int64_t span = pos0 + t0 + np - first_key - first;
        for (int64_t t = 0; t < np; ++t) {
          const int pos = pos0 + int(t0 + t);
          for (int64_t i = 0; i < group; ++i) {
            const int64_t col = t * group + i;  // query t0 + t, head g * group + i
            const float* qh = q + (t0 + t) * qd + (g * group + i) * hd;
            for (int64_t d = 0; d < hd; ++d) qt[d * rows + col] = qh[d];
            // Causal, and for sliding layers only the last `window` positions (incl. pos).
            lo[col] = int32_t(std::max(0, pos - window + 1) - first_key - first);
            hi[col] = int32_t(pos - first_key - first);
          }
        }
        gemm_nn(keys + first * kv_rs, kv_rs, 1, qt, rows, sc, rows, span, hd, rows);
        softmax_columns(sc, span, rows, scale, cap, lo, hi);
        gemm_nn(sc, 1, rows, values + first * kv_rs, kv_rs, o, hd, rows, span, hd);
        for (int64_t t = 0; t < np; ++t)
          for (int64_t i = 0; i < group; ++i)
            std::memcpy(out + (t0 + t) * qd + (g * group + i) * hd, o + (t * group + i) * hd,
                        sizeof(float) * size_t(hd));
      }
    });
  }
}

}  // namespace qat
