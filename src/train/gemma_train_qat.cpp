// GemmaTrainer's quantization-aware-training and distillation hooks (the
// forward and backward themselves read FakeQuantState's weights).
#include "base/error.h"
#include "train/distill_loss.h"
#include "train/fake_quant_state.h"
#include "train/gemma_train.h"
#include "train/gemma_train_acts.h"

namespace qat {

using namespace train_detail;

void GemmaTrainer::enable_fake_quant(const QatConfig& config) {
  QAT_CHECK(fq_ == nullptr, "fake quantization is already enabled");
  fq_ = std::make_unique<FakeQuantState>(model_, grads_, config);
  fq_->add_parameters(params_);
  fq_active_ = config.start_step <= 0;
  if (fq_active_) fq_->init_scales();
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
