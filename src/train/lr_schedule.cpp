#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/error.h"

namespace qat {

const char* lr_schedule_kind_name(LrSchedule::Kind kind) {
  switch (kind) {
    case LrSchedule::Cosine: return "cosine";
    case LrSchedule::Constant: return "constant";
    case LrSchedule::Linear: return "linear";
  }
  return "?";
}

float lr_at(const LrSchedule& s, int64_t step) {
  QAT_CHECK(std::isfinite(s.peak_lr) && s.peak_lr > 0.0f,
            "learning rate schedule: peak_lr must be positive, got ", s.peak_lr);
  QAT_CHECK(s.warmup_steps >= 0, "learning rate schedule: warmup_steps must be >= 0, got ",
            s.warmup_steps);
  QAT_CHECK(s.total_steps >= s.warmup_steps, "learning rate schedule: total_steps (",
            s.total_steps, ") must be >= warmup_steps (", s.warmup_steps, ")");
  QAT_CHECK(s.min_lr_ratio >= 0.0f && s.min_lr_ratio <= 1.0f,
            "learning rate schedule: min_lr_ratio must be in [0, 1], got ", s.min_lr_ratio);
  QAT_CHECK(step >= 0, "learning rate schedule: step must be >= 0, got ", step);

  const double peak = s.peak_lr;
  if (step < s.warmup_steps) return float(peak * double(step + 1) / double(s.warmup_steps));
  if (s.kind == LrSchedule::Constant) return s.peak_lr;

  const double min = peak * double(s.min_lr_ratio);
  const int64_t span = s.total_steps - s.warmup_steps;
  const double p = span == 0 ? 1.0 : std::min(1.0, double(step - s.warmup_steps) / double(span));
  const double shape = s.kind == LrSchedule::Cosine ? 0.5 * (1.0 + std::cos(std::numbers::pi * p))
                                                    : 1.0 - p;
  return float(min + (peak - min) * shape);
}

}  // namespace qat
