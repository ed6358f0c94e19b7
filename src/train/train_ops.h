// Forward / backward pairs for every op of the Gemma training step, llm.c
// style: plain loops over row-major buffers, a shape comment on each tensor.
// Every *_backward ACCUMULATES (+=) into its input and parameter gradients,
// so one activation read by several ops (the residual stream, K used as V,
// shared KV) sums its gradients naturally; callers zero gradients first.
//
// Templated on the scalar type only so the finite-difference tests can run
// the very same code in double; the model uses float. N is the number of
// token rows (batch * seq).
#pragma once
#include <cstdint>

namespace qat {

// out (N, C) = table[ids[n]] * scale            table (V, C)
template <typename T>
void embedding_forward(T* out, const int32_t* ids, const T* table, int64_t N, int64_t C, T scale);
// dtable (V, C) += scale * dout rows scattered by ids; rows whose id is
// skip_id (the padding id, as torch's nn.Embedding(padding_idx)) get nothing.
template <typename T>
void embedding_backward(T* dtable, const T* dout, const int32_t* ids, int64_t N, int64_t C, T scale,
                        int32_t skip_id = -1);

// out (N, C) = x / sqrt(mean(x^2) + eps) * w    (w = nullptr: unscaled, Gemma 4's V-norm)
// rstd (N) saved for backward. out may alias x.
template <typename T>
void rmsnorm_forward(T* out, T* rstd, const T* x, const T* w, int64_t N, int64_t C, T eps);
// dx (N, C) +=, dw (C) += (when w): needs the forward's input x and rstd.
template <typename T>
void rmsnorm_backward(T* dx, T* dw, const T* dout, const T* x, const T* w, const T* rstd, int64_t N,
                      int64_t C);

// Threads of the FP32 products (OpenBLAS keeps its own count; the CLI's
// --threads sets it through this).
void set_matmul_threads(int n);

// out (N, OC) = x (N, C) @ W^T,   W (OC, C) as a torch Linear (no bias).
template <typename T>
void matmul_forward(T* out, const T* x, const T* W, int64_t N, int64_t C, int64_t OC);
// dx (N, C) += dout @ W   (skipped when dx is null);  dW (OC, C) += dout^T @ x (skipped when null)
template <typename T>
void matmul_backward(T* dx, T* dW, const T* dout, const T* x, const T* W, int64_t N, int64_t C,
                     int64_t OC);

// NeoX rotary embedding in place on x (N, heads, hd): pairs (j, j + hd/2)
// rotated by the angle of the row's position. cos/sin (max_pos, hd/2),
// pos (N) the position of each row.
template <typename T>
void rope_forward(T* x, const float* cos_tab, const float* sin_tab, const int32_t* pos, int64_t N,
                  int64_t heads, int64_t hd);
// The inverse rotation applied to the gradient, in place: d (N, heads, hd).
template <typename T>
void rope_backward(T* d, const float* cos_tab, const float* sin_tab, const int32_t* pos, int64_t N,
                   int64_t heads, int64_t hd);

// Causal attention with GQA, optional logit softcap and sliding window (in
// attention_ops.cpp), over
// B sequences of T tokens:
//   q (B, T, nh, hd), k and v (B, T, nkv, hd), out (B, T, nh, hd)
//   probs (B, nh, T, T) saved for backward (row t uses columns [lo, t]).
// Query t attends to positions p with p <= t and t - p < window (window <= 0: no limit).
struct AttentionShape {
  int64_t B, T, nh, nkv, hd;
  float scale;    // multiplies q.k
  float softcap;  // 0 = off: score = cap * tanh(score / cap)
  int64_t window; // <= 0: full causal
};
template <typename T>
void attention_forward(T* out, T* probs, const T* q, const T* k, const T* v, const AttentionShape& s);
// dq +=, dk +=, dv += (shapes as their inputs).
template <typename T>
void attention_backward(T* dq, T* dk, T* dv, const T* dout, const T* probs, const T* q, const T* k,
                        const T* v, const AttentionShape& s);

// out (n) = gelu_tanh(gate) * up
template <typename T>
void geglu_forward(T* out, const T* gate, const T* up, int64_t n);
// dgate += , dup +=
template <typename T>
void geglu_backward(T* dgate, T* dup, const T* dout, const T* gate, const T* up, int64_t n);

// y (n) = cap * tanh(x / cap); out may alias x.
template <typename T>
void softcap_forward(T* out, const T* x, int64_t n, T cap);
// dx (n) += dout * (1 - (y / cap)^2), from the forward's OUTPUT y (in place allowed: dx == dout).
template <typename T>
void softcap_backward(T* dx, const T* dout, const T* y, int64_t n, T cap);

// Mean cross-entropy over rows whose target is not `ignore`:
// logits (N, V), targets (N). Returns the mean loss and the number of counted rows.
// dlogits (N, V) (written, not accumulated; may alias logits) =
//   (softmax - onehot) * dloss / count, zero rows for ignored targets.
template <typename T>
double cross_entropy_forward_backward(T* dlogits, const T* logits, const int32_t* targets, int64_t N,
                                      int64_t V, int32_t ignore, T dloss, int64_t* count);

// Sequence pooling for classification: x (B, T, C) -> out (B, C) per sequence
// of length len[b] (>= 1): Last takes row len-1, Mean averages rows [0, len).
enum class Pooling { Last, Mean };
template <typename T>
void pool_forward(T* out, const T* x, const int32_t* len, int64_t B, int64_t T_, int64_t C, Pooling p);
// dx (B, T, C) += spread of dout (B, C)
template <typename T>
void pool_backward(T* dx, const T* dout, const int32_t* len, int64_t B, int64_t T_, int64_t C, Pooling p);

// y (n) = x * s (a scalar parameter): dx += dout * s, ds += sum(dout * x)
template <typename T>
void scale_backward(T* dx, T* ds, const T* dout, const T* x, T s, int64_t n);

}  // namespace qat
