#include "model/quantize_plan.h"

#include "base/error.h"
#include "quant/quant_types.h"

namespace qat {

namespace {

bool small_role(TensorRole r) { return stored_as_f32(r); }

// The default type of one tensor, and why when it is not `type` itself.
TensorType default_type(const TensorSlot& s, const Tensor& t, const ModelConfig& c, TensorType type,
                        std::string& note) {
  if (small_role(s.role)) return TensorType::F32;
  const bool q4 = type == TensorType::Q4_0;
  const bool tied_embedding = s.role == TensorRole::Embedding && c.tie_word_embeddings;
  if (q4 && (tied_embedding || s.gguf_name == "output.weight")) {
    note = s.gguf_name == "output.weight" ? "output projection kept at Q8_0"
                                          : "tied embedding/output kept at Q8_0";
    return TensorType::Q8_0;
  }
  if (is_quantized(type) && s.gguf_name == "per_layer_model_proj.weight") {
    note = "small projection, not quantized (as llama.cpp)";
    return is_quantized(t.type) ? TensorType::F16 : t.type;
  }
  return type;
}

}  // namespace

bool is_quantized(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0; }

TypeOverride parse_type_override(const std::string& spec) {
  const size_t eq = spec.rfind('=');
  QAT_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), "--tensor-type '", spec,
            "': expected REGEX=TYPE, e.g. 'attn_v=q8_0'");
  TypeOverride o;
  o.pattern = spec.substr(0, eq);
  try {
    o.type = parse_tensor_type(spec.substr(eq + 1));
  } catch (const Error& e) {
    fail("--tensor-type '", spec, "': ", e.what());
  }
  try {
    o.regex = std::regex(o.pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail("--tensor-type '", spec, "': bad regular expression '", o.pattern, "': ", e.what());
  }
  return o;
}

const TensorPlan* QuantizePlan::find(const std::string& name) const {
  for (const TensorPlan& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

QuantizePlan plan_quantization(Model& model, const QuantizeRules& rules) {
  QuantizePlan plan;
  std::vector<int> matches(rules.overrides.size(), 0);
  std::vector<std::string> norm_hit(rules.overrides.size());  // a norm/scalar it would have changed
  int requantized = 0;
  for (const TensorSlot& s : tensor_slots(model.config, model.weights)) {
    const Tensor& t = *s.tensor;
    if (!t.present()) continue;
    TensorPlan p{s.gguf_name, t.shape, s.role, t.type, t.type, t.nbytes(), 0, ""};
    p.to = default_type(s, t, model.config, rules.type, p.note);
    for (size_t i = 0; i < rules.overrides.size(); ++i) {
      const TypeOverride& o = rules.overrides[i];
      if (!std::regex_search(s.gguf_name, o.regex)) continue;
      // Norms and scalars stay F32 (as llama-quantize): a pattern such as
      // 'attn_q' also matching attn_q_norm applies to the matrices only; a
      // pattern that matches nothing but norms is an error (below).
      if (small_role(s.role) && o.type != TensorType::F32) {
        if (norm_hit[i].empty()) norm_hit[i] = s.gguf_name;
        continue;
      }
      ++matches[i];
      p.to = o.type;
      p.note = cat("--tensor-type ", o.pattern);
      break;  // first match wins
    }
    if (is_quantized(p.to) && t.cols() % kQuantBlock != 0) {
      p.note = cat("row length ", t.cols(), " is not a multiple of 32: F16 instead of ",
                   tensor_type_name(p.to));
      p.to = TensorType::F16;
    }
    if (is_quantized(p.from) && p.to != p.from) ++requantized;
    p.bytes_to = tensor_bytes(uint32_t(p.to), uint64_t(t.numel()));
    plan.params += uint64_t(t.numel());
    plan.bytes_from += p.bytes_from;
    plan.bytes_to += p.bytes_to;
    plan.tensors.push_back(std::move(p));
  }
  if (requantized > 0)
    plan.warnings.push_back(cat(model.source_path, ": ", requantized,
                                " tensors are already quantized; they are dequantized to F32 and "
                                "quantized again, which adds error (quantize from the F32/BF16 original "
                                "when you have it)"));
  for (size_t i = 0; i < rules.overrides.size(); ++i) {
    const TypeOverride& o = rules.overrides[i];
    if (matches[i] > 0) continue;
    if (!norm_hit[i].empty())
      throw Error(cat("--tensor-type '", o.pattern, "=", tensor_type_name(o.type), "' matches only norm/scalar "
                      "weights (e.g. '", norm_hit[i], "'): norms and scalars stay F32"),
                  "name matrices, e.g. 'attn_q\\.weight=q8_0' or '^blk\\.3\\.ffn_=q8_0'");
    plan.warnings.push_back(cat("--tensor-type '", o.pattern, "' matches no tensor"));
  }
  return plan;
}

}  // namespace qat
