#include "cli/quantize_gptq.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/memory_info.h"
#include "base/progress.h"
#include "model/memory_check.h"
#include "train/gemma_train.h"
#include "train/gptq.h"
#include "train/lm_sampler.h"
#include "train/token_stream.h"

namespace qat::cli {

namespace {

// GPTQ holds the model as FP32 in a GemmaTrainer (which also allocates, and
// zero-fills, a gradient buffer of the same size), one Hessian per matmul
// input and, while it quantizes the widest matrix, four (cols x cols) double
// matrices (the Hessian's copy, its Cholesky factor, the inverse, the
// inverse's factor): for a 1B Gemma the Hessians alone are about 10 GiB
// (26 x 6912^2 doubles for the down projections). Fail before the slow
// steps, not by an OOM kill.
void check_gptq_fits_in_memory(const Model& model) {
  const MemoryInfo mem = read_memory_info();
  if (!mem.known) return;
  uint64_t fp32 = 0, widest = 0;
  for (const TensorSlot& s : tensor_slots(model.config, const_cast<ModelWeights&>(model.weights)))
    if (s.tensor->present()) {
      fp32 += uint64_t(s.tensor->numel()) * sizeof(float);
      widest = std::max(widest, uint64_t(s.tensor->cols()));
    }
  const uint64_t hessians = GemmaTrainer::input_hessian_bytes(model);
  const uint64_t work = 4 * widest * widest * sizeof(double);
  const uint64_t needed = 2 * fp32 + hessians + work + kScratchBytes;
  const uint64_t available = mem.available + mem.swap_free;
  if (needed <= available) return;
  throw Error(cat(model.source_path, ": --gptq needs about ", format_bytes(needed), " of memory (FP32 weights and gradients ",
                  format_bytes(2 * fp32), " + input Hessians ", format_bytes(hessians), " + ", format_bytes(work),
                  " to quantize the widest matrix + ", format_bytes(kScratchBytes), ", before the calibration "
                  "batches' activations) but only ", format_bytes(available), " is available"),
              "quantize without --gptq (round to nearest), or run GPTQ on a machine with more memory");
}

}  // namespace

int apply_gptq(Model& model, const QuantizePlan& plan, const GptqOptions& o) {
  QAT_CHECK(model.tokenizer != nullptr, "--gptq: the model has no tokenizer to read the calibration text with");
  QAT_CHECK(model.config.num_labels == 0, "--gptq: calibration runs the language-model head; this is a classifier");
  QAT_CHECK(o.batches >= 1, "--gptq-batches must be >= 1, got ", o.batches);  // before the slow steps
  check_gptq_fits_in_memory(model);
  GemmaTrainer trainer(model);  // the weights become owned FP32
  TokenStreamOptions so;
  const TokenStream stream = build_token_stream({o.text}, *model.tokenizer, so);
  LmSamplerOptions lo;
  lo.batch = o.batch;
  lo.seq = o.seq;
  lo.val_fraction = 0;
  std::unique_ptr<LmSampler> sampler;
  try {
    sampler = std::make_unique<LmSampler>(stream.tokens, lo);
  } catch (const Error& e) {
    fail(o.text, ": ", e.what());  // too short for one batch of windows
  }
  InputHessians hessians;
  trainer.accumulate_input_hessians(*sampler, o.batches, hessians);
  // (tensor, its planned type) for every Q8_0 / Q4_0 matrix calibration covered.
  std::vector<std::pair<Tensor*, TensorType>> todo;
  for (const TensorSlot& s : tensor_slots(model.config, model.weights)) {
    const TensorPlan* p = plan.find(s.gguf_name);
    if (p && (p->to == TensorType::Q4_0 || p->to == TensorType::Q8_0) && s.tensor->present() &&
        hessians.count(s.tensor->data))
      todo.push_back({s.tensor, p->to});
  }
  Progress bar("gptq", todo.size(), "tensors");
  for (const auto& [t, type] : todo) {
    std::vector<float> scales(size_t(t->numel() / 32));
    gptq_quantize(type, t->mutable_f32(), t->rows(), t->cols(), *hessians.at(t->data), scales.data());
    bar.add();
  }
  return int(todo.size());
}

}  // namespace qat::cli
