// qat bench: prompt processing (ppN) and token generation (tgN) speed, in the
// manner of llama-bench so the two can be compared on the same file:
//  - ppN: one forward pass over N random tokens (<bos> first) on a fresh
//    session; only the last row's logits are computed, as llama-bench does.
//  - tgN: N single-token decode steps on a fresh session with no prompt,
//    starting from <bos>, then random tokens.
// Each test runs once untimed (warm-up: page in the weights, grow buffers),
// then -r timed repetitions; t/s is the mean ± sample sd over repetitions.
// For tg tests the weight bytes streamed per second are set against the
// machine's read bandwidth for the same thread count (measured first).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "base/error.h"
#include "base/progress.h"
#include "base/memory_info.h"
#include "cli/bench_report.h"
#include "cli/commands.h"
#include "cli/memory_bandwidth.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/weight_traffic.h"

namespace qat::cli {

namespace {

struct BenchFlags {
  std::vector<std::string> models;
  std::vector<int> threads;  // empty: all cores
  std::vector<int> n_prompt = {512};
  int n_gen = 128;
  int reps = 5;
  std::string output = "md";
  bool bandwidth = true;  // measure the read bandwidth per thread count
};

void validate(const BenchFlags& f) {
  for (const auto& m : f.models)
    QAT_CHECK(std::filesystem::exists(m), m, ": no such model file or directory");
  for (int t : f.threads) QAT_CHECK(t >= 1, "-t: thread counts must be >= 1, got ", t);
  for (int p : f.n_prompt) QAT_CHECK(p >= 0, "-p: prompt lengths must be >= 0 (0 = no pp test), got ", p);
  QAT_CHECK(f.n_gen >= 0, "-n must be >= 0 (0 = no tg test), got ", f.n_gen);
  const bool any_pp = std::any_of(f.n_prompt.begin(), f.n_prompt.end(), [](int p) { return p > 0; });
  QAT_CHECK(any_pp || f.n_gen > 0, "-p 0 and -n 0: nothing to measure");
  QAT_CHECK(f.reps >= 1, "-r must be >= 1, got ", f.reps);
}

// Storage type that holds the most matrix bytes: what llama-bench calls the
// model's type ("Q4_0" even when the embedding stays Q8_0).
std::string dominant_type(const Model& m, uint64_t* total_bytes) {
  ModelWeights w = m.weights;  // tensor_slots wants mutable weights; the copy shares data
  std::map<std::string, uint64_t> by_type;
  *total_bytes = 0;
  for (const auto& s : tensor_slots(m.config, w)) {
    if (!s.tensor->present()) continue;
    *total_bytes += s.tensor->nbytes();
    if (s.role == TensorRole::Matrix || s.role == TensorRole::Embedding)
      by_type[tensor_type_name(s.tensor->type)] += s.tensor->nbytes();
  }
  std::string best;
  uint64_t most = 0;
  for (const auto& [name, bytes] : by_type)
    if (bytes > most) most = bytes, best = name;
  return best;
}

std::vector<int32_t> random_tokens(int n, const Model& m, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, m.config.vocab_size - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = pick(rng);
  t[0] = m.config.bos_token_id;
  return t;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One repetition; returns tokens/s. Session setup is not timed.
double run_once(const Model& m, int n_prompt, int n_gen, std::mt19937& rng) {
  if (n_prompt > 0) {
    const auto tokens = random_tokens(n_prompt, m, rng);
    Session s(m, n_prompt, n_prompt);
    const auto t0 = std::chrono::steady_clock::now();
    s.forward(tokens.data(), n_prompt, false);
    return n_prompt / seconds_since(t0);
  }
  const auto tokens = random_tokens(n_gen, m, rng);
  Session s(m, n_gen, 1);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n_gen; ++i) s.forward(&tokens[size_t(i)], 1, false);
  return n_gen / seconds_since(t0);
}

void run_bench(const BenchFlags& f) {
  validate(f);
  std::vector<std::pair<int, int>> tests;  // (n_prompt, n_gen)
  for (int p : f.n_prompt)
    if (p > 0) tests.push_back({p, 0});
  if (f.n_gen > 0) tests.push_back({0, f.n_gen});
  Progress progress("bench", uint64_t(f.models.size() * f.threads.size() * tests.size()) * uint64_t(f.reps + 1),
                    "runs");
  std::vector<BenchResult> results;
  for (const auto& path : f.models) {
    auto model = load_model(path);
    model->prepare_matrices_for_kernels();
    BenchResult base;
    base.model_path = path;
    base.type = dominant_type(*model, &base.size_bytes);
    // Weight-only models say so: their quantized products take FP32 activations.
    const bool weight_only = model->config.activation_quant == ActivationQuant::None &&
                             (base.type == "Q4_0" || base.type == "Q8_0");
    base.model_label = std::filesystem::path(path).filename().string() + " (" +
                       family_name(model->config.family) + " " + base.type + (weight_only ? ", A16" : "") + ")";
    base.params = parameter_count(model->config);
    base.weight_bytes_per_token = weight_bytes_per_token(*model);
    for (auto [p, n] : tests)
      QAT_CHECK(std::max(p, n) <= model->config.max_position_embeddings, path, ": test of ",
                std::max(p, n), " tokens exceeds the model's ", model->config.max_position_embeddings,
                " positions");
    for (int t : f.threads) {
      set_threads(t);
      for (auto [p, n] : tests) {
        BenchResult r = base;
        r.threads = t, r.n_prompt = p, r.n_gen = n;
        std::mt19937 rng(1234);  // same tokens for every model and thread count
        run_once(*model, p, n, rng);  // warm-up
        progress.add();
        for (int i = 0; i < f.reps; ++i) {
          r.samples_ts.push_back(run_once(*model, p, n, rng));
          progress.add();
        }
        r.peak_rss_bytes = peak_rss_bytes();
        results.push_back(std::move(r));
      }
    }
  }
  progress.finish();
  // Bandwidth bound per thread count, measured last so its 512 MiB buffer
  // does not enter the peak RSS recorded for the models.
  if (f.bandwidth && f.n_gen > 0) {
    std::map<int, double> bandwidth;
    for (int t : f.threads) bandwidth[t] = measure_read_bandwidth_gbps(t);
    for (auto& r : results)
      if (r.n_gen > 0) r.mem_read_gbps = bandwidth[r.threads];
  }
  const std::string out = f.output == "json" ? bench_json(results) : bench_markdown(results);
  std::fputs(out.c_str(), stdout);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Prompt processing and generation speed, like llama-bench");
  cmd->add_option("-m,--model", f->models, "Model files (repeat the flag or give a comma list)")
      ->required()
      ->delimiter(',');
  cmd->add_option("-t,--threads", f->threads, "Thread counts, comma list (default: all cores)")
      ->delimiter(',');
  cmd->add_option("-p,--n-prompt", f->n_prompt, "Prompt lengths for pp tests, comma list (0 = no pp test)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", f->n_gen, "Tokens for the tg test (0 = no tg test)")->capture_default_str();
  cmd->add_option("-r,--repetitions", f->reps, "Timed repetitions of each test")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Output format: md or json")
      ->check(CLI::IsMember({"md", "json"}))
      ->capture_default_str();
  cmd->add_flag("!--no-bandwidth", f->bandwidth,
                "Skip measuring the memory read bandwidth (the tg tests' bound; about 2 s per thread count)");
  cmd->callback([f] {
    if (f->threads.empty()) f->threads = {omp_get_max_threads()};  // all cores
    run_bench(*f);
  });
}

}  // namespace qat::cli
