#include "model/forward.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"

namespace qat {

namespace {

// Positions the KV ring buffer of a layer holds: sliding layers need only
// the window plus one batch.
int cache_capacity(const ModelConfig& c, const LayerSpec& s, int max_context, int max_batch) {
  return s.sliding ? std::min(max_context, c.sliding_window + max_batch) : max_context;
}

MatrixView view(const Tensor& t, ActivationQuant act = ActivationQuant::Q8_0) {
  return {t.type, t.data, t.rows(), t.cols(), t.packed.get(), act};
}

}  // namespace

// Y (n, rows) = X (n, cols) @ W^T, activations as the model says (W8A8 or W8A16 for Q8_0 weights).
void Session::linear(const Tensor& w, const float* x, float* y, int64_t n) const {
  matmul(view(w, m_.config.activation_quant), x, y, n);
}

Session::Session(const Model& model, int max_context, int max_batch)
    : m_(model), max_context_(max_context), max_batch_(std::max(1, max_batch)) {
  QAT_CHECK(max_context > 0, "context size must be positive, got ", max_context);
  const ModelConfig& c = m_.config;
  const auto& specs = m_.specs;
  const int L = c.num_hidden_layers;
  cache_.resize(size_t(L));
  int max_qd = 0, max_kvd = 0, max_f = 0;
  for (int i = 0; i < L; ++i) {
    const LayerSpec& s = specs[size_t(i)];
    max_qd = std::max(max_qd, c.num_attention_heads * s.head_dim);
    max_kvd = std::max(max_kvd, s.n_kv_heads * s.head_dim);
    max_f = std::max(max_f, s.ffn_dim);
    if (s.stores_kv) {
      LayerCache& lc = cache_[size_t(i)];
      lc.cap = cache_capacity(c, s, max_context, max_batch_);
      lc.k.assign(size_t(lc.cap) * size_t(s.n_kv_heads * s.head_dim), 0.0f);
      lc.v.assign(lc.k.size(), 0.0f);
    }
    // RoPE table shared by layers with identical parameters.
    int found = -1;
    for (size_t t = 0; t < rope_tables_.size(); ++t)
      if (rope_tables_[t].matches(s)) found = int(t);
    if (found < 0) {
      rope_tables_.push_back(make_rope_table(s, max_context));
      found = int(rope_tables_.size()) - 1;
    }
    layer_rope_.push_back(found);
  }
  const size_t B = size_t(max_batch_), H = size_t(c.hidden_size);
  x_.resize(B * H);
  h_.resize(B * H);
  proj_.resize(B * H);
  q_.resize(B * max_qd);
  att_.resize(B * max_qd);
  k_.resize(B * max_kvd);
  v_.resize(B * max_kvd);
  gate_.resize(B * max_f);
  up_.resize(B * max_f);
  const size_t LP = size_t(L) * size_t(c.hidden_size_per_layer_input);
  ple_in_.resize(B * LP);
  ple_tmp_.resize(B * std::max(LP, size_t(1)));
  scores_.resize(size_t(omp_get_max_threads()) * size_t(max_context));
  if (c.has_moe()) {
    const size_t E = size_t(c.num_experts), K = size_t(c.top_k_experts), I = size_t(c.moe_intermediate_size);
    moe_in_.resize(B * H);
    router_logits_.resize(B * E);
    moe_out_.resize(B * H);
    topk_weight_.resize(B * K);
    topk_expert_.resize(B * K);
    expert_in_.resize(B * H);
    expert_gu_.resize(B * 2 * I);
    expert_act_.resize(B * I);
    expert_out_.resize(B * H);
  }
}

uint64_t Session::kv_cache_bytes_for(const Model& model, int max_context, int max_batch) {
  uint64_t n = 0;
  for (const LayerSpec& s : model.specs)
    if (s.stores_kv)
      n += 2 * uint64_t(cache_capacity(model.config, s, max_context, std::max(1, max_batch))) *
           uint64_t(s.n_kv_heads) * uint64_t(s.head_dim) * sizeof(float);
  return n;
}

uint64_t Session::kv_cache_bytes() const {
  uint64_t n = 0;
  for (const auto& lc : cache_) n += (lc.k.size() + lc.v.size()) * sizeof(float);
  return n;
}

void Session::check_tokens(const int32_t* tokens, int n) const {
  QAT_CHECK(n > 0, "forward: no tokens");
  QAT_CHECK(n_past_ + n <= max_context_, "context full: ", n_past_, " + ", n,
            " tokens exceed the context size ", max_context_, " (raise --ctx)");
  const int V = m_.config.vocab_size;
  for (int i = 0; i < n; ++i)
    QAT_CHECK(tokens[i] >= 0 && tokens[i] < V, "token id ", tokens[i], " out of range [0, ", V, ")");
}

const float* Session::forward_hidden(const int32_t* tokens, int n) {
  check_tokens(tokens, n);
  const size_t H = size_t(m_.config.hidden_size);
  hidden_.resize(size_t(n) * H);
  for (int start = 0; start < n; start += max_batch_) {
    const int len = std::min(max_batch_, n - start);
    forward_chunk(tokens + start, len, 0, nullptr, hidden_.data() + size_t(start) * H);
  }
  return hidden_.data();
}

const float* Session::forward_last_hidden(const int32_t* tokens, int n) {
  check_tokens(tokens, n);
  hidden_.resize(size_t(m_.config.hidden_size));
  for (int start = 0; start < n; start += max_batch_) {
    const int len = std::min(max_batch_, n - start);
    const bool last_chunk = start + len == n;
    forward_chunk(tokens + start, len, last_chunk ? len - 1 : len, nullptr, last_chunk ? hidden_.data() : nullptr);
  }
  return hidden_.data();
}

const float* Session::forward(const int32_t* tokens, int n, bool all_logits) {
  check_tokens(tokens, n);
  const int V = m_.config.vocab_size;
  logits_.resize(size_t(all_logits ? n : 1) * size_t(V));
  for (int start = 0; start < n; start += max_batch_) {
    const int len = std::min(max_batch_, n - start);
    const bool last_chunk = start + len == n;
    if (all_logits)
      forward_chunk(tokens + start, len, 0, logits_.data() + size_t(start) * V, nullptr);
    else if (last_chunk)
      forward_chunk(tokens + start, len, len - 1, logits_.data(), nullptr);
    else
      forward_chunk(tokens + start, len, len, nullptr, nullptr);
  }
  return logits_.data();
}

void Session::forward_chunk(const int32_t* tokens, int n, int first_out, float* logits_out, float* hidden_out) {
  const ModelConfig& c = m_.config;
  const ModelWeights& w = m_.weights;
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  const float eps = c.rms_norm_eps;
  const int64_t P = c.hidden_size_per_layer_input, L = c.num_hidden_layers;
  float* x = x_.data();  // (n, H) residual stream

  // Embedding, scaled by sqrt(H) (rounded like HF).
  const float escale = m_.embed_scale();
  for (int t = 0; t < n; ++t) {
    row_to_f32(view(w.embed), tokens[t], x + t * H);
    for (int64_t i = 0; i < H; ++i) x[t * H + i] *= escale;
  }

  // Gemma 4 per-layer inputs: (n, L, P) =
  //   (RMSNorm(x @ Wple^T * H^-0.5) + E_ple[tok] * sqrt(P)) * 2^-0.5
  if (P > 0) {
    float* ple = ple_in_.data();
    linear(w.ple_model_proj, x, ple, n);
    const float proj_scale = 1.0f / std::sqrt(float(H));
    const float pscale = m_.ple_embed_scale();
    const float* norm_w = w.ple_proj_norm.f32();
    for (int64_t i = 0; i < n * L * P; ++i) ple[i] *= proj_scale;
    rms_norm_rows(ple, norm_w, ple, n * L, P, eps);  // (n * L, P)
    float* tok = ple_tmp_.data();
    for (int t = 0; t < n; ++t) {
      row_to_f32(view(w.ple_embed), tokens[t], tok);
      for (int64_t l = 0; l < L; ++l) {
        float* p = ple + (t * L + l) * P;
        for (int64_t i = 0; i < P; ++i)
          p[i] = (p[i] + tok[l * P + i] * pscale) * float(M_SQRT1_2);
      }
    }
  }

  for (int64_t l = 0; l < L; ++l) {
    const LayerSpec& s = m_.specs[size_t(l)];
    const LayerWeights& lw = w.layers[size_t(l)];
    const int64_t hd = s.head_dim, nkv = s.n_kv_heads, qd = nh * hd, kvd = nkv * hd;
    const RopeTable& rt = rope_tables_[size_t(layer_rope_[size_t(l)])];
    const int64_t half = hd / 2;
    float* h = h_.data();
    // Rows that go on through this layer: all of them, except in the last
    // layer, where rows before first_out only leave their K/V in the cache
    // (nothing reads their output; llama.cpp skips them the same way).
    const int r0 = l == L - 1 ? first_out : 0;
    const int nr = n - r0;

    // --- attention ---
    const int t_norm = s.stores_kv ? 0 : r0;
    rms_norm_rows(x + t_norm * H, lw.attn_norm.f32(), h + t_norm * H, n - t_norm, H, eps);
    float* q = q_.data();
    const bool q_with_kv = s.stores_kv && r0 == 0;  // Q, K, V of the same rows: one product call
    if (s.stores_kv) {
      float* k = k_.data();
      float* v = v_.data();
      MatrixView ws[3] = {view(lw.wk, c.activation_quant)};
      float* ys[3] = {k};
      size_t m = 1;
      if (!s.k_eq_v) {
        ws[m] = view(lw.wv, c.activation_quant);
        ys[m++] = v;
      }
      if (q_with_kv) {
        ws[m] = view(lw.wq, c.activation_quant);
        ys[m++] = q;
      }
      matmul_shared_input({ws, m}, h, {ys, m}, n);
      if (s.k_eq_v) std::memcpy(v, k, sizeof(float) * size_t(n * kvd));  // V from the raw K projection
      LayerCache& lc = cache_[size_t(l)];
      rms_norm_rows(k, lw.k_norm.f32(), k, n * nkv, hd, eps);  // (n * nkv, hd)
      if (c.has_v_norm()) rms_norm_rows(v, nullptr, v, n * nkv, hd, eps);
      for (int t = 0; t < n; ++t) {
        const int64_t pos = n_past_ + t;
        const int64_t slot = pos % lc.cap;
        for (int64_t g = 0; g < nkv; ++g)
          rope(k + t * kvd + g * hd, hd, rt.cos.data() + pos * half, rt.sin.data() + pos * half);
        std::memcpy(lc.k.data() + slot * kvd, k + t * kvd, sizeof(float) * size_t(kvd));
        std::memcpy(lc.v.data() + slot * kvd, v + t * kvd, sizeof(float) * size_t(kvd));
      }
    }
    if (nr == 0) continue;  // the last layer of a chunk whose outputs nobody reads
    float* xr = x + r0 * H;  // (nr, H): the rows that go on
    if (!q_with_kv) linear(lw.wq, h + r0 * H, q, nr);
    rms_norm_rows(q, lw.q_norm.f32(), q, nr * nh, hd, eps);  // (nr * nh, hd)
    for (int t = 0; t < nr; ++t) {
      const int64_t pos = n_past_ + r0 + t;
      for (int64_t hh = 0; hh < nh; ++hh)
        rope(q + t * qd + hh * hd, hd, rt.cos.data() + pos * half, rt.sin.data() + pos * half);
    }
    attention(int(l), nr, n_past_ + r0, q, att_.data());
    float* o = proj_.data();
    linear(lw.wo, att_.data(), o, nr);
    rms_norm_rows(o, lw.post_attn_norm.f32(), o, nr, H, eps);
    for (int64_t i = 0; i < nr * H; ++i) xr[i] += o[i];

    // --- feed-forward (GeGLU) ---
    rms_norm_rows(xr, lw.ffn_norm.f32(), h, nr, H, eps);
    const int64_t F = s.ffn_dim;
    const MatrixView ffn_in[] = {view(lw.w_gate, c.activation_quant), view(lw.w_up, c.activation_quant)};
    float* const ffn_out[] = {gate_.data(), up_.data()};
    matmul_shared_input(ffn_in, h, ffn_out, nr);
    geglu(gate_.data(), up_.data(), gate_.data(), nr * F);
    linear(lw.w_down, gate_.data(), o, nr);
    if (c.has_moe()) moe_block(lw, xr, nr, o);
    rms_norm_rows(o, lw.post_ffn_norm.f32(), o, nr, H, eps);
    for (int64_t i = 0; i < nr * H; ++i) xr[i] += o[i];

    // --- per-layer embedding (Gemma 4) ---
    if (P > 0) {
      float* g = ple_tmp_.data();  // (nr, P)
      linear(lw.ple_gate, xr, g, nr);
      for (int t = 0; t < nr; ++t) {
        const float* pin = ple_in_.data() + ((r0 + t) * L + l) * P;
        for (int64_t i = 0; i < P; ++i) g[t * P + i] = gelu_tanh(g[t * P + i]) * pin[i];
      }
      linear(lw.ple_proj, g, o, nr);
      rms_norm_rows(o, lw.ple_post_norm.f32(), o, nr, H, eps);
      for (int64_t i = 0; i < nr * H; ++i) xr[i] += o[i];
    }
    if (c.has_layer_scalar()) {
      const float ls = lw.layer_scalar.f32()[0];
      for (int64_t i = 0; i < nr * H; ++i) xr[i] *= ls;
    }
  }

  n_past_ += n;
  const int rows = n - first_out;
  const float* xo = x + int64_t(first_out) * H;  // (rows, H)
  if (hidden_out) {  // final-norm hidden states (classification)
    rms_norm_rows(xo, w.final_norm.f32(), hidden_out, rows, H, eps);
    return;
  }
  if (!logits_out) return;
  // Final norm and tied (or separate) output projection.
  float* h = h_.data();
  rms_norm_rows(xo, w.final_norm.f32(), h, rows, H, eps);
  const Tensor& out_w = c.tie_word_embeddings ? w.embed : w.output;
  linear(out_w, h, logits_out, rows);
  if (c.final_logit_softcapping > 0)
    softcap(logits_out, int64_t(rows) * c.vocab_size, c.final_logit_softcapping);
}

}  // namespace qat
