// Learning rate per optimizer step: linear warmup to the peak, then a decay
// to peak * min_lr_ratio at total_steps (and that value after).
//
// step counts from 0: the learning rate of the step about to be taken.
//   warmup   step < W:  peak * (step + 1) / W   (step 0 already learns;
//                       step W-1 reaches the peak)
//   decay    p = (step - W) / (T - W), clamped to [0, 1]:
//     Cosine:   min + (peak - min) * (1 + cos(pi * p)) / 2
//     Linear:   min + (peak - min) * (1 - p)
//     Constant: peak
// so lr_at(W) == peak and lr_at(T) == min == peak * min_lr_ratio.
#pragma once
#include <cstdint>

namespace qat {

struct LrSchedule {
  enum Kind { Cosine, Constant, Linear };
  float peak_lr = 0.0f;
  int64_t warmup_steps = 0;  // W; 0 starts at the peak
  int64_t total_steps = 0;   // T >= W, the step where the decay ends
  float min_lr_ratio = 0.1f;
  Kind kind = Cosine;
};

const char* lr_schedule_kind_name(LrSchedule::Kind kind);  // "cosine" "constant" "linear"

// Throws qat::Error for an invalid schedule (naming the field) or step < 0.
float lr_at(const LrSchedule& schedule, int64_t step);

}  // namespace qat
