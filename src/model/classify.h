// Sequence classification with the model's head (ModelConfig::num_labels,
// ModelWeights::score): the prefill pass over one sequence, the final-norm
// hidden states pooled, then the head. The math of the trainer's
// forward_classify (train/gemma_train.h):
//   logits (num_labels) = pool(RMSNorm(x_final)) @ W_score^T
//   pool: "last" takes the last position, "mean" averages all positions
//         (summed in double, as the trainer does).
// Quantized matrices compute as everywhere else (W8A8 / W4A8, or W8A16 /
// W4A16 with activation_quant = none); the head is F32.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "model/forward.h"

namespace qat {

// Logits (num_labels) of one sequence (ids: <bos> + text, 1..max_context
// tokens). Resets the session first and leaves it holding the sequence.
// qat::Error when the model has no head or an id is out of range.
std::vector<float> classify_sequence(Session& session, const int32_t* ids, int n);

// Many sequences one after another in one session sized for the longest:
// (sequences, num_labels) logits, row-major. on_done(i) after each sequence.
std::vector<float> classify_batch(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                  const std::function<void(size_t done)>& on_done = {});

// The index of the largest logit (the lowest on ties).
int32_t argmax_label(const float* logits, int num_labels);

}  // namespace qat
