// QAT schemes and the per-tensor policy: which weight type each tensor is
// trained for, and whether matmul inputs are fake-quantized like the
// inference kernels quantize them. The weight types come from the same plan
// `qat quantize` uses (model/quantize_plan.h), so the Gemma-aware defaults
// and the --tensor-type REGEX=TYPE overrides mean the same thing in both:
//   w8a8   Q8_0 weights, activations quantized to dynamic Q8_0 blocks of 32
//   w4a8   Q4_0 weights (tied embedding / output kept Q8_0), Q8_0 activations
//   w4a16  Q4_0 weights, FP32 activations (weight-only)
//   w8a16  Q8_0 weights, FP32 activations (weight-only)
// Norms, layer scalars and a classification head stay FP32 in every scheme.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/quantize_plan.h"

namespace qat {

enum class QatScheme { W8A8, W4A8, W4A16, W8A16 };

QatScheme parse_qat_scheme(const std::string& s);  // throws naming the valid ones
const char* qat_scheme_name(QatScheme s);
TensorType scheme_weight_type(QatScheme s);
bool scheme_quantizes_activations(QatScheme s);

struct QatConfig {
  QatScheme scheme = QatScheme::W4A8;
  std::vector<TypeOverride> overrides;  // --tensor-type, first match wins
  bool lsq = false;                     // learned per-block scales (LSQ)
  // LSQ: the scales' learning rate relative to the weights' (--lsq-lr / --lr),
  // and how they start: the reference's absmax scales, per block the scale
  // whose deployed values are closest to the weights (least squares), or
  // GPTQ (train/gptq.h: the weights themselves move to GPTQ's rounding, the
  // scales are the reference's at each block; tensors without calibration
  // statistics fall back to least squares).
  float scale_lr_ratio = 1.0f;
  enum class ScaleInit { Absmax, Mse, Gptq } scale_init = ScaleInit::Absmax;
  int64_t start_step = 0;               // fake quantization from this step on (warm-up before)
  // Oscillation dampening (Nagel et al. 2022, "Overcoming Oscillations in
  // Quantization-Aware Training"): the gradient of (dampen / 2) ||w - q(w)||^2
  // with q(w) held constant, i.e. dampen * (w - q(w)), is added to each
  // quantized master's gradient, pulling latent weights towards the centre of
  // their quantization bin so they stop flipping between two codes. 0: off.
  float dampen = 0.0f;
};

}  // namespace qat
