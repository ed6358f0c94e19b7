// Backward of the Gemma training step (the forward and the activations it
// keeps are in gemma_train.cpp / gemma_train_acts.h): layer by layer in
// reverse, every gradient accumulated into the model's gradient tensors.
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "train/fake_quant_state.h"
#include "train/gemma_train.h"
#include "train/gemma_train_acts.h"

namespace qat {

using namespace train_detail;

namespace {

void join_columns(float* out, int64_t N, const float* a, int64_t wa, const float* b, int64_t wb, const float* c,
                  int64_t wc) {
  const int64_t w = wa + wb + wc;
#pragma omp parallel for schedule(static) if (N * w >= (1 << 16))
  for (int64_t n = 0; n < N; ++n) {
    float* r = out + n * w;
    std::memcpy(r, a + n * wa, sizeof(float) * size_t(wa));
    if (wb) std::memcpy(r + wa, b + n * wb, sizeof(float) * size_t(wb));
    if (wc) std::memcpy(r + wa + wb, c + n * wc, sizeof(float) * size_t(wc));
  }
}

}  // namespace

void GemmaTrainer::backward(float loss_scale) {
  const ModelConfig& c = model_.config;
  const ModelWeights& w = a_->fake_quant ? fq_->weights() : model_.weights;
  ModelWeights& g = grads_;
  Acts& a = *a_;
  const int64_t B = a.B, T = a.T, N = B * T, H = c.hidden_size, nh = c.num_attention_heads;
  const int64_t L = c.num_hidden_layers, P = c.hidden_size_per_layer_input, V = c.vocab_size;
  QAT_CHECK(N > 0, "backward called before forward");

  // d loss / d final hidden (N, H).
  Buf& dhf = zeroed(a.g_dhf, N * H);
  if (!a.classify) {
    Buf& dl = a.dlogits;  // (N, V), scaled in place
    if (loss_scale != 1.0f)
      for (float& x : dl) x *= loss_scale;
    if (c.final_logit_softcapping > 0)
      softcap_backward(dl.data(), dl.data(), logits_.data(), N * V, c.final_logit_softcapping);
    const bool tied = c.tie_word_embeddings;
    matmul_backward(dhf.data(), f(tied ? g.embed : g.output), dl.data(), a.hf.data(),
                    cf(tied ? w.embed : w.output), N, H, V);
  } else {
    const int64_t C = num_classes();
    Buf& dl = a.dlogits;  // (B, C), scaled in place
    for (float& x : dl) x *= loss_scale;
    Buf& dpooled = zeroed(a.g_pooled, B * H);
    matmul_backward(dpooled.data(), f(g.score), dl.data(), a.pooled.data(), cf(w.score), B, H, C);
    pool_backward(dhf.data(), dpooled.data(), a.lengths.data(), B, T, H, pooling_);
  }
  Buf& dx = zeroed(a.g_dx, N * H);  // d loss / d residual stream
  rmsnorm_backward(dx.data(), f(g.final_norm), dhf.data(), a.x_out.data(), cf(w.final_norm), a.rf.data(), N, H);

  // Gradients of stored K / V (after norm and RoPE) per layer: KV-sharing
  // layers (later in the stack) add into their source's before it is reached.
  std::vector<Buf>& dk = a.g_dk;
  std::vector<Buf>& dv = a.g_dv;
  dk.resize(size_t(L));
  dv.resize(size_t(L));
  for (int64_t l = 0; l < L; ++l)
    if (model_.specs[size_t(l)].stores_kv) {
      const LayerSpec& s = model_.specs[size_t(l)];
      zeroed(dk[size_t(l)], N * s.n_kv_heads * s.head_dim);
      zeroed(dv[size_t(l)], N * s.n_kv_heads * s.head_dim);
    }
  Buf& dple_in = a.g_dple_in;  // (L, N, P)
  if (P > 0) zeroed(dple_in, L * N * P);
  Buf& d_o = zeroed(a.g_do, N * H);
  Buf& dh = zeroed(a.g_dh, N * H);

  for (int64_t l = L - 1; l >= 0; --l) {
    const LayerSpec& s = model_.specs[size_t(l)];
    const LayerWeights& lw = w.layers[size_t(l)];
    LayerWeights& lg = g.layers[size_t(l)];
    LayerActs& la = a.layers[size_t(l)];
    const int64_t hd = s.head_dim, nkv = s.n_kv_heads, qd = nh * hd, kvd = nkv * hd, F = s.ffn_dim;
    const RopeTable& rt = rope_[size_t(l)];

    // x_out = x_pre * s
    if (c.has_layer_scalar()) {
      zero(d_o);
      scale_backward(d_o.data(), f(lg.layer_scalar), dx.data(), la.x_pre.data(), cf(lw.layer_scalar)[0], N * H);
      std::swap(dx, d_o);  // the references keep naming a.g_dx / a.g_do; their contents trade places
    }
    // x_pre = x_ffn + PostNorm(Proj(gelu(Gate(x_ffn)) * ple_l))
    if (P > 0) {
      zero(d_o);
      rmsnorm_backward(d_o.data(), f(lg.ple_post_norm), dx.data(), la.o3.data(), cf(lw.ple_post_norm),
                       la.ro3.data(), N, H);
      Buf& dpact = zeroed(a.g_dpact, N * P);
      Buf& dpg = zeroed(a.g_dpg, N * P);
      matmul_backward(dpact.data(), f(lg.ple_proj), d_o.data(), la.pact.data(), cf(lw.ple_proj), N, P, H);
      geglu_backward(dpg.data(), dple_in.data() + l * N * P, dpact.data(), la.pg.data(),
                     a.ple_in.data() + l * N * P, N * P);
      const float* gate_in = la.ple_gate_in.empty() ? la.x_ffn.data() : la.ple_gate_in.data();  // as the forward
      matmul_backward(dx.data(), f(lg.ple_gate), dpg.data(), gate_in, cf(lw.ple_gate), N, H, P);
    }
    // x_ffn = x_mid + PostNorm(Down(geglu(Gate(h2), Up(h2)))),  h2 = Norm(x_mid)
    {
      zero(d_o);
      rmsnorm_backward(d_o.data(), f(lg.post_ffn_norm), dx.data(), la.o2.data(), cf(lw.post_ffn_norm),
                       la.ro2.data(), N, H);
      Buf& dact = zeroed(a.g_dact, N * F);
      Buf& dgate = zeroed(a.g_dgate, N * F);
      Buf& dup = zeroed(a.g_dup, N * F);
      matmul_backward(dact.data(), f(lg.w_down), d_o.data(), la.act.data(), cf(lw.w_down), N, F, H);
      geglu_backward(dgate.data(), dup.data(), dact.data(), la.gate.data(), la.up.data(), N * F);
      zero(dh);
      matmul_backward(dh.data(), f(lg.w_gate), dgate.data(), la.h2.data(), cf(lw.w_gate), N, H, F);
      matmul_backward(dh.data(), f(lg.w_up), dup.data(), la.h2.data(), cf(lw.w_up), N, H, F);
      rmsnorm_backward(dx.data(), f(lg.ffn_norm), dh.data(), la.x_mid.data(), cf(lw.ffn_norm), la.r2.data(), N, H);
    }
    // x_mid = x_in + PostNorm(O(Attention(q, k, v))),  q, k, v from h1 = Norm(x_in)
    {
      zero(d_o);
      rmsnorm_backward(d_o.data(), f(lg.post_attn_norm), dx.data(), la.o1.data(), cf(lw.post_attn_norm),
                       la.ro1.data(), N, H);
      Buf& datt = zeroed(a.g_datt, N * qd);
      Buf& dq = zeroed(a.g_dq, N * qd);
      matmul_backward(datt.data(), f(lg.wo), d_o.data(), la.att.data(), cf(lw.wo), N, qd, H);
      const int64_t src = s.kv_source >= 0 ? s.kv_source : l;
      const LayerActs& kv = a.layers[size_t(src)];
      const AttentionShape as{B, T, nh, nkv, hd, c.attention_scale(), c.attn_logit_softcapping,
                              s.sliding ? int64_t(c.sliding_window) : 0};
      attention_backward(dq.data(), dk[size_t(src)].data(), dv[size_t(src)].data(), datt.data(), la.probs.data(),
                         la.q.data(), kv.k.data(), kv.v.data(), as);
      zero(dh);
      rope_backward(dq.data(), rt.cos.data(), rt.sin.data(), a.pos.data(), N, nh, hd);
      Buf& dq_raw = zeroed(a.g_dq_raw, N * qd);
      rmsnorm_backward(dq_raw.data(), f(lg.q_norm), dq.data(), la.q_raw.data(), cf(lw.q_norm), la.q_r.data(),
                       N * nh, hd);
      const int64_t kw = s.stores_kv ? kvd : 0, vw = s.stores_kv && !s.k_eq_v ? kvd : 0;
      Buf& dk_raw = zeroed(a.g_dk_raw, N * kw);
      Buf& dv_raw = zeroed(a.g_dv_raw, N * kvd);
      if (s.stores_kv) {
        Buf& dkl = dk[size_t(l)];
        Buf& dvl = dv[size_t(l)];
        rope_backward(dkl.data(), rt.cos.data(), rt.sin.data(), a.pos.data(), N, nkv, hd);
        rmsnorm_backward(dk_raw.data(), f(lg.k_norm), dkl.data(), la.k_raw.data(), cf(lw.k_norm), la.k_r.data(),
                         N * nkv, hd);
        if (c.has_v_norm())
          rmsnorm_backward(dv_raw.data(), static_cast<float*>(nullptr), dvl.data(), la.v_raw.data(),
                           static_cast<const float*>(nullptr), la.v_r.data(), N * nkv, hd);
        else
          dv_raw = dvl;
        if (s.k_eq_v)
          for (int64_t i = 0; i < N * kvd; ++i) dk_raw[size_t(i)] += dv_raw[size_t(i)];
      }
      // One GEMM pair over the adjacent [Wq; Wk; Wv] and their gradients.
      Buf& dqkv = a.g_dqkv;
      resize(dqkv, N * (qd + kw + vw));
      join_columns(dqkv.data(), N, dq_raw.data(), qd, dk_raw.data(), kw, dv_raw.data(), vw);
      matmul_backward(dh.data(), f(lg.wq), dqkv.data(), la.h1.data(), cf(lw.wq), N, H, qd + kw + vw);
      rmsnorm_backward(dx.data(), f(lg.attn_norm), dh.data(), la.x_in.data(), cf(lw.attn_norm), la.r1.data(), N, H);
    }
  }

  // Per-layer inputs back into x0 and the per-layer embedding table.
  if (P > 0) {
    const float r2 = float(M_SQRT1_2);
    const float es = model_.ple_embed_scale();
    Buf& dnormed = a.g_dnormed;
    resize(dnormed, N * L * P);
    float* dE = f(g.ple_embed);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t i = 0; i < P; ++i) {
          const float d = dple_in[size_t((l * N + n) * P + i)] * r2;
          dnormed[size_t((n * L + l) * P + i)] = d;
          if (a.ids[size_t(n)] != c.pad_token_id) dE[int64_t(a.ids[size_t(n)]) * L * P + l * P + i] += d * es;
        }
    Buf& dpre = zeroed(a.g_dpre, N * L * P);
    rmsnorm_backward(dpre.data(), f(g.ple_proj_norm), dnormed.data(), a.ple_pre.data(), cf(w.ple_proj_norm),
                     a.ple_r.data(), N * L, P);
    const float ps = 1.0f / std::sqrt(float(H));
    for (float& x : dpre) x *= ps;
    matmul_backward(dx.data(), f(g.ple_model_proj), dpre.data(), a.x0.data(), cf(w.ple_model_proj), N, H, L * P);
  }
  // HF builds both embeddings with padding_idx = pad id: that row never learns.
  embedding_backward(f(g.embed), dx.data(), a.ids.data(), N, H, model_.embed_scale(), c.pad_token_id);
}

}  // namespace qat
