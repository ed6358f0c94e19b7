#include "train/gemma_train.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "base/error.h"
#include "model/tensor_convert.h"

namespace qat {

namespace {

using Buf = std::vector<float>;

// Buffers live across steps (no page faults, no reallocation): forward ones
// are overwritten whole, so only sized; gradient ones are zeroed.
void resize(Buf& b, int64_t n) { b.resize(size_t(n)); }
Buf& zeroed(Buf& b, int64_t n) {
  b.resize(size_t(n));
  std::fill(b.begin(), b.end(), 0.0f);
  return b;
}
void zero(Buf& b) { std::fill(b.begin(), b.end(), 0.0f); }

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

// Moves the present tensors of `group` into one allocation, back to back in
// order, so a layer's Q/K/V projections are one matrix: one GEMM instead of
// three narrow ones (K and V are 1-2 heads wide), forward and backward.
void make_adjacent(std::initializer_list<Tensor*> group) {
  uint64_t total = 0;
  for (Tensor* t : group)
    if (t->present()) total += t->nbytes();
  auto storage = std::make_shared<std::vector<uint8_t>>(total);
  uint64_t off = 0;
  for (Tensor* t : group) {
    if (!t->present()) continue;
    std::memcpy(storage->data() + off, t->data, t->nbytes());
    t->owned = storage;
    t->data = storage->data() + off;
    off += t->nbytes();
  }
}
float* f(Tensor& t) { return t.mutable_f32(); }
const float* cf(const Tensor& t) { return t.f32(); }

ParamGroup group_of(TensorRole r) {
  switch (r) {
    case TensorRole::Embedding: return ParamGroup::Embedding;
    case TensorRole::Matrix: return ParamGroup::Matrix;
    case TensorRole::Norm: return ParamGroup::Norm;
    case TensorRole::Scalar: return ParamGroup::Scalar;
    case TensorRole::Head: return ParamGroup::Head;
  }
  return ParamGroup::Matrix;
}

// Residual-branch output norm: x (N, H) += RMSNorm(o) * w, saving rstd.
void add_post_norm(float* x, float* o, float* rstd, const float* w, int64_t N, int64_t H, float eps, Buf& tmp) {
  rmsnorm_forward(tmp.data(), rstd, o, w, N, H, eps);
  for (int64_t i = 0; i < N * H; ++i) x[i] += tmp[size_t(i)];
}

}  // namespace

// Activations of one layer for a batch of N = B * T rows.
struct LayerActs {
  Buf x_in;                 // (N, H) residual entering the layer
  Buf h1, r1;               // (N, H), (N) input_layernorm
  Buf q_raw, q_r, q;        // (N, nh*hd), (N*nh), q after norm + RoPE
  Buf k_raw, k_r, k;        // (N, kvd), (N*nkv), k after norm + RoPE    (layers that store KV)
  Buf v_raw, v_r, v;        // (N, kvd), (N*nkv), v after the V-norm (Gemma 4)
  Buf probs;                // (B, nh, T, T)
  Buf att;                  // (N, nh*hd)
  Buf o1, ro1;              // (N, H), (N) o_proj output and its post-norm rstd
  Buf x_mid;                // (N, H) after the attention residual
  Buf h2, r2;               // (N, H), (N) pre_feedforward_layernorm
  Buf gate, up, act;        // (N, F)
  Buf o2, ro2;              // (N, H), (N)
  Buf x_ffn;                // (N, H) after the FFN residual
  Buf pg, pact, o3, ro3;    // PLE: (N, P), (N, P), (N, H), (N)
  Buf x_pre;                // (N, H) before the layer scalar
};

struct GemmaTrainer::Acts {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids, pos;  // (N)
  Buf x0;                         // (N, H) scaled embedding
  Buf ple_pre, ple_r;             // (N, L*P) projection * H^-0.5, (N*L) rstd
  Buf ple_in;                     // (L, N, P) per-layer inputs
  std::vector<LayerActs> layers;
  Buf x_out;                      // (N, H) last layer's output
  Buf hf, rf;                     // (N, H), (N) final norm
  // Loss side.
  bool classify = false;
  Buf dlogits;                    // (N, V) or (B, C): d loss / d logits (post-softcap) for loss_scale 1
  std::vector<int32_t> lengths;   // (B)
  Buf pooled;                     // (B, H)
  // Forward and backward scratch, kept between steps.
  Buf tmp, normed, qkv;
  Buf g_dhf, g_pooled, g_dx, g_dple_in, g_do, g_dh, g_dpact, g_dpg, g_dact, g_dgate, g_dup, g_datt, g_dq, g_dq_raw,
      g_dk_raw, g_dv_raw, g_dnormed, g_dpre, g_dqkv;
  std::vector<Buf> g_dk, g_dv;    // per layer that stores KV
};

GemmaTrainer::GemmaTrainer(Model& model, const ClassifierHead& add_head, uint64_t head_seed)
    : model_(model), a_(std::make_unique<Acts>()) {
  ModelConfig& c = model_.config;
  QAT_CHECK(model_.specs.size() == size_t(c.num_hidden_layers), "training: model is not finalized");
  if (add_head.num_classes > 0) {
    QAT_CHECK(c.num_labels == 0 || c.num_labels == add_head.num_classes, model_.source_path, ": the model's head has ",
              c.num_labels, " classes, the data ", add_head.num_classes);
    if (c.num_labels == 0) {
      c.num_labels = add_head.num_classes;
      c.classifier_pooling = add_head.pooling == Pooling::Mean ? "mean" : "last";
      c.class_names = add_head.class_names;
      const int64_t H = c.hidden_size;
      Tensor w = Tensor::zeros(TensorType::F32, {c.num_labels, H});
      std::mt19937_64 rng(head_seed);
      std::normal_distribution<double> nd(0.0, 1.0 / std::sqrt(double(H)));
      float* p = w.mutable_f32();
      for (int64_t i = 0; i < w.numel(); ++i) p[i] = float(nd(rng));
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
  ModelWeights& w = model_.weights;
  Acts& a = *a_;
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
    LayerWeights& lw = w.layers[size_t(l)];
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
    matmul_forward(la.gate.data(), la.h2.data(), cf(lw.w_gate), N, H, F);
    matmul_forward(la.up.data(), la.h2.data(), cf(lw.w_up), N, H, F);
    geglu_forward(la.act.data(), la.gate.data(), la.up.data(), N * F);
    resize(la.o2, N * H);
    resize(la.ro2, N);
    matmul_forward(la.o2.data(), la.act.data(), cf(lw.w_down), N, F, H);
    la.x_ffn = la.x_mid;
    add_post_norm(la.x_ffn.data(), la.o2.data(), la.ro2.data(), cf(lw.post_ffn_norm), N, H, eps, tmp);

    // --- per-layer embedding (Gemma 4) ---
    la.x_pre = la.x_ffn;
    if (P > 0) {
      resize(la.pg, N * P);
      resize(la.pact, N * P);
      matmul_forward(la.pg.data(), la.x_ffn.data(), cf(lw.ple_gate), N, H, P);
      geglu_forward(la.pact.data(), la.pg.data(), a.ple_in.data() + l * N * P, N * P);
      resize(la.o3, N * H);
      resize(la.ro3, N);
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
  const Tensor& out_w = c.tie_word_embeddings ? model_.weights.embed : model_.weights.output;
  matmul_forward(logits_.data(), a.hf.data(), cf(out_w), N, H, V);
  if (c.final_logit_softcapping > 0)
    softcap_forward(logits_.data(), logits_.data(), N * V, c.final_logit_softcapping);
  std::vector<int32_t> tg(targets, targets + N);
  for (int32_t& t : tg)
    if (t < 0) t = -1;
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
  matmul_forward(logits_.data(), a.pooled.data(), cf(model_.weights.score), B, H, C);
  a.dlogits.resize(size_t(B * C));
  return cross_entropy_forward_backward(a.dlogits.data(), logits_.data(), labels, B, C, -1, 1.0f, &counted_);
}

void GemmaTrainer::backward(float loss_scale) {
  const ModelConfig& c = model_.config;
  ModelWeights& w = model_.weights;
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
    LayerWeights& lw = w.layers[size_t(l)];
    LayerWeights& lg = g.layers[size_t(l)];
    LayerActs& la = a.layers[size_t(l)];
    const int64_t hd = s.head_dim, nkv = s.n_kv_heads, qd = nh * hd, kvd = nkv * hd, F = s.ffn_dim;
    const RopeTable& rt = rope_[size_t(l)];

    // x_out = x_pre * s
    if (c.has_layer_scalar()) {
      const float sc = cf(lw.layer_scalar)[0];
      double acc = 0;
      for (int64_t i = 0; i < N * H; ++i) acc += double(dx[size_t(i)]) * double(la.x_pre[size_t(i)]);
      f(lg.layer_scalar)[0] += float(acc);
      for (float& x : dx) x *= sc;
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
      matmul_backward(dx.data(), f(lg.ple_gate), dpg.data(), la.x_ffn.data(), cf(lw.ple_gate), N, H, P);
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
