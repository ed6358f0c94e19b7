// Inference state of one sequence: KV cache and scratch buffers. The forward
// pass reads like the paper:
//   x = embed(tokens) * sqrt(H)            [+ per-layer inputs (Gemma 4)]
//   per layer: x += PostNorm(Attention(RMSNorm(x)))
//              x += PostNorm(FFW(RMSNorm(x)))       [+ routed experts (Gemma 4 MoE, model/moe.cpp)]
//              [x += PostNorm(Proj(gelu(Gate(x)) * ple_l))]  [x *= layer_scalar]
//   logits = softcap(RMSNorm(x) @ E^T)
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "model/rope_table.h"

namespace qat {

class Session {
 public:
  // max_context: positions this session can hold; max_batch: tokens per forward step.
  Session(const Model& model, int max_context, int max_batch = 256);

  // Runs n tokens at positions [n_past, n_past + n). Longer inputs are split
  // into max_batch chunks. Writes (n, vocab) logits when all_logits, else the
  // last token's (vocab) logits. Returns a pointer to them (valid until the
  // next call).
  const float* forward(const int32_t* tokens, int n, bool all_logits = false);
  // Same pass without the output projection: returns the (n, hidden) hidden
  // states after the final RMSNorm, every position (what a classifier head
  // pools; model/classify.h). Valid until the next call.
  const float* forward_hidden(const int32_t* tokens, int n);
  // The same for the last position only: its (hidden) state. The last layer
  // then runs only the K/V projections for the other positions.
  const float* forward_last_hidden(const int32_t* tokens, int n);

  const Model& model() const { return m_; }
  int n_past() const { return n_past_; }
  int vocab_size() const { return m_.config.vocab_size; }
  int max_context() const { return max_context_; }
  void reset() { n_past_ = 0; }
  uint64_t kv_cache_bytes() const;
  // What kv_cache_bytes() will be for a session of this size, before making it.
  static uint64_t kv_cache_bytes_for(const Model& model, int max_context, int max_batch = 256);

 private:
  // Runs n tokens and writes rows [first_out, n) as logits to logits_out or
  // as final-norm hidden states to hidden_out (neither: only the KV cache).
  // The last layer computes only K/V for rows before first_out.
  void forward_chunk(const int32_t* tokens, int n, int first_out, float* logits_out, float* hidden_out);
  void check_tokens(const int32_t* tokens, int n) const;
  // out (nq, heads * head_dim) = attention of queries q (nq, heads * head_dim)
  // at positions pos0 .. pos0 + nq - 1 over the cached keys of `layer`.
  void attention(int layer, int nq, int pos0, const float* q, float* out);
  // The two ways of computing it (model/attention.cpp): one query row at a
  // time (decode), or small products over blocks of queries (prompts).
  struct LayerAttention;
  void attention_rows(const LayerAttention& a, int nq, int pos0, const float* q, float* out);
  void attention_gemm(const LayerAttention& a, int nq, int pos0, const float* q, float* out);
  void linear(const Tensor& w, const float* x, float* y, int64_t n) const;
  // Gemma 4 MoE (model/moe.cpp). x (nr, H) is the residual stream after
  // attention, mlp_out (nr, H) the dense MLP's output; mlp_out becomes
  // PostNorm1(mlp_out) + PostNorm2(experts(x)).
  void moe_block(const LayerWeights& lw, const float* x, int nr, float* mlp_out);
  // Fills topk_expert_ / topk_weight_ (nr, top_k) for x (nr, H).
  void route_experts(const LayerWeights& lw, const float* x, int nr);

  const Model& m_;
  int max_context_, max_batch_, n_past_ = 0;

  // KV cache per layer that stores K/V: ring buffers of `cap` positions,
  // (cap, n_kv, hd). Sliding layers need only window + max_batch positions.
  struct LayerCache {
    int cap = 0;
    std::vector<float> k, v;
  };
  std::vector<LayerCache> cache_;
  // What both attention paths read about a layer: the cache its K/V are in,
  // heads, head dim, KV heads, query and KV widths, heads per KV head, the
  // score scale and softcap, and the window (sliding or the whole context).
  struct LayerAttention {
    const LayerCache* cache;
    int64_t nh, hd, nkv, qd, kvd, group;
    float scale, cap;
    int window;
  };
  // RoPE tables per distinct (theta, rope_dims, factor, head_dim).
  std::vector<RopeTable> rope_tables_;
  std::vector<int> layer_rope_;  // layer -> index into rope_tables_

  // Scratch, sized for max_batch tokens.
  std::vector<float> x_, h_, q_, k_, v_, att_, proj_, gate_, up_, ple_in_, ple_tmp_, logits_;
  std::vector<float> scores_;  // per-thread attention scores
  // attention_gemm's keys and values (ctx, hd), per-thread scratch (queries,
  // scores, outputs) and per-thread key windows of the block's queries.
  std::vector<float> att_k_, att_v_, att_s_;
  std::vector<int32_t> att_win_;
  std::vector<float> hidden_;  // forward_hidden's (n, hidden) output
  // MoE scratch: router input / experts' input (B, H), router logits (B, E),
  // the experts' weighted sum (B, H), each token's top-k experts and weights
  // (B, K), the (token, k) pairs grouped by expert, and one expert's gathered
  // input (B, H), gate|up (B, 2I), activation (B, I) and output (B, H).
  std::vector<float> moe_in_, router_logits_, moe_out_, topk_weight_;
  std::vector<int32_t> topk_expert_, expert_pairs_, expert_start_;
  std::vector<float> expert_in_, expert_gu_, expert_act_, expert_out_;
};

}  // namespace qat
