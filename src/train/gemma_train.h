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
#include "train/gptq.h"
#include "train/parameters.h"
#include "train/train_ops.h"

namespace qat {

namespace train_detail {
struct Acts;  // gemma_train_acts.h
}
class FakeQuantState;  // fake_quant_state.h
class LmSampler;       // lm_sampler.h
struct QatConfig;      // qat_scheme.h

// A classification head to add to a model that has none (a model that
// already has one keeps it: ModelConfig::num_labels, "score.weight").
struct ClassifierHead {
  int num_classes = 0;  // 0: no head to add
  Pooling pooling = Pooling::Last;
  std::vector<std::string> class_names;
};

class GemmaTrainer {
 public:
  // Takes the model's weights over as owned FP32 tensors (converting F16 /
  // BF16 / quantized ones and copying mapped ones), so the model can be
  // saved with the usual writers at any time. A new head's "score.weight"
  // (num_classes, H) is drawn N(0, 1/H) from head_seed.
  GemmaTrainer(Model& model, const ClassifierHead& add_head = {}, uint64_t head_seed = 1);
  ~GemmaTrainer();

  Model& model() { return model_; }
  int num_classes() const { return model_.config.num_labels; }
  float* head_weight() { return model_.weights.score.mutable_f32(); }  // (num_classes, H)
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

  // Knowledge distillation (call after a forward, before backward): the loss
  // becomes (1 - weight) * CE + weight * T^2 * KL(teacher_T || student_T)
  // averaged over the rows the CE counts, where p_T = softmax(logits / T);
  // teacher_logits has the shape of logits(); ce_loss is what the forward
  // returned. Returns the mixed loss.
  double distill(const std::vector<float>& teacher_logits, double ce_loss, float temperature, float weight);

  // Quantization-aware training: from now on (while active) the forward and
  // backward compute with fake-quantized weights and, for A8 schemes,
  // fake-quantized matmul inputs; LSQ scales join parameters(). Call before
  // building the Trainer (its optimizer takes the parameter list then).
  // hessians: the input statistics ScaleInit::Gptq quantizes with (see
  // accumulate_input_hessians); needed only when fake quantization starts
  // at step 0 (GPTQ is not offered after a warm-up).
  void enable_fake_quant(const QatConfig& config, const InputHessians* hessians = nullptr);
  // GPTQ calibration: runs the forward over ids (B, T) with the FP32 weights
  // (fake quantization off) and adds every quantizable matmul's input to the
  // Hessian of the weights it multiplies: Q/K/V, O, gate/up and down of each
  // layer, and the output projection (the tied embedding). Call before
  // enable_fake_quant. Gemma 4's per-layer-input projections are not covered.
  void accumulate_input_hessians(const int32_t* ids, int64_t B, int64_t T, InputHessians& hessians);
  // The same over the next `batches` batches of sampler, with a progress bar.
  void accumulate_input_hessians(LmSampler& sampler, int batches, InputHessians& hessians);
  // Bytes the Hessians of accumulate_input_hessians take for `model`: one
  // (cols x cols) double matrix per distinct matmul input.
  static uint64_t input_hessian_bytes(const Model& model);
  // Tensors GPTQ quantized when fake quantization was enabled.
  int gptq_tensors() const { return gptq_tensors_; }
  FakeQuantState* fake_quant() { return fq_.get(); }
  bool fake_quant_active() const { return fq_ != nullptr && fq_active_; }
  // Called by the trainer before optimizer step `step` (0-based): fake
  // quantization is on from config.start_step, and LSQ scales are
  // initialised from the weights at that step.
  void begin_step(int64_t step);
  // Called by the trainer after all of a step's backward passes: the
  // straight-through / LSQ gradients of the quantized weights.
  void finish_gradients();

  // After forward: (B, T, V) LM logits (softcapped) or (B, num_classes).
  const std::vector<float>& logits() const { return logits_; }
  // Rows counted by the last forward's loss (targets not ignored / sequences).
  int64_t counted() const { return counted_; }

 private:
  void forward_body(const int32_t* ids, int64_t B, int64_t T);
  void ensure_rope(int64_t T);

  Model& model_;
  Pooling pooling_ = Pooling::Last;
  ModelWeights grads_;
  ParameterList params_;
  std::vector<RopeTable> rope_;   // per layer (tables shared by copy are small)
  int64_t rope_len_ = 0;
  std::unique_ptr<train_detail::Acts> a_;
  int64_t counted_ = 0;
  std::vector<float> logits_;
  std::unique_ptr<FakeQuantState> fq_;
  bool fq_active_ = false;
  int gptq_tensors_ = 0;
};

}  // namespace qat
