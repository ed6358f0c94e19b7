// Accuracy of a sequence classifier (model/classify.h) on labelled token
// sequences, e.g. a CSV / JSONL set read by train/classify_dataset.h.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "model/model.h"

namespace qat {

struct ClassifyAccuracy {
  int64_t examples = 0, correct = 0;
  std::vector<int32_t> predicted;  // (examples) argmax label per sequence
  double accuracy() const { return examples ? double(correct) / double(examples) : 0; }
};

// labels[i] in [0, num_labels) is the class of sequences[i]; on_done(i)
// after each sequence. qat::Error when the model has no head or a label is
// out of its range.
ClassifyAccuracy evaluate_accuracy(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                   const std::vector<int32_t>& labels,
                                   const std::function<void(size_t done)>& on_done = {});

}  // namespace qat
