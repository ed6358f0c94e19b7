#include "eval/classify_eval.h"

#include "base/error.h"
#include "model/classify.h"

namespace qat {

ClassifyAccuracy evaluate_accuracy(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                   const std::vector<int32_t>& labels,
                                   const std::function<void(size_t)>& on_done) {
  const int C = model.config.num_labels;
  QAT_CHECK(C > 0, model.source_path, ": the model has no classification head");
  QAT_CHECK(labels.size() == sequences.size(), "internal: ", labels.size(), " labels for ", sequences.size(),
            " sequences");
  for (int32_t l : labels)
    QAT_CHECK(l >= 0 && l < C, "label ", l, " is outside the ", C, " classes of ", model.source_path);
  const std::vector<float> logits = classify_batch(model, sequences, on_done);
  ClassifyAccuracy r;
  r.examples = int64_t(sequences.size());
  for (size_t i = 0; i < sequences.size(); ++i) {
    r.predicted.push_back(argmax_label(logits.data() + i * size_t(C), C));
    r.correct += r.predicted.back() == labels[i];
  }
  return r;
}

}  // namespace qat
