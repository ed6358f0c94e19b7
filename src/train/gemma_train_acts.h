// Internal to the training step (gemma_train.cpp forward, gemma_train_backward.cpp
// backward): the activations the forward pass keeps for backward, and the
// buffer helpers both use.
#pragma once
#include <vector>

#include "train/gemma_train.h"

namespace qat::train_detail {

using Buf = std::vector<float>;

// Buffers live across steps (no page faults, no reallocation): forward ones
// are overwritten whole, so only sized; gradient ones are zeroed.
inline void resize(Buf& b, int64_t n) { b.resize(size_t(n)); }
inline Buf& zeroed(Buf& b, int64_t n) {
  b.resize(size_t(n));
  std::fill(b.begin(), b.end(), 0.0f);
  return b;
}
inline void zero(Buf& b) { std::fill(b.begin(), b.end(), 0.0f); }
inline float* f(Tensor& t) { return t.mutable_f32(); }
inline const float* cf(const Tensor& t) { return t.f32(); }

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
  Buf ple_gate_in;          // (N, H) x_ffn fake-quantized for the PLE gate (QAT A8 only; else empty)
  Buf x_pre;                // (N, H) before the layer scalar
};

struct Acts {
  int64_t B = 0, T = 0;
  std::vector<int32_t> ids, pos;  // (N)
  Buf x0;                         // (N, H) scaled embedding
  Buf ple_pre, ple_r;             // (N, L*P) projection * H^-0.5, (N*L) rstd
  Buf ple_in;                     // (L, N, P) per-layer inputs
  std::vector<LayerActs> layers;
  Buf x_out;                      // (N, H) last layer's output
  Buf hf, rf;                     // (N, H), (N) final norm
  bool fake_quant = false;        // this forward computed with the fake-quantized weights
  // Loss side.
  bool classify = false;
  std::vector<uint8_t> row_counted;  // (N) or (B): rows the loss counts
  Buf dlogits;                    // (N, V) or (B, C): d loss / d logits (post-softcap) for loss_scale 1
  std::vector<int32_t> lengths;   // (B)
  Buf pooled;                     // (B, H)
  // Forward and backward scratch, kept between steps.
  Buf tmp, normed, qkv;
  Buf g_dhf, g_pooled, g_dx, g_dple_in, g_do, g_dh, g_dpact, g_dpg, g_dact, g_dgate, g_dup, g_datt, g_dq, g_dq_raw,
      g_dk_raw, g_dv_raw, g_dnormed, g_dpre, g_dqkv;
  std::vector<Buf> g_dk, g_dv;    // per layer that stores KV
};

}  // namespace qat::train_detail
