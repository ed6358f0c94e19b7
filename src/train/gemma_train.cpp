#include "train/gemma_train.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.h"
#include "model/tensor_convert.h"
#include "train/adjacent_tensors.h"
#include "train/fake_quant_ops.h"
#include "train/fake_quant_state.h"
#include "train/gemma_train_acts.h"
#include "train/rng.h"

namespace qat {

using namespace train_detail;

namespace {

// (N, a + b + c) rows <-> three (N, a), (N, b), (N, c) matrices (null / 0 width: absent).
void split_columns(const float* in, int64_t N, float* a, int64_t wa, float* b, int64_t wb, float* c, int64_t wc) {
  const int64_t w = wa + wb + wc;
#pragma omp parallel for schedule(static) if (N * w >= (1 << 16))
  for (int64_t n = 0; n < N; ++n) {
    const float* r = in + n * w;
    std::memcpy(a + n * wa, r, sizeof(float) * size_t(wa));
    if (wb) std::memcpy(b + n * wb, r + wa, sizeof(float) * size_t(wb));
    if (wc) std::memcpy(c + n * wc, r + wa + wb, sizeof(float) * size_t(wc));
  }
}
ParamGroup group_of(TensorRole r) {
  switch (r) {
    case TensorRole::Embedding: return ParamGroup::Embedding;
    case TensorRole::Matrix: return ParamGroup::Matrix;
    case TensorRole::Norm: return ParamGroup::Norm;
    case TensorRole::Scalar: return ParamGroup::Scalar;
    case TensorRole::Head: return ParamGroup::Head;
    case TensorRole::Router: break;  // MoE models are refused before this (GemmaTrainer)
  }
  return ParamGroup::Matrix;
}

// Residual-branch output norm: x (N, H) += RMSNorm(o) * w, saving rstd.
void add_post_norm(float* x, float* o, float* rstd, const float* w, int64_t N, int64_t H, float eps, Buf& tmp) {
  rmsnorm_forward(tmp.data(), rstd, o, w, N, H, eps);
  for (int64_t i = 0; i < N * H; ++i) x[i] += tmp[size_t(i)];
}

}  // namespace

GemmaTrainer::GemmaTrainer(Model& model, const ClassifierHead& add_head, uint64_t head_seed)
    : model_(model), a_(std::make_unique<Acts>()) {
  ModelConfig& c = model_.config;
  QAT_CHECK(model_.specs.size() == size_t(c.num_hidden_layers), "training: model is not finalized");
  QAT_CHECK(!c.has_moe(), model_.source_path, ": training a Gemma 4 MoE model is not supported (inference, ",
            "quantization and conversion are)");
  if (add_head.num_classes > 0) {
    QAT_CHECK(c.num_labels == 0 || c.num_labels == add_head.num_classes, model_.source_path, ": the model's head has ",
              c.num_labels, " classes, the data ", add_head.num_classes);
    if (c.num_labels == 0) {
      c.num_labels = add_head.num_classes;
      c.classifier_pooling = add_head.pooling == Pooling::Mean ? "mean" : "last";
      c.class_names = add_head.class_names;
      const int64_t H = c.hidden_size;
      Tensor w = Tensor::zeros(TensorType::F32, {c.num_labels, H});
      Rng rng(head_seed);  // the same draws on every platform
      const float sd = 1.0f / std::sqrt(float(H));
      float* p = w.mutable_f32();
      for (int64_t i = 0; i < w.numel(); ++i) p[i] = rng.normal() * sd;
      model_.weights.score = std::move(w);
    }
  }
  pooling_ = c.classifier_pooling == "mean" ? Pooling::Mean : Pooling::Last;
  // Own every tensor as FP32 (mapped views, F16/BF16 and quantized converted).
  for (const TensorSlot& s : tensor_slots(c, model_.weights)) {
    Tensor& t = *s.tensor;
    if (!t.present()) continue;
    Tensor owned = Tensor::zeros(TensorType::F32, t.shape);
    std::vector<float> v = tensor_to_f32(t);
    std::copy(v.begin(), v.end(), owned.mutable_f32());
    t = std::move(owned);
  }
  // Gradients mirror the weights; the parameter list follows tensor_slots
  // order (both structures walked together).
  auto wslots = tensor_slots(c, model_.weights);
  auto gslots = tensor_slots(c, grads_);
  for (size_t i = 0; i < wslots.size(); ++i)
    if (wslots[i].tensor->present()) *gslots[i].tensor = Tensor::zeros(TensorType::F32, wslots[i].tensor->shape);
  for (ModelWeights* mw : {&model_.weights, &grads_})
    for (LayerWeights& lw : mw->layers) {
      make_adjacent({&lw.wq, &lw.wk, &lw.wv});
    }
  for (size_t i = 0; i < wslots.size(); ++i) {
    Tensor& w = *wslots[i].tensor;
    if (!w.present()) continue;
    Parameter p;
    p.name = wslots[i].hf_name;
    p.shape = w.shape;
    p.value = w.mutable_f32();
    p.grad = gslots[i].tensor->mutable_f32();
    p.numel = w.numel();
    p.group = group_of(wslots[i].role);
    // HF keeps Gemma 4's layer_scalar as a buffer, not a parameter: frozen
    // by default so fine-tuning matches HF (its gradient is still computed).
    p.trainable = p.group != ParamGroup::Scalar;
    params_.push_back(p);
  }
}

GemmaTrainer::~GemmaTrainer() = default;

void GemmaTrainer::ensure_rope(int64_t T) {
  if (T <= rope_len_) return;
  rope_.clear();
  for (const LayerSpec& s : model_.specs) rope_.push_back(make_rope_table(s, int(T)));
  rope_len_ = T;
}

void GemmaTrainer::forward_body(const int32_t* ids, int64_t B, int64_t T) {
  const ModelConfig& c = model_.config;
  Acts& a = *a_;
  a.fake_quant = fake_quant_active();
  if (a.fake_quant) fq_->refresh();
  const ModelWeights& w = a.fake_quant ? fq_->weights() : model_.weights;
  // QAT A8 schemes: a matmul whose weight is quantized gets its input
  // quantized to dynamic Q8_0 blocks, as the inference kernels do (in place:
  // the buffers below feed only that matmul, and backward's dW uses them).
  auto quantize_input = [&](Buf& x, int64_t rows, int64_t cols, const Tensor& wt) {
    if (a.fake_quant && fq_->quantizes_input(wt)) act_fake_quant_q8_0(x.data(), x.data(), rows, cols);
  };
  const int64_t N = B * T, H = c.hidden_size, nh = c.num_attention_heads, L = c.num_hidden_layers;
  const int64_t P = c.hidden_size_per_layer_input, V = c.vocab_size;
  const float eps = c.rms_norm_eps;
  QAT_CHECK(B > 0 && T > 0, "training batch must be non-empty (B=", B, ", T=", T, ")");
  for (int64_t i = 0; i < N; ++i)
    QAT_CHECK(ids[i] >= 0 && ids[i] < V, "token id ", ids[i], " out of range [0, ", V, ")");
  ensure_rope(T);
  a.B = B;
  a.T = T;
  a.ids.assign(ids, ids + N);
  a.pos.resize(size_t(N));
  for (int64_t i = 0; i < N; ++i) a.pos[size_t(i)] = int32_t(i % T);
  a.layers.resize(size_t(L));
  Buf& tmp = a.tmp;
  resize(tmp, N * H);

  resize(a.x0, N * H);
  embedding_forward(a.x0.data(), ids, cf(w.embed), N, H, model_.embed_scale());

  // Gemma 4 per-layer inputs, (L, N, P):
  //   (RMSNorm(x0 @ Wple^T * H^-0.5) + E_ple[tok] * sqrt(P)) * 2^-0.5
  if (P > 0) {
    resize(a.ple_pre, N * L * P);
    resize(a.ple_r, N * L);
    matmul_forward(a.ple_pre.data(), a.x0.data(), cf(w.ple_model_proj), N, H, L * P);
    const float ps = 1.0f / std::sqrt(float(H));
    for (float& x : a.ple_pre) x *= ps;
    Buf& normed = a.normed;
    resize(normed, N * L * P);
    rmsnorm_forward(normed.data(), a.ple_r.data(), a.ple_pre.data(), cf(w.ple_proj_norm), N * L, P, eps);
    resize(a.ple_in, L * N * P);
    const float es = model_.ple_embed_scale();
    const float* E = cf(w.ple_embed);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t i = 0; i < P; ++i)
          a.ple_in[size_t((l * N + n) * P + i)] =
              (normed[size_t((n * L + l) * P + i)] + E[int64_t(ids[n]) * L * P + l * P + i] * es) *
              float(M_SQRT1_2);
  }

  const float* x_prev = a.x0.data();
  for (int64_t l = 0; l < L; ++l) {
    const LayerSpec& s = model_.specs[size_t(l)];
    const LayerWeights& lw = w.layers[size_t(l)];
    LayerActs& la = a.layers[size_t(l)];
    const int64_t hd = s.head_dim, nkv = s.n_kv_heads, qd = nh * hd, kvd = nkv * hd, F = s.ffn_dim;
    const RopeTable& rt = rope_[size_t(l)];
    la.x_in.assign(x_prev, x_prev + N * H);

    // --- attention ---
    resize(la.h1, N * H);
    resize(la.r1, N);
    rmsnorm_forward(la.h1.data(), la.r1.data(), la.x_in.data(), cf(lw.attn_norm), N, H, eps);
    // Q, K and V projections: one GEMM over the adjacent [Wq; Wk; Wv].
    const int64_t kw = s.stores_kv ? kvd : 0, vw = s.stores_kv && !s.k_eq_v ? kvd : 0;
    resize(la.q_raw, N * qd);
    resize(la.q_r, N * nh);
    resize(la.q, N * qd);
    if (kw) resize(la.k_raw, N * kvd);
    if (vw) resize(la.v_raw, N * kvd);
    resize(a.qkv, N * (qd + kw + vw));
    quantize_input(la.h1, N, H, lw.wq);
    matmul_forward(a.qkv.data(), la.h1.data(), cf(lw.wq), N, H, qd + kw + vw);
    split_columns(a.qkv.data(), N, la.q_raw.data(), qd, la.k_raw.data(), kw, la.v_raw.data(), vw);
    rmsnorm_forward(la.q.data(), la.q_r.data(), la.q_raw.data(), cf(lw.q_norm), N * nh, hd, eps);
    rope_forward(la.q.data(), rt.cos.data(), rt.sin.data(), a.pos.data(), N, nh, hd);
    if (s.stores_kv) {
      resize(la.k_r, N * nkv);
      resize(la.k, N * kvd);
      if (s.k_eq_v) la.v_raw = la.k_raw;  // V from the raw K projection
      rmsnorm_forward(la.k.data(), la.k_r.data(), la.k_raw.data(), cf(lw.k_norm), N * nkv, hd, eps);
      rope_forward(la.k.data(), rt.cos.data(), rt.sin.data(), a.pos.data(), N, nkv, hd);
      if (c.has_v_norm()) {
        resize(la.v_r, N * nkv);
        resize(la.v, N * kvd);
        rmsnorm_forward(la.v.data(), la.v_r.data(), la.v_raw.data(), static_cast<const float*>(nullptr),
                        N * nkv, hd, eps);
      } else {
        la.v = la.v_raw;
      }
    }
    const LayerActs& kv = s.kv_source >= 0 ? a.layers[size_t(s.kv_source)] : la;
    resize(la.probs, B * nh * T * T);
    resize(la.att, N * qd);
    const AttentionShape as{B, T, nh, nkv, hd, c.attention_scale(), c.attn_logit_softcapping,
                            s.sliding ? int64_t(c.sliding_window) : 0};
    attention_forward(la.att.data(), la.probs.data(), la.q.data(), kv.k.data(), kv.v.data(), as);
    resize(la.o1, N * H);
    resize(la.ro1, N);
    quantize_input(la.att, N, qd, lw.wo);
    matmul_forward(la.o1.data(), la.att.data(), cf(lw.wo), N, qd, H);
    la.x_mid = la.x_in;
    add_post_norm(la.x_mid.data(), la.o1.data(), la.ro1.data(), cf(lw.post_attn_norm), N, H, eps, tmp);

    // --- feed-forward (GeGLU) ---
    resize(la.h2, N * H);
    resize(la.r2, N);
    rmsnorm_forward(la.h2.data(), la.r2.data(), la.x_mid.data(), cf(lw.ffn_norm), N, H, eps);
    resize(la.gate, N * F);
    resize(la.up, N * F);
    resize(la.act, N * F);
    quantize_input(la.h2, N, H, lw.w_gate);
    matmul_forward(la.gate.data(), la.h2.data(), cf(lw.w_gate), N, H, F);
    matmul_forward(la.up.data(), la.h2.data(), cf(lw.w_up), N, H, F);
    geglu_forward(la.act.data(), la.gate.data(), la.up.data(), N * F);
    resize(la.o2, N * H);
    resize(la.ro2, N);
    quantize_input(la.act, N, F, lw.w_down);
    matmul_forward(la.o2.data(), la.act.data(), cf(lw.w_down), N, F, H);
    la.x_ffn = la.x_mid;
    add_post_norm(la.x_ffn.data(), la.o2.data(), la.ro2.data(), cf(lw.post_ffn_norm), N, H, eps, tmp);

    // --- per-layer embedding (Gemma 4) ---
    la.x_pre = la.x_ffn;
    if (P > 0) {
      resize(la.pg, N * P);
      resize(la.pact, N * P);
      la.ple_gate_in.clear();
      if (a.fake_quant && fq_->quantizes_input(lw.ple_gate)) {
        la.ple_gate_in = la.x_ffn;  // x_ffn itself stays the residual stream
        quantize_input(la.ple_gate_in, N, H, lw.ple_gate);
      }
      matmul_forward(la.pg.data(), la.ple_gate_in.empty() ? la.x_ffn.data() : la.ple_gate_in.data(),
                     cf(lw.ple_gate), N, H, P);
      geglu_forward(la.pact.data(), la.pg.data(), a.ple_in.data() + l * N * P, N * P);
      resize(la.o3, N * H);
      resize(la.ro3, N);
      quantize_input(la.pact, N, P, lw.ple_proj);
      matmul_forward(la.o3.data(), la.pact.data(), cf(lw.ple_proj), N, P, H);
      add_post_norm(la.x_pre.data(), la.o3.data(), la.ro3.data(), cf(lw.ple_post_norm), N, H, eps, tmp);
    }
    if (c.has_layer_scalar()) {
      const float sc = cf(lw.layer_scalar)[0];
      a.x_out.resize(size_t(N * H));
      for (int64_t i = 0; i < N * H; ++i) a.x_out[size_t(i)] = la.x_pre[size_t(i)] * sc;
      x_prev = a.x_out.data();
      // The next layer copies x_out into its x_in before x_out is rewritten.
    } else {
      x_prev = la.x_pre.data();
    }
  }
  if (x_prev != a.x_out.data()) a.x_out.assign(x_prev, x_prev + N * H);
  resize(a.hf, N * H);
  resize(a.rf, N);
  rmsnorm_forward(a.hf.data(), a.rf.data(), a.x_out.data(), cf(w.final_norm), N, H, eps);
}

double GemmaTrainer::forward_lm(const int32_t* ids, const int32_t* targets, int64_t B, int64_t T) {
  const ModelConfig& c = model_.config;
  forward_body(ids, B, T);
  Acts& a = *a_;
  a.classify = false;
  const int64_t N = B * T, H = c.hidden_size, V = c.vocab_size;
  for (int64_t i = 0; i < N; ++i)
    QAT_CHECK(targets[i] < V, "target id ", targets[i], " out of range [0, ", V, ")");
  logits_.resize(size_t(N * V));
  const ModelWeights& w = a.fake_quant ? fq_->weights() : model_.weights;
  const Tensor& out_w = c.tie_word_embeddings ? w.embed : w.output;
  if (a.fake_quant && fq_->quantizes_input(out_w)) act_fake_quant_q8_0(a.hf.data(), a.hf.data(), N, H);
  matmul_forward(logits_.data(), a.hf.data(), cf(out_w), N, H, V);
  if (c.final_logit_softcapping > 0)
    softcap_forward(logits_.data(), logits_.data(), N * V, c.final_logit_softcapping);
  std::vector<int32_t> tg(targets, targets + N);
  a.row_counted.resize(size_t(N));
  for (int64_t i = 0; i < N; ++i) {
    if (tg[size_t(i)] < 0) tg[size_t(i)] = -1;
    a.row_counted[size_t(i)] = tg[size_t(i)] >= 0;
  }
  a.dlogits.resize(size_t(N * V));
  return cross_entropy_forward_backward(a.dlogits.data(), logits_.data(), tg.data(), N, V, -1, 1.0f, &counted_);
}

double GemmaTrainer::forward_classify(const int32_t* ids, const int32_t* lengths, const int32_t* labels,
                                      int64_t B, int64_t T) {
  QAT_CHECK(num_classes() > 0, "forward_classify: the model has no classification head");
  const int64_t C = num_classes(), H = model_.config.hidden_size;
  for (int64_t b = 0; b < B; ++b) {
    QAT_CHECK(lengths[b] >= 1 && lengths[b] <= T, "sequence length ", lengths[b], " outside [1, ", T, "]");
    QAT_CHECK(labels[b] >= 0 && labels[b] < C, "label ", labels[b], " outside [0, ", C, ")");
  }
  forward_body(ids, B, T);
  Acts& a = *a_;
  a.classify = true;
  a.lengths.assign(lengths, lengths + B);
  resize(a.pooled, B * H);
  pool_forward(a.pooled.data(), a.hf.data(), lengths, B, T, H, pooling_);
  logits_.resize(size_t(B * C));
  // The head stays FP32 under QAT (plan), so its input is not quantized.
  const ModelWeights& w = a.fake_quant ? fq_->weights() : model_.weights;
  matmul_forward(logits_.data(), a.pooled.data(), cf(w.score), B, H, C);
  a.row_counted.assign(size_t(B), 1);
  a.dlogits.resize(size_t(B * C));
  return cross_entropy_forward_backward(a.dlogits.data(), logits_.data(), labels, B, C, -1, 1.0f, &counted_);
}

}  // namespace qat
