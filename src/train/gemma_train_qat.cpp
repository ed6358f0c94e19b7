// GemmaTrainer's quantization-aware-training and distillation hooks (the
// forward and backward themselves read FakeQuantState's weights).
#include "base/error.h"
#include "base/progress.h"
#include "train/distill_loss.h"
#include "train/fake_quant_state.h"
#include "train/gemma_train.h"
#include "train/gemma_train_acts.h"
#include "train/lm_sampler.h"

namespace qat {

using namespace train_detail;

void GemmaTrainer::enable_fake_quant(const QatConfig& config, const InputHessians* hessians) {
  QAT_CHECK(fq_ == nullptr, "fake quantization is already enabled");
  QAT_CHECK(config.scale_init != QatConfig::ScaleInit::Gptq || (config.start_step <= 0 && hessians),
            "GPTQ initialisation needs fake quantization from step 0 and calibration statistics");
  fq_ = std::make_unique<FakeQuantState>(model_, grads_, config);
  fq_->add_parameters(params_);
  fq_active_ = config.start_step <= 0;
  if (fq_active_) gptq_tensors_ = fq_->init_scales(hessians);
}

void GemmaTrainer::accumulate_input_hessians(const int32_t* ids, int64_t B, int64_t T, InputHessians& hessians) {
  QAT_CHECK(fq_ == nullptr, "GPTQ calibration runs before fake quantization is enabled");
  forward_body(ids, B, T);
  const Acts& a = *a_;
  const ModelConfig& c = model_.config;
  const ModelWeights& w = model_.weights;
  const int64_t N = B * T, H = c.hidden_size;
  // ws multiply the same input x (N, cols): one shared Hessian.
  auto add = [&](std::initializer_list<const Tensor*> ws, const Buf& x, int64_t cols) {
    std::shared_ptr<InputHessian> h;
    for (const Tensor* t : ws)
      if (t->present() && hessians.count(t->data)) h = hessians.at(t->data);
    if (!h) h = std::make_shared<InputHessian>(cols);
    for (const Tensor* t : ws)
      if (t->present()) hessians[t->data] = h;
    h->add(x.data(), N);
  };
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const LayerWeights& lw = w.layers[l];
    const LayerActs& la = a.layers[l];
    add({&lw.wq, &lw.wk, &lw.wv}, la.h1, H);
    add({&lw.wo}, la.att, lw.wo.cols());
    add({&lw.w_gate, &lw.w_up}, la.h2, H);
    add({&lw.w_down}, la.act, lw.w_down.cols());
  }
  add({c.tie_word_embeddings ? &w.embed : &w.output}, a.hf, H);
}

uint64_t GemmaTrainer::input_hessian_bytes(const Model& model) {
  const auto square = [](int64_t cols) { return uint64_t(cols) * uint64_t(cols) * sizeof(double); };
  const int64_t H = model.config.hidden_size;
  uint64_t n = square(H);  // the output projection's input
  for (const LayerWeights& lw : model.weights.layers)  // as accumulate_input_hessians groups them
    n += square(H) + square(lw.wo.cols()) + square(H) + square(lw.w_down.cols());
  return n;
}

void GemmaTrainer::accumulate_input_hessians(LmSampler& sampler, int batches, InputHessians& hessians) {
  QAT_CHECK(batches >= 1, "GPTQ calibration needs at least one batch, got ", batches);
  Progress bar("gptq calibration", uint64_t(batches), "batches");
  for (int i = 0; i < batches; ++i) {
    const LmBatch b = sampler.next();
    accumulate_input_hessians(b.inputs.data(), b.batch, b.seq, hessians);
    bar.add();
  }
}

void GemmaTrainer::begin_step(int64_t step) {
  if (!fq_) return;
  const int64_t start = fq_->config().start_step;
  fq_active_ = step >= start;
  // Scales start from the weights as warm-up left them; a run resumed past
  // this step restores them from its checkpoint instead.
  if (step == start && start > 0) fq_->init_scales();
}

void GemmaTrainer::finish_gradients() {
  if (fake_quant_active()) fq_->finish_gradients();
}

double GemmaTrainer::distill(const std::vector<float>& teacher_logits, double ce_loss, float temperature,
                             float weight) {
  Acts& a = *a_;
  QAT_CHECK(teacher_logits.size() == logits_.size(), "distillation: teacher logits (", teacher_logits.size(),
            " values) do not match the student's (", logits_.size(), "); teacher and student need the same ",
            a.classify ? "classes" : "vocabulary");
  QAT_CHECK(weight >= 0 && weight <= 1, "distillation weight must be in [0, 1], got ", weight);
  const int64_t rows = int64_t(a.row_counted.size());
  const int64_t V = rows > 0 ? int64_t(logits_.size()) / rows : 0;
  // a.dlogits holds d(mean CE)/d logits from the forward.
  for (float& d : a.dlogits) d *= 1.0f - weight;
  const double kd = distill_forward_backward(a.dlogits.data(), logits_.data(), teacher_logits.data(),
                                             a.row_counted.data(), rows, V, temperature, weight);
  return (1.0 - weight) * ce_loss + weight * kd;
}

}  // namespace qat
