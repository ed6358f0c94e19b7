#include "cli/demo_pipeline.h"

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "base/error.h"
#include "base/progress.h"
#include "cli/commands.h"
#include "model/classify.h"
#include "model/model.h"
#include "model/quantize_plan.h"
#include "train/classify_dataset.h"
#include "train/fake_quant_state.h"
#include "train/qat_scheme.h"

namespace qat::cli {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

ClassifyDataset to_dataset(const DemoData& d, const DemoSplit& s, const Tokenizer& tok) {
  ClassifyDataset ds;
  ds.source = d.task;
  ds.classes = d.class_names;
  for (size_t i = 0; i < s.texts.size(); ++i) {
    ClassifyExample e;
    e.ids = tok.encode_prefix(s.texts[i], true, size_t(d.max_seq));
    e.label = s.labels[i];
    e.line = int64_t(i) + 1;
    ds.examples.push_back(std::move(e));
  }
  ds.stats.rows = int64_t(ds.examples.size());
  return ds;
}

TrainOptions train_options(int64_t steps, float lr) {
  TrainOptions o;
  o.steps = steps;
  o.lr = lr;
  o.eval_every = std::max<int64_t>(1, steps / 8);
  o.eval_batches = 8;
  o.progress = true;
  return o;
}

double softmax_positive(const float* logits) {  // P(class 1) of two logits
  return 1.0 / (1.0 + std::exp(double(logits[0]) - double(logits[1])));
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// RAPL package energy counter in joules, or -1 when not readable.
double rapl_joules() {
  for (const char* p : {"/sys/class/powercap/intel-rapl:0/energy_uj", "/sys/class/powercap/amd-rapl:0/energy_uj"}) {
    std::ifstream f(p);
    double uj;
    if (f >> uj) return uj * 1e-6;
  }
  return -1;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t i = size_t(pos);
  const double f = pos - double(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

std::vector<int32_t> encode_for(const Model& m, const DemoData& d, const std::string& text) {
  return m.tokenizer->encode_prefix(text, true, size_t(d.max_seq));
}

}  // namespace

ModelConfig demo_model_config(const DemoData& d, bool large) {
  ModelConfig c = preset_config(Family::Gemma3, "small");
  c.hidden_size = large ? 512 : 128;
  c.num_hidden_layers = large ? 6 : 4;
  c.num_attention_heads = large ? 8 : 4;
  c.num_key_value_heads = large ? 2 : 1;
  c.head_dim = large ? 64 : 32;
  c.query_pre_attn_scalar = float(c.head_dim);
  c.intermediate_size = large ? 2304 : 512;
  c.sliding_window = 512;  // longer than any example: every layer sees the whole sequence
  c.max_position_embeddings = 1024;
  c.layer_sliding.clear();
  c.vocab_size = d.tokenizer->vocab_size();
  return c;
}

DemoRun train_fp32(const DemoData& d, const DemoTrainConfig& cfg, const std::string& path) {
  const auto t0 = Clock::now();
  auto model = init_random_model(demo_model_config(d, cfg.large), cfg.seed);
  model->tokenizer = d.new_tokenizer();
  model->name = "qat-demo-" + d.task;
  ClassifyDataset train = to_dataset(d, d.train, *d.tokenizer), val = to_dataset(d, d.val, *d.tokenizer);
  ClassifierHead head{2, Pooling::Last, d.class_names};
  GemmaTrainer gt(*model, head, cfg.seed);
  ClassifySampler sampler(train, cfg.batch, cfg.seed, model->config.pad_token_id);
  ClassifySampler val_sampler(val, cfg.batch, cfg.seed, model->config.pad_token_id);
  Trainer trainer(gt, TrainData{nullptr, &sampler, &val_sampler, nullptr},
                  train_options(cfg.fp32_steps, cfg.fp32_lr));
  trainer.run();
  InputSpec spec = d.spec;
  spec.max_tokens = d.max_seq;
  model->config.score_input = spec.to_string();
  save_gguf_model(*model, path, TensorType::F32);
  DemoRun r;
  r.name = "FP32";
  r.scheme = "f32";
  r.file = path;
  r.size_bytes = disk_bytes(path);
  r.curve = trainer.history();
  r.train_s = seconds_since(t0);
  return r;
}

DemoRun post_training_quantize(const std::string& fp32_path, const std::string& type, const std::string& path,
                               const std::string& name) {
  auto model = load_model(fp32_path);
  QuantizeRules rules;
  rules.type = parse_tensor_type(type);
  const QuantizePlan plan = plan_quantization(*model, rules);
  auto type_of = [&plan](const TensorSlot& s) {
    const TensorPlan* p = plan.find(s.gguf_name);
    QAT_CHECK(p, "internal: no plan for tensor '", s.gguf_name, "'");
    return p->to;
  };
  save_gguf_model(*model, path, type_of, gguf_file_type(rules.type), "quantize", false, {});
  DemoRun r;
  r.name = name;
  r.scheme = type == "q8_0" ? "w8a8" : "w4a8";
  r.file = path;
  r.size_bytes = disk_bytes(path);
  return r;
}

DemoRun quantization_aware_train(const DemoData& d, const DemoTrainConfig& cfg, const std::string& fp32_path,
                                 const std::string& scheme, const std::string& path, const std::string& name) {
  const auto t0 = Clock::now();
  auto model = load_model(fp32_path);
  auto teacher_model = load_model(fp32_path);
  ClassifyDataset train = to_dataset(d, d.train, *d.tokenizer), val = to_dataset(d, d.val, *d.tokenizer);
  GemmaTrainer gt(*model);
  QatConfig qc;
  qc.scheme = parse_qat_scheme(scheme);
  const TensorType weights = scheme_weight_type(qc.scheme);  // the scheme's recipe below depends on it
  if (weights == TensorType::Q4_0) {
    // 4-bit blocks start at their least-squares scales and learn them slowly
    // (LSQ at 1/20 of the weights' rate). German Credit at 150 QAT steps,
    // seeds 1234 and 1-6, four metrics: INT4 QAT fell below 99 % of FP32 on
    // 5 of 28 with absmax scales, on 3 with these (all KS, about one swap of
    // a bad and a good loan away); fraud, scam and Lending Club stayed at
    // >= 99.4 % with them.
    qc.lsq = true;
    qc.scale_init = QatConfig::ScaleInit::Mse;
    qc.scale_lr_ratio = 0.05f;
  }
  gt.enable_fake_quant(qc);
  GemmaTrainer teacher(*teacher_model);
  // A different data order from the FP32 run.
  ClassifySampler sampler(train, cfg.batch, cfg.seed + 7, model->config.pad_token_id);
  ClassifySampler val_sampler(val, cfg.batch, cfg.seed, model->config.pad_token_id);
  TrainOptions o = train_options(cfg.qat_steps, weights == TensorType::Q8_0 ? cfg.int8_qat_lr : cfg.qat_lr);
  // Pure distillation: the quantized model learns to give the FP32 model's
  // scores (what "as accurate as FP32" means), not to keep training on the
  // labels, which would only move it away from the model it replaces.
  o.distill_weight = 1.0f;
  o.warmup = 0;
  Trainer trainer(gt, TrainData{nullptr, &sampler, &val_sampler, &teacher}, o);
  trainer.run();
  gt.fake_quant()->export_gguf(path);
  DemoRun r;
  r.name = name;
  r.scheme = scheme;
  r.file = path;
  r.size_bytes = disk_bytes(path);
  r.curve = trainer.history();
  r.train_s = seconds_since(t0);
  return r;
}

void measure(const DemoData& d, DemoRun& run, int threads, int n_throughput) {
  auto model = load_model(run.file);
  model->prepare_matrices_for_kernels();  // as `qat score` does: repack once, not on every product
  QAT_CHECK(model->config.num_labels == 2, run.file, ": not a two-class classifier");
  QAT_CHECK(model->tokenizer != nullptr, run.file, ": no tokenizer");
  const InputSpec spec = InputSpec::parse(model->config.score_input);
  const size_t n = d.test.texts.size();

  // Accuracy figures: the test split, sessions in parallel.
  std::vector<std::vector<int32_t>> seqs(n);
  for (size_t i = 0; i < n; ++i) seqs[i] = encode_for(*model, d, d.test.texts[i]);
  run.scores.assign(n, 0);
  {
    Progress bar("score " + run.name, n, "records");
#pragma omp parallel num_threads(threads)
    {
      Session s(*model, d.max_seq, d.max_seq);
#pragma omp for schedule(dynamic, 16)
      for (int64_t i = 0; i < int64_t(n); ++i) {
        const std::vector<float> l = classify_sequence(s, seqs[size_t(i)].data(), int(seqs[size_t(i)].size()));
        run.scores[size_t(i)] = softmax_positive(l.data());
#pragma omp critical
        bar.add();
      }
    }
  }
  run.metrics = binary_metrics(run.scores, d.test.labels);

  // Throughput: `threads` sessions scoring records side by side.
  omp_set_num_threads(threads);
  run.throughput_threads = threads;
  const size_t total = size_t(n_throughput);
  const double cpu0 = cpu_seconds(), j0 = rapl_joules();
  const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads)
  {
    Session s(*model, d.max_seq, d.max_seq);
#pragma omp for schedule(dynamic, 8)
    for (int64_t i = 0; i < int64_t(total); ++i) {
      const nlohmann::json& rec = d.test_records[size_t(i) % d.test_records.size()];
      const std::vector<int32_t> ids = encode_for(*model, d, spec.render(rec));
      const std::vector<float> l = classify_sequence(s, ids.data(), int(ids.size()));
      volatile double p = softmax_positive(l.data());
      (void)p;
    }
  }
  const double wall = seconds_since(t0), cpu = cpu_seconds() - cpu0, j1 = rapl_joules();
  run.throughput = double(total) / wall;
  run.cpu_s_per_1000 = cpu / double(total) * 1000;
  run.energy_j_per_1000 = (j0 >= 0 && j1 >= j0) ? (j1 - j0) / double(total) * 1000 : -1;
}

void measure_latency(const DemoData& d, std::vector<DemoRun>& runs, int n_latency) {
  struct Loaded {
    std::unique_ptr<Model> model;
    InputSpec spec;
    std::unique_ptr<Session> session;
  };
  std::vector<Loaded> m;
  for (DemoRun& r : runs) {
    Loaded l;
    l.model = load_model(r.file);
    l.model->prepare_matrices_for_kernels();
    l.spec = InputSpec::parse(l.model->config.score_input);
    l.session = std::make_unique<Session>(*l.model, d.max_seq, d.max_seq);
    m.push_back(std::move(l));
    r.latency_ms.clear();
  }
  omp_set_num_threads(1);
  const size_t n = std::min(size_t(n_latency), d.test_records.size());
  Progress bar("latency", 2 * n * runs.size(), "scores");
  const auto time_one = [&](size_t k, size_t i) {
    const auto t0 = Clock::now();
    const std::vector<int32_t> ids = encode_for(*m[k].model, d, m[k].spec.render(d.test_records[i]));
    const std::vector<float> l = classify_sequence(*m[k].session, ids.data(), int(ids.size()));
    volatile double p = softmax_positive(l.data());
    (void)p;
    bar.add();
    return 1e3 * seconds_since(t0);
  };
  // The reported latency: each model scores a stream of records, as a
  // scoring process (`qat score`) does, its weights warm in the core's
  // caches. Models take turns every kStreamBlock records, so that a burst of
  // load from another process on this shared machine hits all of them alike.
  constexpr size_t kStreamBlock = 25;
  for (size_t b0 = 0; b0 < n; b0 += kStreamBlock)
    for (size_t k = 0; k < runs.size(); ++k)
      for (size_t i = b0; i < std::min(n, b0 + kStreamBlock); ++i) runs[k].latency_ms.push_back(time_one(k, i));
  // The same records with the models taking turns on every record: each
  // model then starts from caches the other four have filled, like an app
  // that scores one transaction now and then.
  std::vector<std::vector<double>> alternating(runs.size());
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < runs.size(); ++k) alternating[k].push_back(time_one(k, i));
  for (size_t k = 0; k < runs.size(); ++k) runs[k].p50_alternating = percentile(alternating[k], 0.5);
  for (DemoRun& r : runs) {
    r.p50 = percentile(r.latency_ms, 0.5);
    r.p99 = percentile(r.latency_ms, 0.99);
    double sum = 0;
    for (double v : r.latency_ms) sum += v;
    r.mean = r.latency_ms.empty() ? 0 : sum / double(r.latency_ms.size());
  }
}

}  // namespace qat::cli
