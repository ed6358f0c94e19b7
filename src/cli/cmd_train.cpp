// qat train: fine-tune a model (GGUF or HF directory) or train one from
// scratch (--arch/--preset), for language modelling on text files or for
// sequence classification on CSV / JSONL, with checkpoints, resume, a CSV log
// and export to GGUF (and HF safetensors).
// qat qat: the same run with fake quantization (prepare -> train -> convert):
// a scheme (w8a8 w4a8 w4a16 w8a16), optional LSQ scales and distillation from
// a frozen teacher, exported straight to the quantized GGUF that was trained.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "base/memory_info.h"
#include "base/progress.h"
#include "cli/commands.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/classify_dataset.h"
#include "train/fake_quant_state.h"
#include "train/qat_scheme.h"
#include "train/token_stream.h"
#include "train/trainer.h"
#include "train/unigram_baseline.h"

namespace qat::cli {

namespace {

struct TrainFlags {
  std::string model, arch, preset, tokenizer, task = "lm", out = "train-out", export_hf;
  std::vector<std::string> data;
  std::string val_data, text_field, text_template, label_field, pooling = "last";
  std::vector<std::string> classes;
  double val_fraction = 0.05;
  bool skip_bad_rows = false, resume = false, quiet = false;
  int batch = 8, seq = 256, threads = 0;
  uint64_t seed = 1234;
  std::string schedule = "cosine";
  TrainOptions opt;
  // qat qat only.
  bool qat = false, lsq = false;
  std::string scheme = "w4a8", teacher;
  std::vector<std::string> tensor_types;
  int64_t qat_start = 0;
  float lsq_lr = 0.0f;            // 0: the weights' --lr
  std::string lsq_init = "absmax";
  int gptq_batches = 8;           // --lsq-init gptq: calibration batches
  bool gptq_batches_given = false;
  float dampen = 0.0f;
};

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
  const bool json = path.size() >= 5 && path.substr(path.size() - 5) == ".json";
  return json ? Tokenizer::from_tokenizer_json(path) : Tokenizer::from_sentencepiece(path);
}

// The model to train: loaded, or created from a preset (with a tokenizer).
std::unique_ptr<Model> make_model(const TrainFlags& f) {
  QAT_CHECK(f.model.empty() != f.preset.empty(), "give either --model FILE|DIR (fine-tune) or --arch/--preset (from scratch)");
  if (!f.model.empty()) {
    auto m = load_model(f.model);
    if (!f.tokenizer.empty()) m->tokenizer = load_tokenizer_file(f.tokenizer);
    return m;
  }
  ModelConfig c = preset_config(parse_family(f.arch), f.preset);
  std::unique_ptr<Tokenizer> tok =
      f.tokenizer.empty() ? Tokenizer::byte_level(c.vocab_size) : load_tokenizer_file(f.tokenizer);
  // The embedding fits the tokenizer exactly (a small tokenizer shrinks it).
  c.vocab_size = tok->vocab_size();
  if (c.vocab_size_per_layer_input > 0) c.vocab_size_per_layer_input = c.vocab_size;
  auto m = init_random_model(c, f.seed);
  m->tokenizer = std::move(tok);
  m->name = f.arch + "-" + f.preset;
  return m;
}

void run_train(TrainFlags& f) {
  set_threads(f.threads);
  set_matmul_threads(omp_get_max_threads());
  if (f.quiet) Progress::set_enabled(false);
  QAT_CHECK(f.task == "lm" || f.task == "classify", "--task must be lm or classify, got '", f.task, "'");
  QAT_CHECK(!f.data.empty(), "--data is required");
  QAT_CHECK(f.batch >= 1 && f.seq >= 2, "--batch must be >= 1 and --seq >= 2");
  QAT_CHECK(f.val_fraction >= 0 && f.val_fraction < 1, "--val-fraction must be in [0, 1), got ", f.val_fraction);
  QAT_CHECK(f.pooling == "last" || f.pooling == "mean", "--pooling must be last or mean");
  const bool has_checkpoint =
      std::filesystem::exists(f.out + "/latest") || std::filesystem::exists(f.out + "/train_log.csv");
  QAT_CHECK(f.resume || !has_checkpoint, f.out, " already holds a training run; pass --resume to continue it, ",
            "or choose another --out");
  if (f.schedule == "cosine") f.opt.schedule = LrSchedule::Cosine;
  else if (f.schedule == "linear") f.opt.schedule = LrSchedule::Linear;
  else if (f.schedule == "constant") f.opt.schedule = LrSchedule::Constant;
  else fail("--schedule must be cosine, linear or constant, got '", f.schedule, "'");

  auto model = make_model(f);
  QAT_CHECK(model->tokenizer != nullptr, (f.model.empty() ? f.preset : f.model),
            ": the model has no tokenizer to encode the data with; pass --tokenizer FILE");
  const Tokenizer& tok = *model->tokenizer;
  std::filesystem::create_directories(f.out);

  // Data.
  TokenStream stream;
  std::unique_ptr<LmSampler> lm;
  ClassifySplit split;
  std::unique_ptr<ClassifySampler> cls, cls_val;
  ClassifierHead head;
  double unigram = -1;
  LmSamplerOptions lo;
  if (f.task == "lm") {
    TokenStreamOptions so;
    so.cache_path = f.out + "/tokens.cache";
    so.progress = !f.quiet;
    stream = build_token_stream(f.data, tok, so);
    lo.batch = f.batch;
    lo.seq = f.seq;
    lo.val_fraction = f.val_fraction;
    lo.seed = f.seed;
    try {
      lm = std::make_unique<LmSampler>(stream.tokens, lo);
    } catch (const Error& e) {
      std::string names;
      for (const std::string& d : f.data) names += (names.empty() ? "" : ", ") + d;
      fail(names, ": ", e.what());
    }
    if (lm->val_windows() > 0) {
      unigram = unigram_cross_entropy(stream.tokens, lm->val_begin(), model->config.vocab_size);
      std::fprintf(stderr, "unigram baseline on the validation tokens: %.4f nats/token\n", unigram);
    }
    std::fprintf(stderr, "data: %zu tokens from %lld documents (%s), %lld training windows of %d, %lld validation\n",
                 stream.tokens.size(), (long long)stream.documents, stream.from_cache ? "cached" : "tokenized",
                 (long long)lm->train_windows(), f.seq, (long long)lm->val_windows());
  } else {
    QAT_CHECK(f.data.size() == 1, "--task classify reads one --data file (CSV or JSONL)");
    ClassifyOptions co;
    co.text_field = f.text_field;
    co.text_template = f.text_template;
    co.label_field = f.label_field;
    co.classes = !f.classes.empty() ? f.classes : model->config.class_names;
    co.max_seq = f.seq;
    co.skip_bad_rows = f.skip_bad_rows;
    co.progress = !f.quiet;
    ClassifyDataset all = load_classify_dataset(f.data[0], tok, co);
    if (!f.val_data.empty()) {
      co.classes = all.classes;
      split.train = std::move(all);
      split.val = load_classify_dataset(f.val_data, tok, co);
    } else {
      split = split_classify_dataset(all, f.val_fraction, f.seed);
    }
    const ClassifyStats& st = split.train.stats;
    std::fprintf(stderr, "data: %zu training and %zu validation examples, %zu classes", split.train.examples.size(),
                 split.val.examples.size(), split.train.classes.size());
    if (st.skipped > 0) std::fprintf(stderr, ", %lld bad rows skipped", (long long)st.skipped);
    if (st.truncated > 0) std::fprintf(stderr, ", %lld truncated to %d tokens", (long long)st.truncated, f.seq);
    std::fprintf(stderr, "\n");
    for (const std::string& why : st.skip_reasons) std::fprintf(stderr, "  skipped: %s\n", why.c_str());
    head.num_classes = int(split.train.classes.size());
    head.pooling = f.pooling == "mean" ? Pooling::Mean : Pooling::Last;
    head.class_names = split.train.classes;
    const int32_t pad = model->config.pad_token_id;
    cls = std::make_unique<ClassifySampler>(split.train, f.batch, f.seed, pad);
    if (!split.val.examples.empty()) cls_val = std::make_unique<ClassifySampler>(split.val, f.batch, f.seed, pad);
  }

  GemmaTrainer gt(*model, head, f.seed);
  // QAT: fake quantization and the distillation teacher.
  std::unique_ptr<Model> teacher_model;
  std::unique_ptr<GemmaTrainer> teacher;
  if (f.qat) {
    QatConfig qc;
    qc.scheme = parse_qat_scheme(f.scheme);
    for (const std::string& spec : f.tensor_types) qc.overrides.push_back(parse_type_override(spec));
    qc.lsq = f.lsq;
    QAT_CHECK(f.lsq || (f.lsq_lr == 0.0f && f.lsq_init == "absmax"), "--lsq-lr and --lsq-init need --lsq");
    QAT_CHECK(f.lsq_lr >= 0.0f && std::isfinite(f.lsq_lr), "--lsq-lr must be a positive learning rate, got ",
              f.lsq_lr);
    if (f.lsq_lr > 0.0f) qc.scale_lr_ratio = f.lsq_lr / f.opt.lr;
    QAT_CHECK(f.lsq_init == "absmax" || f.lsq_init == "mse" || f.lsq_init == "gptq",
              "--lsq-init must be absmax, mse or gptq, got '", f.lsq_init, "'");
    qc.scale_init = f.lsq_init == "mse"    ? QatConfig::ScaleInit::Mse
                    : f.lsq_init == "gptq" ? QatConfig::ScaleInit::Gptq
                                           : QatConfig::ScaleInit::Absmax;
    QAT_CHECK(f.qat_start >= 0 && f.qat_start < f.opt.steps, "--fake-quant-after must be in [0, --steps), got ",
              f.qat_start);
    qc.start_step = f.qat_start;
    QAT_CHECK(f.dampen >= 0 && std::isfinite(f.dampen), "--dampen must be >= 0, got ", f.dampen);
    qc.dampen = f.dampen;
    QAT_CHECK(f.opt.distill_weight >= 0 && f.opt.distill_weight <= 1,
              "--distill-weight: the distillation weight must be in [0, 1], got ", f.opt.distill_weight);
    QAT_CHECK(f.opt.distill_temperature > 0, "--distill-temperature must be positive, got ",
              f.opt.distill_temperature);
    QAT_CHECK(!f.gptq_batches_given || f.lsq_init == "gptq", "--gptq-batches needs --lsq-init gptq");
    InputHessians hessians;
    if (qc.scale_init == QatConfig::ScaleInit::Gptq) {
      QAT_CHECK(f.task == "lm", "--lsq-init gptq calibrates on language-model batches: it needs --task lm");
      QAT_CHECK(f.qat_start == 0, "--lsq-init gptq needs fake quantization from step 0 (no --fake-quant-after)");
      QAT_CHECK(f.gptq_batches >= 1, "--gptq-batches must be >= 1, got ", f.gptq_batches);
      // The first training batches of the run's seed, drawn by a sampler of
      // their own: the training cursor does not move.
      LmSampler calibration(stream.tokens, lo);
      gt.accumulate_input_hessians(calibration, f.gptq_batches, hessians);
    }
    gt.enable_fake_quant(qc, qc.scale_init == QatConfig::ScaleInit::Gptq ? &hessians : nullptr);
    if (qc.scale_init == QatConfig::ScaleInit::Gptq)
      std::fprintf(stderr, "gptq: %d tensors quantized from %lld calibration tokens\n", gt.gptq_tensors(),
                   (long long)f.gptq_batches * f.batch * f.seq);
    std::string tpath = f.teacher.empty() ? f.model : f.teacher;
    if (tpath == "none") tpath.clear();
    if (!tpath.empty()) {
      teacher_model = load_model(tpath);
      if (f.task == "classify" && teacher_model->config.num_labels != head.num_classes &&
          teacher_model->config.num_labels == 0 && f.teacher.empty()) {
        std::fprintf(stderr, "note: %s has no classification head to distil from: training on labels only\n",
                     tpath.c_str());
        teacher_model.reset();
      } else {
        teacher = std::make_unique<GemmaTrainer>(*teacher_model);
        QAT_CHECK(teacher_model->config.vocab_size == model->config.vocab_size, tpath, ": the teacher's vocabulary (",
                  teacher_model->config.vocab_size, ") differs from the student's (", model->config.vocab_size, ")");
        QAT_CHECK(f.task != "classify" || teacher->num_classes() == head.num_classes, tpath, ": the teacher has ",
                  teacher->num_classes(), " classes, the data ", head.num_classes);
      }
    }
    std::fprintf(stderr, "qat: scheme %s%s, fake quantization from step %lld, %s\n", f.scheme.c_str(),
                 f.lsq ? " with learned scales (LSQ)" : "", (long long)f.qat_start,
                 teacher ? ("distilling from " + tpath).c_str() : "no teacher (hard labels only)");
  }
  int64_t trainable = 0, total = 0;
  for (const Parameter& p : gt.parameters()) total += p.numel;
  f.opt.out_dir = f.out;
  f.opt.progress = !f.quiet;
  f.opt.identity = {{"task", f.task},       {"data", f.data},         {"model", f.model},
                    {"arch", f.arch},       {"preset", f.preset},     {"batch", f.batch},
                    {"seq", f.seq},         {"grad_accum", f.opt.grad_accum}, {"seed", f.seed},
                    {"freeze", f.opt.freeze}, {"val_fraction", f.val_fraction}};
  if (f.qat)
    f.opt.identity.update({{"scheme", f.scheme},
                           {"tensor_type", f.tensor_types},
                           {"lsq", f.lsq},
                           {"lsq_lr", f.lsq_lr},
                           {"lsq_init", f.lsq_init},
                           {"fake_quant_after", f.qat_start},
                           {"teacher", teacher ? (f.teacher.empty() ? f.model : f.teacher) : "none"},
                           {"distill_temperature", f.opt.distill_temperature},
                           {"distill_weight", f.opt.distill_weight}});
  // Only when set, so runs checkpointed before the option existed still resume.
  if (f.qat && f.dampen > 0) f.opt.identity["dampen"] = f.dampen;
  if (f.qat && f.lsq_init == "gptq") f.opt.identity["gptq_batches"] = f.gptq_batches;
  Trainer trainer(gt, TrainData{lm.get(), cls.get(), cls_val.get(), teacher.get()}, f.opt);
  for (const Parameter& p : gt.parameters()) trainable += p.trainable ? p.numel : 0;
  std::fprintf(stderr, "model: %s, %lld parameters (%lld trainable), %d threads\n", family_name(model->config.family),
               (long long)total, (long long)trainable, omp_get_max_threads());
  if (f.resume) trainer.resume();
  trainer.run();

  // Export what was trained.
  const std::string gguf = f.out + "/model.gguf";
  if (f.qat)
    gt.fake_quant()->export_gguf(gguf);  // the quantized model exactly as trained
  else
    save_gguf_model(*model, gguf, TensorType::F32);
  if (!f.export_hf.empty()) save_hf_model(*model, f.export_hf, TensorType::F32);
  const StepRecord& last = trainer.history().back();
  std::printf("trained %lld steps: loss %.4f", (long long)trainer.step(), last.loss);
  if (last.val.rows > 0) {
    std::printf(", validation loss %.4f", last.val.loss);
    if (unigram > 0) std::printf(" (unigram baseline %.4f)", unigram);
    if (last.val.accuracy >= 0) std::printf(", accuracy %.2f%%", 100 * last.val.accuracy);
  }
  std::printf("; %.0f tokens/s; peak RSS %s\nwrote %s%s%s\n", last.tokens_per_s, format_bytes(peak_rss_bytes()).c_str(),
              gguf.c_str(), f.export_hf.empty() ? "" : " and ", f.export_hf.c_str());
}

void add_training_options(CLI::App* cmd, const std::shared_ptr<TrainFlags>& f) {
  cmd->add_option("-m,--model", f->model, "Model to fine-tune: GGUF file or HF checkpoint directory");
  cmd->add_option("--arch", f->arch, "From scratch: gemma3 | gemma4 (with --preset)")->default_val("gemma3");
  cmd->add_option("--preset", f->preset, "From scratch: shape (e.g. small, tiny; see qat init)");
  cmd->add_option("--tokenizer", f->tokenizer,
                  "tokenizer.model or tokenizer.json (from scratch: default byte-level; fine-tune: replaces the model's)");
  cmd->add_option("--data", f->data, "Training data: text files / directories (lm), one CSV or JSONL file (classify)")
      ->required();
  cmd->add_option("--task", f->task, "lm | classify")->capture_default_str();
  cmd->add_option("--val-data", f->val_data, "classify: a separate validation file (default: split --data)");
  cmd->add_option("--val-fraction", f->val_fraction, "Part of the data held out for validation")->capture_default_str();
  cmd->add_option("--text-field", f->text_field, "classify: column / key holding the text");
  cmd->add_option("--template", f->text_template, "classify: text from fields, e.g. 'Amount {amount} at {merchant}'");
  cmd->add_option("--label-field", f->label_field, "classify: column / key holding the label");
  cmd->add_option("--classes", f->classes, "classify: class names in id order (default: from the labels)")->delimiter(',');
  cmd->add_option("--pooling", f->pooling, "classify: last | mean (sequence pooling of a new head)")->capture_default_str();
  cmd->add_flag("--skip-bad-rows", f->skip_bad_rows, "classify: skip malformed rows (counted) instead of failing");
  cmd->add_option("--steps", f->opt.steps, "Optimizer steps")->capture_default_str();
  cmd->add_option("-b,--batch", f->batch, "Sequences per micro-batch")->capture_default_str();
  cmd->add_option("--seq", f->seq, "Tokens per sequence")->capture_default_str();
  cmd->add_option("--grad-accum", f->opt.grad_accum, "Micro-batches per optimizer step")->capture_default_str();
  cmd->add_option("--lr", f->opt.lr, "Peak learning rate")->capture_default_str();
  cmd->add_option("--warmup", f->opt.warmup, "Warmup steps (-1: 5 % of --steps)")->capture_default_str();
  cmd->add_option("--schedule", f->schedule, "cosine | linear | constant")->capture_default_str();
  cmd->add_option("--min-lr-ratio", f->opt.min_lr_ratio, "Final learning rate / peak")->capture_default_str();
  cmd->add_option("--weight-decay", f->opt.adamw.weight_decay, "AdamW decoupled weight decay (not on norms/scalars)")
      ->capture_default_str();
  cmd->add_option("--beta1", f->opt.adamw.beta1, "AdamW beta1")->capture_default_str();
  cmd->add_option("--beta2", f->opt.adamw.beta2, "AdamW beta2")->capture_default_str();
  cmd->add_option("--clip", f->opt.clip, "Clip the global gradient norm to this (0: off)")->capture_default_str();
  cmd->add_option("--freeze", f->opt.freeze,
                  "Freeze a group (embedding matrix norm scalar head) or parameters matching a regex; repeatable");
  cmd->add_option("--unfreeze", f->opt.unfreeze, "Train a group or regex after --freeze (e.g. scalar); repeatable");
  cmd->add_option("--seed", f->seed, "Seed for initialisation and data order")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("-o,--out", f->out, "Run directory: checkpoints, train_log.csv, model.gguf")->capture_default_str();
  cmd->add_option("--save-every", f->opt.save_every, "Checkpoint every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--keep", f->opt.keep_last, "Checkpoints to keep")->capture_default_str();
  cmd->add_option("--eval-every", f->opt.eval_every, "Validate every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--eval-batches", f->opt.eval_batches, "Validation batches per evaluation (0: all)")->capture_default_str();
  cmd->add_flag("--resume", f->resume, "Continue the run in --out from its latest checkpoint");
  cmd->add_flag("-q,--quiet", f->quiet, "No progress lines");
}

}  // namespace

void add_train(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train or fine-tune a model (language modelling or classification)");
  add_training_options(cmd, f);
  cmd->add_option("--export-hf", f->export_hf, "Also write the trained model as a HF safetensors directory");
  cmd->callback([f] { run_train(*f); });
}

void add_qat(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  f->qat = true;
  f->out = "qat-out";
  // A fine-tuning rate: the quantization gap is small, and Adam's steps of
  // ~lr per weight at 3e-4 undid more than they fixed on the small LM
  // (README, "Evidence"); 5e-5 cut the KL divergence to FP32 by 2/3.
  f->opt.lr = 5e-5f;
  auto* cmd = app.add_subcommand(
      "qat",
      "Quantization-aware training: fine-tune with fake quantization identical to deployment, optionally "
      "distilling from the full-precision model, and write the quantized GGUF that was trained");
  add_training_options(cmd, f);
  cmd->add_option("--scheme", f->scheme, "w8a8 | w4a8 | w4a16 | w8a16 (weights / activations)")->capture_default_str();
  cmd->add_option("--tensor-type", f->tensor_types,
                  "REGEX=TYPE per-tensor weight type, as in qat quantize; repeatable, first match wins");
  cmd->add_flag("--lsq", f->lsq, "Learn each block's scale (LSQ); the learned scales are exported");
  cmd->add_option("--lsq-lr", f->lsq_lr,
                  "LSQ: peak learning rate of the block scales (same schedule as --lr; default: --lr)");
  cmd->add_option("--lsq-init", f->lsq_init,
                  "LSQ: initial block scales, 'absmax' (the reference quantizer's), 'mse' (least-squares search) "
                  "or 'gptq' (GPTQ rounding of the weights on calibration batches, the reference's scales)")
      ->capture_default_str();
  auto* gptq_batches = cmd->add_option("--gptq-batches", f->gptq_batches,
                                       "--lsq-init gptq: calibration batches of -b x --seq tokens")
                           ->capture_default_str();
  cmd->add_option("--dampen", f->dampen,
                  "Oscillation dampening: adds DAMPEN * (w - q(w)) to each quantized weight's gradient (0: off)")
      ->capture_default_str();
  cmd->add_option("--fake-quant-after", f->qat_start, "Warm-up steps in full precision before fake quantization")
      ->capture_default_str();
  cmd->add_option("--teacher", f->teacher,
                  "Distillation teacher (GGUF / HF dir; default: the --model being trained; 'none': hard labels only)");
  cmd->add_option("--distill-temperature", f->opt.distill_temperature, "Softmax temperature of the distillation loss")
      ->capture_default_str();
  cmd->add_option("--distill-weight", f->opt.distill_weight,
                  "Weight of the distillation loss; the label loss gets 1 - this")
      ->capture_default_str();
  cmd->callback([f, gptq_batches] {
    f->gptq_batches_given = gptq_batches->count() > 0;
    run_train(*f);
  });
}

}  // namespace qat::cli
