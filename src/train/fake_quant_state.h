// The fake-quantized view of a model under QAT. For every tensor the plan
// quantizes, a shadow FP32 tensor holds dequantize(quantize(master)) (or the
// LSQ equivalent with learned block scales); the training forward and
// backward read the shadows, the optimizer updates the masters, and
// finish_gradients() turns d(loss)/d(shadow) into d(loss)/d(master) (and
// d(loss)/d(scale)) by the straight-through estimator. Shadows of the
// tensors that stay FP32 share the masters' storage, and the shadows of a
// layer's Q/K/V projections are adjacent like the masters (one GEMM).
//
// export_gguf writes each quantized tensor with the same quantizer call the
// shadow was computed with, so the file holds exactly the trained values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "train/gptq.h"
#include "train/parameters.h"
#include "train/qat_scheme.h"

namespace qat {

class FakeQuantState {
 public:
  // model: FP32 owned weights as GemmaTrainer holds them; grads: their
  // gradients (same layout). Throws when overrides give one layer's q/k/v
  // or gate/up projections different activation paths (they share one
  // quantized input), or when an override names a type QAT cannot simulate.
  FakeQuantState(Model& model, ModelWeights& grads, const QatConfig& config);

  const QatConfig& config() const { return config_; }
  const QuantizePlan& plan() const { return plan_; }
  // The weights the forward pass computes with: shadows where quantized.
  const ModelWeights& weights() const { return shadow_; }
  // Whether the matmul by shadow tensor `w` quantizes its input (A8 schemes).
  bool quantizes_input(const Tensor& w) const;

  // LSQ: the scale parameters ("<hf name>.qat_scale", n/32 per tensor) to
  // append to the trainer's parameter list; initialised by init_scales().
  void add_parameters(ParameterList& params);
  // LSQ scales = the reference (absmax) scales of the current masters, so a
  // freshly initialised LSQ model equals the reference fake quantization
  // (or as config().scale_init says). ScaleInit::Gptq needs the masters'
  // input Hessians (GemmaTrainer::accumulate_input_hessians) and rewrites
  // those masters to GPTQ's latent values (train/gptq.h), which the scales
  // quantize to GPTQ's result; returns how many tensors GPTQ quantized.
  int init_scales(const InputHessians* hessians = nullptr);
  // Recomputes every shadow (and STE mask) from the masters.
  void refresh();
  // Once per optimizer step, after every micro-batch's backward: grads of
  // quantized masters = STE(grads), LSQ scale grads accumulated.
  void finish_gradients();

  // Writes the quantized model (one type per tensor from the plan; learned
  // scales exported as the blocks' scales). The masters are unchanged.
  void export_gguf(const std::string& path) const;
  // Bytes of the exported tensors (for reports).
  uint64_t exported_bytes() const { return plan_.bytes_to; }

 private:
  struct Entry {
    std::string gguf_name, hf_name;
    Tensor* master;
    Tensor* grad;
    Tensor* shadow;
    TensorType type;
    bool quantize_input;
    std::vector<uint8_t> pass;           // (numel) STE mask of the last refresh
    std::vector<float> scale, scale_grad;  // (numel / 32) LSQ only
  };
  Model& model_;
  ModelWeights& grads_;
  QatConfig config_;
  QuantizePlan plan_;
  ModelWeights shadow_;
  std::vector<Entry> entries_;
  std::vector<const void*> input_quantized_;  // shadow data pointers whose matmul quantizes its input
};

}  // namespace qat
