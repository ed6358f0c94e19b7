#include "quant/activation_quant.h"

#include "base/error.h"

namespace qat {

const char* activation_quant_name(ActivationQuant a) { return a == ActivationQuant::None ? "none" : "q8_0"; }

ActivationQuant parse_activation_quant(const std::string& s) {
  if (s == "q8_0" || s == "Q8_0") return ActivationQuant::Q8_0;
  if (s == "none" || s == "f32" || s == "F32") return ActivationQuant::None;
  fail("activation quantization '", s, "' (expected q8_0 or none)");
}

const char* activation_quant_scheme(ActivationQuant a) { return a == ActivationQuant::None ? "A16" : "A8"; }

}  // namespace qat
