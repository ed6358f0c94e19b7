#include "train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "model/model.h"
#include "train/checkpoint_state.h"
#include "train/grad_clip.h"

namespace qat {

namespace {

const char* kLogHeader = "step,loss,lr,grad_norm,tokens_per_s,elapsed_s,val_loss,val_accuracy";

bool is_group_name(const std::string& s, ParamGroup* g) {
  for (ParamGroup x : {ParamGroup::Embedding, ParamGroup::Matrix, ParamGroup::Norm, ParamGroup::Scalar,
                       ParamGroup::Head, ParamGroup::QuantScale})
    if (s == param_group_name(x)) {
      *g = x;
      return true;
    }
  return false;
}

// Sets `trainable` on every parameter a group name or name regex selects.
void mark(ParameterList& params, const std::string& pattern, bool trainable) {
  ParamGroup g;
  const bool group = is_group_name(pattern, &g);
  std::regex re;
  if (!group) {
    try {
      re = std::regex(pattern);
    } catch (const std::regex_error& e) {
      fail("--freeze / --unfreeze '", pattern, "': not a group name (embedding, matrix, norm, scalar, head) ",
           "nor a valid regular expression: ", e.what());
    }
  }
  int matched = 0;
  for (Parameter& p : params)
    if (group ? p.group == g : std::regex_search(p.name, re)) {
      p.trainable = trainable;
      ++matched;
    }
  QAT_CHECK(matched > 0, "--freeze / --unfreeze '", pattern, "' matches no parameter of this model (names look like '",
            params.empty() ? std::string() : params.front().name, "')");
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  return buf;
}

}  // namespace

Trainer::Trainer(GemmaTrainer& model, TrainData data, TrainOptions options)
    : model_(model), data_(data), opt_(std::move(options)), adamw_(model.parameters(), opt_.adamw) {
  QAT_CHECK((data_.lm != nullptr) != (data_.classify != nullptr), "trainer: give exactly one of LM or classification data");
  QAT_CHECK(opt_.steps > 0, "--steps must be positive, got ", opt_.steps);
  QAT_CHECK(opt_.grad_accum >= 1, "--grad-accum must be at least 1, got ", opt_.grad_accum);
  QAT_CHECK(opt_.lr > 0 && std::isfinite(opt_.lr), "--lr must be a positive number, got ", opt_.lr);
  QAT_CHECK(opt_.clip >= 0, "--clip must not be negative, got ", opt_.clip);
  QAT_CHECK(data_.classify == nullptr || model_.num_classes() > 0, "classification data needs a model with a head");
  QAT_CHECK(data_.teacher == nullptr || data_.classify == nullptr || data_.teacher->num_classes() == model_.num_classes(),
            "the distillation teacher has ", data_.teacher ? data_.teacher->num_classes() : 0,
            " classes, the student ", model_.num_classes());
  lr_at(schedule(), 0);  // validates the schedule now, not at step 1
  apply_freezing();
}

LrSchedule Trainer::schedule() const {
  LrSchedule s;
  s.peak_lr = opt_.lr;
  s.warmup_steps = opt_.warmup >= 0 ? opt_.warmup : opt_.steps / 20;
  s.total_steps = std::max(opt_.steps, s.warmup_steps);
  s.min_lr_ratio = opt_.min_lr_ratio;
  s.kind = opt_.schedule;
  return s;
}

void Trainer::apply_freezing() {
  ParameterList& params = model_.parameters();
  for (const std::string& f : opt_.freeze) mark(params, f, false);
  for (const std::string& f : opt_.unfreeze) mark(params, f, true);
  int64_t n = 0;
  for (const Parameter& p : params) n += p.trainable ? p.numel : 0;
  QAT_CHECK(n > 0, "every parameter is frozen: nothing to train (check --freeze)");
}

double Trainer::train_step(float lr, double* grad_norm_out) {
  ParameterList& params = model_.parameters();
  zero_grads(params);
  model_.begin_step(step_);
  double loss_sum = 0;
  int64_t total = 0;
  for (int m = 0; m < opt_.grad_accum; ++m) {
    double loss;
    if (data_.lm) {
      const LmBatch b = data_.lm->next();
      loss = model_.forward_lm(b.inputs.data(), b.targets.data(), b.batch, b.seq);
      if (data_.teacher) {
        data_.teacher->forward_lm(b.inputs.data(), b.targets.data(), b.batch, b.seq);
        loss = model_.distill(data_.teacher->logits(), loss, opt_.distill_temperature, opt_.distill_weight);
      }
      tokens_seen_ += int64_t(b.batch) * b.seq;
    } else {
      const ClassifyBatch b = data_.classify->next();
      loss = model_.forward_classify(b.ids.data(), b.lengths.data(), b.labels.data(), b.batch, b.seq);
      if (data_.teacher) {
        data_.teacher->forward_classify(b.ids.data(), b.lengths.data(), b.labels.data(), b.batch, b.seq);
        loss = model_.distill(data_.teacher->logits(), loss, opt_.distill_temperature, opt_.distill_weight);
      }
      for (int32_t len : b.lengths) tokens_seen_ += len;
    }
    const int64_t cnt = model_.counted();
    // One micro-batch: d(mean loss). Several (possibly of different sizes):
    // sum the per-row gradients, then divide by all rows, so every row
    // weighs the same as in one big batch.
    model_.backward(opt_.grad_accum == 1 ? 1.0f : float(cnt));
    loss_sum += loss * double(cnt);
    total += cnt;
  }
  QAT_CHECK(total > 0, "step ", step_ + 1, ": the batch has no target to learn from");
  model_.finish_gradients();  // QAT: straight-through / LSQ gradients of the quantized weights
  if (opt_.grad_accum > 1) {
    const float inv = float(1.0 / double(total));
    for (Parameter& p : params)
      if (p.trainable)
        for (int64_t i = 0; i < p.numel; ++i) p.grad[i] *= inv;
  }
  const double loss = loss_sum / double(total);
  const float norm = opt_.clip > 0 ? clip_grad_norm(params, opt_.clip) : grad_norm(params);
  QAT_CHECK(std::isfinite(loss) && std::isfinite(norm), "step ", step_ + 1, ": loss ", loss, ", gradient norm ", norm,
            " -- training diverged; lower --lr or lengthen --warmup",
            opt_.out_dir.empty() ? std::string() : " (resume from the last checkpoint in " + opt_.out_dir + ")");
  adamw_.step(params, lr);
  ++step_;
  *grad_norm_out = norm;
  return loss;
}

EvalResult Trainer::evaluate() {
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  if (data_.lm) {
    int64_t n = data_.lm->val_batches();
    if (opt_.eval_batches > 0) n = std::min(n, opt_.eval_batches);
    for (int64_t i = 0; i < n; ++i) {
      const LmBatch b = data_.lm->val_batch(i);
      const double loss = model_.forward_lm(b.inputs.data(), b.targets.data(), b.batch, b.seq);
      loss_sum += loss * double(model_.counted());
      r.rows += model_.counted();
    }
  } else if (data_.classify_val) {
    int64_t n = data_.classify_val->eval_batches();
    if (opt_.eval_batches > 0) n = std::min(n, opt_.eval_batches);
    const int C = model_.num_classes();
    for (int64_t i = 0; i < n; ++i) {
      const ClassifyBatch b = data_.classify_val->eval_batch(i);
      const double loss = model_.forward_classify(b.ids.data(), b.lengths.data(), b.labels.data(), b.batch, b.seq);
      loss_sum += loss * b.batch;
      r.rows += b.batch;
      const std::vector<float>& lg = model_.logits();
      for (int k = 0; k < b.batch; ++k) {
        const float* row = lg.data() + size_t(k) * C;
        correct += int32_t(std::max_element(row, row + C) - row) == b.labels[size_t(k)];
      }
    }
    if (r.rows > 0) r.accuracy = double(correct) / double(r.rows);
  }
  if (r.rows > 0) r.loss = loss_sum / double(r.rows);
  return r;
}

void Trainer::save() {
  if (opt_.out_dir.empty()) return;
  TrainerState st;
  st.step = step_;
  // Batches come from a seeded per-epoch order; the cursor is the whole
  // data position, and the trainer itself draws no random numbers.
  st.rng_state = "none";
  st.data_cursor = data_cursor_to_json(data_.lm ? data_.lm->cursor() : data_.classify->cursor());
  st.options = opt_.identity;
  for (const StepRecord& r : history_) st.loss_history.push_back(float(r.loss));
  CheckpointOptions co;
  co.keep_last = opt_.keep_last;
  Model& m = model_.model();
  save_checkpoint(opt_.out_dir, model_.parameters(), adamw_, st,
                  [&m](const std::string& path) { save_gguf_model(m, path, TensorType::F32); }, co);
}

int64_t Trainer::resume() {
  if (opt_.out_dir.empty()) return 0;
  const auto dir = find_latest_checkpoint(opt_.out_dir);
  if (dir) {
    TrainerState st;
    load_checkpoint(*dir, model_.parameters(), adamw_, st);
    // The run must be the same run: same data, model and recipe.
    for (auto it = opt_.identity.begin(); it != opt_.identity.end(); ++it) {
      const auto old = st.options.find(it.key());
      QAT_CHECK(old != st.options.end() && *old == it.value(), *dir, ": this checkpoint was written with ", it.key(),
                " = ", old == st.options.end() ? std::string("(unset)") : old->dump(), ", the run now has ",
                it.value().dump(), " (start a new --out directory, or resume with the same options)");
    }
    const DataCursor cursor = data_cursor_from_json(st.data_cursor);
    if (data_.lm)
      data_.lm->set_cursor(cursor);
    else
      data_.classify->set_cursor(cursor);
    step_ = st.step;
    history_.clear();
    for (size_t i = 0; i < st.loss_history.size(); ++i) {
      StepRecord r;
      r.step = int64_t(i) + 1;
      r.loss = st.loss_history[i];
      history_.push_back(r);
    }
    std::fprintf(stderr, "resumed from %s at step %lld\n", dir->c_str(), (long long)step_);
  } else {
    std::fprintf(stderr, "no checkpoint in %s yet: starting at step 0\n", opt_.out_dir.c_str());
  }
  // The log keeps the complete rows up to the checkpoint; later ones (and a
  // row cut short by a crash) are redone.
  if (log_.is_open()) log_.close();
  const std::string log = opt_.out_dir + "/train_log.csv";
  if (std::filesystem::exists(log)) {
    std::istringstream in(read_text_file(log));
    std::string line, kept = std::string(kLogHeader) + "\n";
    const auto columns = std::count(kept.begin(), kept.end(), ',');
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (std::count(line.begin(), line.end(), ',') != columns) continue;
      char* end = nullptr;
      const long long step = std::strtoll(line.c_str(), &end, 10);
      if (end && *end == ',' && step >= 1 && step <= step_) kept += line + "\n";
    }
    write_file_atomic(log, kept);
  }
  return step_;
}

void Trainer::write_log_row(const StepRecord& r) {
  if (opt_.out_dir.empty()) return;
  if (!log_.is_open()) {
    const std::string log = opt_.out_dir + "/train_log.csv";
    const bool fresh = !std::filesystem::exists(log);
    log_.open(log, std::ios::app);
    QAT_CHECK(log_.good(), log, ": cannot write the training log");
    if (fresh) log_ << kLogHeader << "\n";
  }
  std::ofstream& out = log_;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%lld,%.9g,%.6g,%.6g,%.1f,%.2f,", (long long)r.step, r.loss, r.lr, r.grad_norm,
                r.tokens_per_s, r.elapsed_s);
  out << buf;
  if (r.val.rows > 0) {
    std::snprintf(buf, sizeof buf, "%.9g,", r.val.loss);
    out << buf;
    if (r.val.accuracy >= 0) {
      std::snprintf(buf, sizeof buf, "%.6f", r.val.accuracy);
      out << buf;
    }
  } else {
    out << ",";
  }
  out << "\n";
  out.flush();  // a crash loses at most the row being written (resume drops it)
}

void Trainer::run(const std::function<void(const StepRecord&)>& on_step) {
  if (!opt_.out_dir.empty()) std::filesystem::create_directories(opt_.out_dir);
  const auto start = std::chrono::steady_clock::now();
  const int64_t first = step_;
  const int64_t tokens_at_start = tokens_seen_;
  const bool tty = isatty(2);
  auto last_print = start - std::chrono::seconds(10);
  while (step_ < opt_.steps) {
    StepRecord r;
    r.lr = lr_at(schedule(), step_);
    r.loss = train_step(float(r.lr), &r.grad_norm);
    r.step = step_;
    const auto now = std::chrono::steady_clock::now();
    r.elapsed_s = std::chrono::duration<double>(now - start).count();
    r.tokens_per_s = double(tokens_seen_ - tokens_at_start) / std::max(r.elapsed_s, 1e-9);
    const bool last = step_ == opt_.steps;
    if ((opt_.eval_every > 0 && step_ % opt_.eval_every == 0) || last) r.val = evaluate();
    history_.push_back(r);
    write_log_row(r);
    if ((opt_.save_every > 0 && step_ % opt_.save_every == 0) || last) save();
    if (opt_.progress && (tty || r.val.rows > 0 || last ||
                          now - last_print >= std::chrono::seconds(10))) {
      const double per_step = r.elapsed_s / double(step_ - first);
      std::string val;
      if (r.val.rows > 0) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "  val loss %.4f", r.val.loss);
        val = buf;
        if (r.val.accuracy >= 0) {
          std::snprintf(buf, sizeof buf, " acc %.2f%%", 100 * r.val.accuracy);
          val += buf;
        }
      }
      std::fprintf(stderr, "%sstep %lld/%lld  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  %s, ETA %s%s%s",
                   tty ? "\r\033[K" : "", (long long)step_, (long long)opt_.steps, r.loss, r.lr, r.grad_norm,
                   r.tokens_per_s, fmt_duration(r.elapsed_s).c_str(),
                   fmt_duration(per_step * double(opt_.steps - step_)).c_str(), val.c_str(),
                   (!tty || r.val.rows > 0 || last) ? "\n" : "");
      std::fflush(stderr);
      last_print = now;
    }
    if (on_step) on_step(r);
  }
}

}  // namespace qat
