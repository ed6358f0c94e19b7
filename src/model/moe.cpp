// Gemma 4's mixture of experts (26B-A4B), as HF's Gemma4TextDecoderLayer
// and llama.cpp's gemma4 graph compute it. Beside the dense MLP of a layer:
//   r       = RMSNorm(x) * router_scale * H^-0.5         (no norm weight)
//   p       = softmax(r @ Wrouter^T)                      (E)
//   top-k experts of p, their p renormalised to sum 1, times per_expert_scale
//   moe     = sum_k w_k * Down_k(geglu(GateUp_k(RMSNorm(x; pre_ffn_norm_2))))
//   ffn_out = RMSNorm(mlp; post_ffn_norm_1) + RMSNorm(moe; post_ffn_norm_2)
// where x is the residual stream after attention. Tokens are grouped by
// expert, so a prompt runs each chosen expert once over all its tokens.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "base/error.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/forward.h"

namespace qat {

namespace {

// Expert e's (R, C) matrix of a 3-D (E, R, C) expert tensor.
MatrixView expert_view(const Tensor& t, int64_t e, ActivationQuant act) {
  const int64_t R = t.shape[1], C = t.shape[2];
  const uint64_t slice_bytes = tensor_bytes(uint32_t(t.type), uint64_t(R * C));
  const PackedMatrix* packed = t.packed_slices.empty() ? nullptr : &t.packed_slices[size_t(e)];
  return {t.type, t.data + uint64_t(e) * slice_bytes, R, C, packed, act};
}

}  // namespace

void Session::route_experts(const LayerWeights& lw, const float* x, int nr) {
  const ModelConfig& c = m_.config;
  const int64_t H = c.hidden_size, E = c.num_experts, K = c.top_k_experts;
  float* r = moe_in_.data();  // (nr, H) router input
  rms_norm_rows(x, nullptr, r, nr, H, c.rms_norm_eps);
  const float* scale = lw.router_scale.f32();
  const float root = 1.0f / std::sqrt(float(H));
  for (int64_t t = 0; t < nr; ++t)
    for (int64_t i = 0; i < H; ++i) r[t * H + i] = r[t * H + i] * scale[i] * root;
  float* logits = router_logits_.data();  // (nr, E)
  matmul({lw.router.type, lw.router.data, E, H}, r, logits, nr);
  const float* per_expert = lw.expert_scale.f32();
  std::vector<int32_t> order(static_cast<size_t>(E));
  for (int64_t t = 0; t < nr; ++t) {
    float* p = logits + t * E;
    softmax(p, E);
    std::iota(order.begin(), order.end(), 0);
    // Highest probability first; ties go to the lower expert index.
    std::partial_sort(order.begin(), order.begin() + K, order.end(),
                      [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    float sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += p[order[size_t(k)]];
    for (int64_t k = 0; k < K; ++k) {
      const int32_t e = order[size_t(k)];
      topk_expert_[size_t(t * K + k)] = e;
      topk_weight_[size_t(t * K + k)] = p[e] / sum * per_expert[e];
    }
  }
}

void Session::moe_block(const LayerWeights& lw, const float* x, int nr, float* mlp_out) {
  const ModelConfig& c = m_.config;
  const int64_t H = c.hidden_size, E = c.num_experts, K = c.top_k_experts, I = c.moe_intermediate_size;
  const float eps = c.rms_norm_eps;
  route_experts(lw, x, nr);
  float* in = moe_in_.data();  // (nr, H) the experts' input
  rms_norm_rows(x, lw.pre_ffn_norm_2.f32(), in, nr, H, eps);
  float* acc = moe_out_.data();  // (nr, H) weighted sum of the experts' outputs
  std::fill(acc, acc + nr * H, 0.0f);
  // Which (token, k) pairs chose each expert, in token order.
  std::vector<int32_t>& pairs = expert_pairs_;
  std::vector<int32_t>& start = expert_start_;
  start.assign(size_t(E + 1), 0);
  for (int64_t i = 0; i < nr * K; ++i) ++start[size_t(topk_expert_[size_t(i)]) + 1];
  for (int64_t e = 0; e < E; ++e) start[size_t(e + 1)] += start[size_t(e)];
  pairs.resize(size_t(nr * K));
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < nr * K; ++i) pairs[size_t(fill[size_t(topk_expert_[size_t(i)])]++)] = int32_t(i);

  float* xin = expert_in_.data();   // (m, H) gathered inputs
  float* gu = expert_gu_.data();    // (m, 2I) gate | up
  float* act = expert_act_.data();  // (m, I)
  float* out = expert_out_.data();  // (m, H)
  for (int64_t e = 0; e < E; ++e) {
    const int32_t b = start[size_t(e)], m = start[size_t(e + 1)] - b;
    if (m == 0) continue;
    for (int32_t j = 0; j < m; ++j)
      std::memcpy(xin + j * H, in + (pairs[size_t(b + j)] / K) * H, sizeof(float) * size_t(H));
    matmul(expert_view(lw.experts_gate_up, e, c.activation_quant), xin, gu, m);
    for (int32_t j = 0; j < m; ++j) geglu(gu + j * 2 * I, gu + j * 2 * I + I, act + j * I, I);
    matmul(expert_view(lw.experts_down, e, c.activation_quant), act, out, m);
    for (int32_t j = 0; j < m; ++j) {
      const int32_t pair = pairs[size_t(b + j)];
      const float w = topk_weight_[size_t(pair)];
      float* a = acc + (pair / K) * H;
      for (int64_t i = 0; i < H; ++i) a[i] += w * out[j * H + i];
    }
  }
  rms_norm_rows(mlp_out, lw.post_ffn_norm_1.f32(), mlp_out, nr, H, eps);
  rms_norm_rows(acc, lw.post_ffn_norm_2.f32(), acc, nr, H, eps);
  for (int64_t i = 0; i < nr * H; ++i) mlp_out[i] += acc[i];
}

}  // namespace qat
