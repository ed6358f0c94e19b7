// Knowledge-distillation loss (Hinton et al. 2015; Gemma's QAT recipe uses
// the full-precision model's probabilities as targets):
//   KD(row) = T^2 * sum_v p_t(v) * (log p_t(v) - log p_s(v)),
//   p = softmax(logits / T),
// averaged over the rows with counted[r] != 0. The T^2 keeps the gradient's
// scale independent of T: d KD(row) / d student_logits = T * (p_s - p_t).
#pragma once
#include <cstdint>

namespace qat {

// student, teacher: (rows, V) logits. dstudent (rows, V) += weight * d(mean
// KD)/d student. Returns the mean KD (0 when no row counts).
double distill_forward_backward(float* dstudent, const float* student, const float* teacher,
                                const uint8_t* counted, int64_t rows, int64_t V, float temperature, float weight);

}  // namespace qat
