// How the activations entering a quantized (Q8_0 / Q4_0) matrix product are
// represented, model-wide: quantized on the fly to Q8_0 blocks of 32
// (W8A8 / W4A8, llama.cpp's behaviour and the default) or kept in FP32
// (weight-only quantization, W8A16 / W4A16). A QAT model is exported with
// the mode it was trained to simulate (GGUF key "qat.activation_quant").
#pragma once
#include <string>

namespace qat {

enum class ActivationQuant { Q8_0, None };

// "q8_0" / "none" (the GGUF value and the CLI spelling).
const char* activation_quant_name(ActivationQuant a);
// Inverse of activation_quant_name; qat::Error naming the accepted values otherwise.
ActivationQuant parse_activation_quant(const std::string& s);
// "A8" / "A16": the suffix of a scheme name such as W4A8 or W4A16.
const char* activation_quant_scheme(ActivationQuant a);

}  // namespace qat
