// qat quantize --gptq TEXT: GPTQ instead of round-to-nearest for the Q8_0 /
// Q4_0 matrices of a language model, calibrated on a text file.
#pragma once
#include <string>

#include "model/model.h"
#include "model/quantize_plan.h"

namespace qat::cli {

struct GptqOptions {
  std::string text;  // calibration text file (tokenized with the model's tokenizer)
  int batches = 8;   // calibration batches of batch x seq tokens
  int batch = 16, seq = 128;
};

// Replaces, in `model` (its weights become owned FP32), every matrix the plan
// quantizes to Q8_0 / Q4_0 and the calibration covers by GPTQ's dequantized
// values (train/gptq.h). They lie on the grid of GPTQ's block scales, so the
// writer's grid import (keep_grid) stores exactly GPTQ's blocks. Returns how
// many tensors it quantized.
int apply_gptq(Model& model, const QuantizePlan& plan, const GptqOptions& options);

}  // namespace qat::cli
