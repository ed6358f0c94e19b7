// The training loop: batches -> forward/backward (with gradient
// accumulation) -> clip -> AdamW at the scheduled learning rate; validation
// at intervals; crash-safe checkpoints that resume bit for bit; a CSV log.
// Same seed, same data, same thread count -> the same losses, bit for bit.
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/classify_sampler.h"
#include "train/gemma_train.h"
#include "train/lm_sampler.h"
#include "train/lr_schedule.h"

namespace qat {

struct TrainOptions {
  int64_t steps = 1000;        // optimizer steps
  int grad_accum = 1;          // micro-batches per step
  float lr = 1e-3f;
  int64_t warmup = -1;         // steps of linear warmup; -1: 5 % of steps
  float min_lr_ratio = 0.1f;   // cosine decays to lr * this
  LrSchedule::Kind schedule = LrSchedule::Cosine;
  AdamWConfig adamw;
  float clip = 1.0f;           // max global gradient norm; 0 = no clipping
  int64_t eval_every = 0;      // steps between validations (0: only at the end)
  int64_t eval_batches = 0;    // validation batches per evaluation (0: all)
  int64_t save_every = 0;      // steps between checkpoints (0: only at the end)
  int keep_last = 2;           // checkpoints kept
  std::string out_dir;         // checkpoints and train_log.csv ("" = none)
  // Frozen parameters: group names (embedding, matrix, norm, scalar, head) or
  // regular expressions matched against HF parameter names.
  std::vector<std::string> freeze;
  std::vector<std::string> unfreeze;  // applied after freeze (e.g. "scalar")
  // With a teacher: loss = (1 - distill_weight) * CE + distill_weight * KD at
  // distill_temperature (train/distill_loss.h).
  float distill_temperature = 1.0f;
  float distill_weight = 1.0f;
  bool progress = true;
  // Everything else the run was started with, stored in checkpoints so a
  // resume can check it continues the same run.
  nlohmann::json identity = nlohmann::json::object();
};

// Where batches come from: exactly one of lm / classify is set.
struct TrainData {
  LmSampler* lm = nullptr;
  ClassifySampler* classify = nullptr;      // training split
  ClassifySampler* classify_val = nullptr;  // validation split (may be null)
  // Distillation teacher (frozen; may be null): run on every training batch,
  // its logits are the soft targets (TrainOptions::distill_*).
  GemmaTrainer* teacher = nullptr;
};

struct EvalResult {
  double loss = 0;
  double accuracy = -1;  // classification only
  int64_t rows = 0;      // tokens or sequences evaluated
};

struct StepRecord {
  int64_t step = 0;  // 1-based: optimizer steps done
  double loss = 0, grad_norm = 0, lr = 0, tokens_per_s = 0, elapsed_s = 0;
  EvalResult val;    // rows == 0 when not evaluated at this step
};

class Trainer {
 public:
  Trainer(GemmaTrainer& model, TrainData data, TrainOptions options);

  // Marks parameters frozen / trainable per options (throws when a pattern
  // matches nothing). Called by the constructor.
  void apply_freezing();
  // Restores the newest checkpoint in out_dir (if any); returns its step.
  int64_t resume();
  // Runs until options.steps; on_step (may be empty) sees every step.
  void run(const std::function<void(const StepRecord&)>& on_step = {});
  EvalResult evaluate();
  // Writes a checkpoint now (also done by run per save_every and at the end).
  void save();

  int64_t step() const { return step_; }
  const std::vector<StepRecord>& history() const { return history_; }
  const AdamW& optimizer() const { return adamw_; }

 private:
  double train_step(float lr, double* grad_norm);
  void write_log_row(const StepRecord& r);
  LrSchedule schedule() const;

  GemmaTrainer& model_;
  TrainData data_;
  TrainOptions opt_;
  AdamW adamw_;
  int64_t step_ = 0;
  int64_t tokens_seen_ = 0;
  std::vector<StepRecord> history_;
  std::ofstream log_;  // out_dir/train_log.csv, open while running
};

}  // namespace qat
