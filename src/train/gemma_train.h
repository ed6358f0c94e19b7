// The Gemma 3 / Gemma 4 training step: forward over a batch of B sequences
// of T tokens keeping every activation backward needs, then backward into
// FP32 gradients of every parameter. The math is the inference forward pass
// (model/forward.cpp) without a KV cache:
//   x = embed(tokens) * sqrt(H)            [+ per-layer inputs (Gemma 4)]
//   per layer: x += PostNorm(Attention(RMSNorm(x)))
//              x += PostNorm(FFW(RMSNorm(x)))
//              [x += PostNorm(Proj(gelu(Gate(x)) * ple_l))]  [x *= layer_scalar]
//   lm:       logits = softcap(RMSNorm(x) @ E^T),  loss = mean CE(next token)
//   classify: logits = pool(RMSNorm(x)) @ W_score^T, loss = mean CE(label)
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/rope_table.h"
#include "train/parameters.h"
#include "train/train_ops.h"

namespace qat {

struct ClassifierHead {
  int num_classes = 0;  // 0: no head (language modelling only)
  Pooling pooling = Pooling::Last;
};

class GemmaTrainer {
 public:
  // Takes the model's weights over as owned FP32 tensors (converting F16 /
  // BF16 / quantized ones and copying mapped ones), so the model can be
  // saved with the usual writers at any time. With a head, "score.weight"
  // (num_classes, H) is added, drawn N(0, 1/H) from head_seed unless set later.
  GemmaTrainer(Model& model, ClassifierHead head = {}, uint64_t head_seed = 1);
  ~GemmaTrainer();

  Model& model() { return model_; }
  const ClassifierHead& head() const { return head_; }
  std::vector<float>& head_weight() { return head_w_; }  // (num_classes, H)
  ParameterList& parameters() { return params_; }

  // Language modelling: ids and targets (B, T); targets < 0 are ignored.
  // Returns the mean loss over counted targets; keeps activations.
  double forward_lm(const int32_t* ids, const int32_t* targets, int64_t B, int64_t T);
  // Classification: ids (B, T) padded at the end, lengths (B) in [1, T],
  // labels (B) in [0, num_classes). Returns the mean loss.
  double forward_classify(const int32_t* ids, const int32_t* lengths, const int32_t* labels, int64_t B,
                          int64_t T);
  // Accumulates d(loss_scale * loss)/dparam into every parameter's grad
  // (frozen ones included; the optimizer skips them). Call after a forward.
  void backward(float loss_scale = 1.0f);

  // After forward: (B, T, V) LM logits (softcapped) or (B, num_classes).
  const std::vector<float>& logits() const { return logits_; }
  // Rows counted by the last forward's loss (targets not ignored / sequences).
  int64_t counted() const { return counted_; }

 private:
  struct Acts;
  void forward_body(const int32_t* ids, int64_t B, int64_t T);
  void ensure_rope(int64_t T);

  Model& model_;
  ClassifierHead head_;
  std::vector<float> head_w_, head_grad_;
  ModelWeights grads_;
  ParameterList params_;
  std::vector<RopeTable> rope_;   // per layer (tables shared by copy are small)
  int64_t rope_len_ = 0;
  std::unique_ptr<Acts> a_;
  int64_t counted_ = 0;
  std::vector<float> logits_;
};

}  // namespace qat
