// qat demo: the main job on a built-in default. For a task (fraud by
// default: simulated card transactions; credit; scam) it trains a small
// Gemma-architecture classifier at FP32, quantizes it after training (PTQ)
// and with quantization-aware training (QAT) at INT8 and INT4, exports each
// to GGUF, scores the same held-out split with all five and times them as a
// scoring app would run them; then prints the table, checks the goals and
// writes report.json and report.html. `--task engine` is the older
// random-weight engine check (demo_engine.cpp).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "base/atomic_file.h"
#include "base/error.h"
#include "cli/commands.h"
#include "cli/demo_report.h"
#include "finance/logistic_regression.h"
#include "finance/report_html.h"

namespace qat::cli {

namespace {

struct DemoFlags {
  std::string task = "fraud", size = "small", out = "demo-out", data, dir;
  uint64_t seed = 1234;
  int threads = 2;
  double fraud_rate = 0.015;
  int64_t fp32_steps = 0, qat_steps = 0;
  float fp32_lr = 1e-3f, qat_lr = 5e-5f, int8_qat_lr = 2e-5f;
  int latency_records = 300, throughput_records = 0, customers = 0;
  int64_t test_records = 0;
  bool skip_speed = false;
};

// Steps sized for the 10-minute budget on 2 cores (README, "qat demo").
void default_steps(const std::string& task, bool large, size_t train_rows, int batch, int64_t* fp32, int64_t* qat) {
  // credit: about 3 epochs of the training split, at least 60 steps. German
  // Credit (600 training rows) overfits past that: ROC-AUC fell from 0.77 at
  // 60 steps to 0.73 at 300. Lending Club (5,914) underfits at 60 steps
  // (ROC-AUC 0.58, below the logistic regression's 0.73) and reaches 0.74
  // at 500.
  const int64_t credit = std::max<int64_t>(60, (3 * int64_t(train_rows) + batch - 1) / batch);
  if (*fp32 <= 0) *fp32 = task == "fraud" ? (large ? 600 : 300) : task == "credit" ? credit : (large ? 600 : 200);
  // QAT: a quarter of the FP32 steps; credit at least 150. On German Credit
  // (seeds 1234 and 1-6, four metrics: 28 pairs) a quarter of its 60 steps
  // left INT8 QAT below 99.5 % of FP32 on 4 pairs; 150 steps, on none.
  if (*qat <= 0) *qat = std::max<int64_t>(task == "credit" ? 150 : 1, *fp32 / 4);
}

void run_finance_demo(DemoFlags f) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  QAT_CHECK(f.task == "fraud" || f.task == "credit" || f.task == "scam",
            "--task must be fraud, credit or scam (or engine), got '", f.task, "'");
  QAT_CHECK(f.size == "small" || f.size == "large", "--size must be small or large, got '", f.size, "'");
  QAT_CHECK(f.fraud_rate >= 0.001 && f.fraud_rate <= 0.2, "--fraud-rate: the fraud rate must be in [0.001, 0.2], got ",
            f.fraud_rate);
  QAT_CHECK(f.threads >= 1 && f.threads <= 256, "--threads must be in [1, 256], got ", f.threads);
  QAT_CHECK(f.latency_records >= 1, "--latency-records must be >= 1");
  QAT_CHECK(f.fp32_lr > 0 && f.qat_lr > 0 && f.int8_qat_lr > 0, "--fp32-lr, --qat-lr and --int8-qat-lr must be positive");
  const bool large = f.size == "large";
  omp_set_num_threads(f.threads);
  std::filesystem::create_directories(f.out);
  const std::string command = "qat demo --task " + f.task + (large ? " --size large" : "");
  std::printf("qat demo: %s — FP32, INT8 / INT4 post-training quantization and QAT, measured on this machine\n",
              f.task.c_str());

  DemoDataOptions dopt;
  dopt.task = f.task;
  dopt.data = f.data;
  dopt.work_dir = f.out;
  dopt.seed = f.seed;
  dopt.large = large;
  dopt.fraud_rate = f.fraud_rate;
  QAT_CHECK(f.customers >= 0 && f.test_records >= 0, "--customers and --test-records must be >= 0");
  dopt.customers = f.customers;
  dopt.test_records = f.test_records;
  DemoData data = load_demo_data(dopt);
  if (!data.data_note.empty()) std::printf("NOTE: %s\n", data.data_note.c_str());
  std::printf("data: %s\n  train %zu (%lld positive), validation %zu, test %zu (%lld positive)\n",
              data.source.c_str(), data.train.texts.size(), (long long)data.train.positives(), data.val.texts.size(),
              data.test.texts.size(), (long long)data.test.positives());
  QAT_CHECK(data.test.positives() > 0 && data.test.positives() < int64_t(data.test.texts.size()),
            "the test split has only one class; use more data or another --seed");

  DemoTrainConfig tc;
  default_steps(f.task, large, data.train.texts.size(), tc.batch, &f.fp32_steps, &f.qat_steps);
  tc.large = large;
  tc.seed = f.seed;
  tc.fp32_steps = f.fp32_steps;
  tc.qat_steps = f.qat_steps;
  tc.threads = f.threads;
  tc.fp32_lr = f.fp32_lr;
  tc.qat_lr = f.qat_lr;
  tc.int8_qat_lr = f.int8_qat_lr;
  const ModelConfig mc = demo_model_config(data, large);
  std::printf("model: Gemma 3 architecture, %d layers, hidden %d, %llu parameters; %lld FP32 steps, %lld QAT steps\n",
              mc.num_hidden_layers, mc.hidden_size, (unsigned long long)parameter_count(mc),
              (long long)tc.fp32_steps, (long long)tc.qat_steps);

  std::vector<DemoRun> runs;
  auto phase = [&](const char* what, const std::function<DemoRun()>& work) {
    std::printf("\n%s\n", what);
    std::fflush(stdout);
    const auto p0 = Clock::now();
    runs.push_back(work());
    std::printf("  done in %.1f s: %s (%.2f MB)\n", std::chrono::duration<double>(Clock::now() - p0).count(),
                runs.back().file.c_str(), double(runs.back().size_bytes) / 1e6);
  };
  phase("[1/5] FP32 training", [&] { return train_fp32(data, tc, f.out + "/fp32.gguf"); });
  const std::string fp32 = runs[0].file;
  phase("[2/5] INT8 post-training quantization (Q8_0)",
        [&] { return post_training_quantize(fp32, "q8_0", f.out + "/int8-ptq.gguf", "INT8 PTQ"); });
  phase("[3/5] INT8 quantization-aware training (W8A8, distilled from FP32)",
        [&] { return quantization_aware_train(data, tc, fp32, "w8a8", f.out + "/int8-qat.gguf", "INT8 QAT"); });
  phase("[4/5] INT4 post-training quantization (Q4_0)",
        [&] { return post_training_quantize(fp32, "q4_0", f.out + "/int4-ptq.gguf", "INT4 PTQ"); });
  phase("[5/5] INT4 quantization-aware training (W4A8, distilled from FP32)",
        [&] { return quantization_aware_train(data, tc, fp32, "w4a8", f.out + "/int4-qat.gguf", "INT4 QAT"); });

  std::printf("\nmeasuring: test split with %d threads, latency over %d records at 1 thread, throughput at %d threads\n",
              f.threads, f.latency_records, f.threads);
  const int n_throughput = f.throughput_records > 0 ? f.throughput_records : std::max(200, 4 * f.latency_records);
  const auto m0 = Clock::now();
  for (DemoRun& r : runs) measure(data, r, f.threads, n_throughput);
  measure_latency(data, runs, f.latency_records);
  std::printf("  measured in %.1f s\n", std::chrono::duration<double>(Clock::now() - m0).count());

  BinaryMetrics base;
  const bool has_base = data.baseline_features > 0;
  if (has_base) {
    const LogisticModel lr = fit_logistic(data.baseline_features_train, data.train.labels, data.baseline_features, {});
    std::vector<double> s;
    for (const auto& x : data.baseline_features_test) s.push_back(lr.predict(x));
    base = binary_metrics(s, data.test.labels);
  }
  const std::vector<DemoGoal> goals = check_goals(data, runs);
  print_demo_table(data, runs, has_base ? &base : nullptr);
  std::printf("\ngoals:\n");
  for (const DemoGoal& g : goals) std::printf("  [%s] %s: %s\n", g.met ? "met" : "NOT MET", g.goal.c_str(), g.measured.c_str());

  std::vector<std::string> notes = {
      "INT8 = Q8_0 weights (32-weight blocks, one FP16 scale: 8.5 bits/weight), INT4 = Q4_0 (4.5 bits/weight); "
      "activations are quantized to Q8_0 per 32 values at run time (W8A8 / W4A8). Norms and the 2-class head stay FP32; "
      "under Q4_0 the tied embedding stays Q8_0.",
      "QAT: fine-tuned from the FP32 model with fake quantization identical to the deployed kernels, "
      "loss = distillation from the FP32 model's scores (temperature 1); INT4 block scales start at their "
      "least-squares values and are learned (LSQ); the exported GGUF is the trained model.",
      "Latency: one record at a time on one thread, from its JSON (as `qat score` reads it) to the score. "
      "Throughput: one session per thread. CPU time is getrusage user + system over the throughput run.",
      "Accuracy figures are on the test split (never trained on); all five models see the same split and seed."};
  const double total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  notes.push_back(cat("Whole run: ", int(total_s), " s on this machine."));
  const nlohmann::json report = demo_report_json(data, runs, has_base ? &base : nullptr, goals, command, notes);
  write_file_atomic(f.out + "/report.json", report.dump(2) + "\n");
  write_file_atomic(f.out + "/report.html", render_report_html(report));
  std::printf("\nwrote %s/report.html and %s/report.json (models: %s/*.gguf) in %.0f s\n", f.out.c_str(),
              f.out.c_str(), f.out.c_str(), total_s);
  std::printf("next: echo '<a JSON record>' | qat score -m %s/int4-qat.gguf   (records like %s/sample.jsonl)\n",
              f.out.c_str(), f.out.c_str());
  std::string sample;
  for (size_t i = 0; i < std::min<size_t>(20, data.test_records.size()); ++i) sample += data.test_records[i].dump() + "\n";
  write_file_atomic(f.out + "/sample.jsonl", sample);
}

}  // namespace

void add_demo(CLI::App& app) {
  auto f = std::make_shared<DemoFlags>();
  auto* cmd = app.add_subcommand(
      "demo", "The main job: train a fraud (or credit / scam) classifier at FP32, INT8 and INT4 with PTQ and QAT, "
              "and measure size, latency, throughput, CPU time and accuracy; writes report.html");
  cmd->add_option("--task", f->task, "fraud (simulated transactions) | credit | scam | engine (random-weight engine check)")
      ->capture_default_str();
  cmd->add_option("--size", f->size, "small (fits 10 minutes on 2 cores) | large (~25M parameters, ~100 MB FP32)")
      ->capture_default_str();
  cmd->add_option("-o,--out", f->out, "Directory for the models, report.html and report.json")->capture_default_str();
  cmd->add_option("--data", f->data, "credit: a .arff or .csv (default: German Credit); scam: JSONL(.gz) of e-mails");
  cmd->add_option("--seed", f->seed, "Seed for the simulator, the splits, initialisation and data order")
      ->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "Threads for training and the throughput run")->capture_default_str();
  cmd->add_option("--fraud-rate", f->fraud_rate, "fraud: share of fraudulent transactions in the simulation")
      ->capture_default_str();
  cmd->add_option("--customers", f->customers, "fraud: simulated customers (0: 2,000; large: 6,000)")
      ->capture_default_str();
  cmd->add_option("--test-records", f->test_records, "fraud: test split size (0: 5,000; large: 20,000)")
      ->capture_default_str();
  cmd->add_option("--fp32-steps", f->fp32_steps, "FP32 training steps (0: the task's default)")->capture_default_str();
  cmd->add_option("--qat-steps", f->qat_steps, "QAT steps per scheme (0: a quarter of the FP32 steps; credit: at least 150)")
      ->capture_default_str();
  cmd->add_option("--fp32-lr", f->fp32_lr, "FP32 peak learning rate")->capture_default_str();
  cmd->add_option("--qat-lr", f->qat_lr, "INT4 QAT peak learning rate (a fine-tuning rate)")->capture_default_str();
  // INT8's fake quantization moves the model little, so most of the
  // distillation gradient is noise, which AdamW turns into full-size steps.
  // At 5e-5, held-out seeds left INT8 QAT below 99.5 % of FP32 where INT8
  // PTQ was not (fraud --seed 2: recall @ 1 % FPR 98.48 %; Lending Club
  // --seed 1 / 2: KS 99.18 / 98.74 %); at 2e-5 all three were >= 99.8 %,
  // and German Credit's seven seeds stayed >= 99.9 %.
  cmd->add_option("--int8-qat-lr", f->int8_qat_lr, "INT8 QAT peak learning rate")->capture_default_str();
  cmd->add_option("--latency-records", f->latency_records, "Records timed one by one at 1 thread")
      ->capture_default_str();
  cmd->add_option("--throughput-records", f->throughput_records, "Records scored in the throughput run (0: 4x latency)")
      ->capture_default_str();
  cmd->add_option("--dir", f->dir, "engine: where to write the models (default: a new temporary directory)");
  cmd->add_flag("--skip-speed", f->skip_speed, "engine: skip the Gemma-3-270M-shaped speed run");
  cmd->callback([f] {
    if (f->task == "engine") return run_engine_demo(f->dir, f->skip_speed);
    run_finance_demo(*f);
  });
}

}  // namespace qat::cli
