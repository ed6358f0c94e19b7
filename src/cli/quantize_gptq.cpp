#include "cli/quantize_gptq.h"

#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/progress.h"
#include "train/gemma_train.h"
#include "train/gptq.h"
#include "train/lm_sampler.h"
#include "train/token_stream.h"

namespace qat::cli {

int apply_gptq(Model& model, const QuantizePlan& plan, const GptqOptions& o) {
  QAT_CHECK(model.tokenizer != nullptr, "--gptq: the model has no tokenizer to read the calibration text with");
  QAT_CHECK(model.config.num_labels == 0, "--gptq: calibration runs the language-model head; this is a classifier");
  QAT_CHECK(o.batches >= 1, "--gptq-batches must be >= 1, got ", o.batches);  // before the slow steps
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
