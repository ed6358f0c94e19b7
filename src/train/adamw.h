// AdamW with decoupled weight decay, computed as torch.optim.AdamW
// (foreach=False, fused=False, amsgrad=False) computes it in float32: the same
// operations in the same order, the same FMAs, the same scalars in double.
// Given the same inputs it gives torch's results bit for bit, except that
// torch's CPU sqrt (MKL vsSqrt) is not correctly rounded and ours is; see
// tools/reference/make_adamw_fixture.py for what that costs (~1e-7 relative).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/parameters.h"

namespace qat {

// The learning rate is not here: it changes every step (lr_schedule.h) and is
// passed to AdamW::step.
struct AdamWConfig {
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;  // applied only to parameters whose decayed() is true
};

// One parameter's optimizer state. Like torch, the state appears on the first
// step that updates the parameter, and its bias correction counts that
// parameter's own steps: a parameter unfrozen mid-run starts from step 1.
struct AdamWSlot {
  std::string name;       // Parameter::name, to catch a list in another order
  int64_t step = 0;       // updates applied to this parameter
  std::vector<float> m;   // (numel) first moment, torch's exp_avg; empty until step 1
  std::vector<float> v;   // (numel) second moment, torch's exp_avg_sq
};

class AdamW {
 public:
  // One slot per parameter, in list order; buffers are allocated lazily so
  // frozen parameters cost nothing.
  explicit AdamW(const ParameterList& params, AdamWConfig config = {});

  // Updates every trainable parameter from its grad; frozen ones (and their
  // grads) are left untouched. params must be the list given at construction.
  void step(ParameterList& params, float lr);

  const AdamWConfig& config() const { return config_; }
  int64_t step_count() const { return step_count_; }  // calls to step()

  // For checkpoints: the state, read and restored as a whole.
  const std::vector<AdamWSlot>& slots() const { return slots_; }
  std::vector<AdamWSlot>& slots() { return slots_; }
  void set_step_count(int64_t n) { step_count_ = n; }

 private:
  AdamWConfig config_;
  std::vector<AdamWSlot> slots_;
  int64_t step_count_ = 0;
};

}  // namespace qat
