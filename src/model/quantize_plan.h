// Which storage type each tensor gets when a model is quantized (`qat
// quantize`): Gemma-aware defaults, then user overrides by regex.
//
// Defaults for a requested TYPE (llama-quantize's choices where we have its
// types; it would use Q6_K where we say Q8_0):
//   2-D matrices                        TYPE
//   token_embd, tied to the output      Q8_0 when TYPE is Q4_0 (Gemma degrades
//   (and per_layer_token_embd then)     badly with a Q4 output projection), else TYPE
//   output.weight (untied)              Q8_0 when TYPE is Q4_0, else TYPE
//   token_embd (untied)                 TYPE (a row lookup, as llama.cpp)
//   per_layer_model_proj (Gemma 4)      not quantized: kept F32/F16/BF16 as in the
//                                       input (F16 if the input is quantized), as llama.cpp
//   norms, layer scalars, rope_freqs    F32 always
// A quantized choice for a tensor whose row length is not a multiple of 32
// falls back to F16, with a note.
#pragma once
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "model/model.h"

namespace qat {

// One --tensor-type REGEX=TYPE: ECMAScript regex searched (std::regex_search,
// anchor with ^...$ for a full match) in the GGUF tensor name. Overrides never
// change norms or scalars: a pattern that also matches them applies to the
// other tensors; one that matches only norms/scalars (with a type other than
// F32) is an error.
struct TypeOverride {
  std::string pattern;
  std::regex regex;
  TensorType type;
};
// Parses "REGEX=TYPE" (split at the last '='); throws naming the spec.
TypeOverride parse_type_override(const std::string& spec);

struct QuantizeRules {
  TensorType type = TensorType::Q8_0;
  std::vector<TypeOverride> overrides;  // first match wins
};

struct TensorPlan {
  std::string name;  // GGUF name
  std::vector<int64_t> shape;
  TensorRole role;
  TensorType from, to;
  uint64_t bytes_from = 0, bytes_to = 0;
  std::string note;  // why `to` is not simply the requested type, when it is not
};

struct QuantizePlan {
  std::vector<TensorPlan> tensors;   // present tensors, in file order
  std::vector<std::string> warnings; // re-quantization, overrides that match nothing
  uint64_t params = 0, bytes_from = 0, bytes_to = 0;
  const TensorPlan* find(const std::string& name) const;
};

bool is_quantized(TensorType t);

// Throws qat::Error when an override matches only norms/scalars.
QuantizePlan plan_quantization(Model& model, const QuantizeRules& rules);

}  // namespace qat
