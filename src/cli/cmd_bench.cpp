// qat bench: prompt processing (ppN) and token generation (tgN) speed, in the
// manner of llama-bench so the two can be compared on the same file:
//  - ppN: one forward pass over N random tokens (<bos> first) on a fresh
//    session; only the last row's logits are computed, as llama-bench does.
//  - tgN: N single-token decode steps on a fresh session with no prompt,
//    starting from <bos>, then random tokens.
// Each test runs once untimed (warm-up: page in the weights, grow buffers),
// then -r timed repetitions; t/s is the mean ± sample sd over repetitions.
// For tg tests the weight bytes streamed per second are set against the
// machine's read bandwidth for the same thread count (measured last).
// --interleave loads every model first and runs each repetition on every
// model in turn: on a shared machine whose load and memory bandwidth drift
// (the 2-thread read bandwidth here measured 29 GB/s in one minute and 59 in
// another), ratios between models then compare like with like.
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
  bool bandwidth = true;    // measure the read bandwidth per thread count
  bool interleave = false;  // repetitions take turns across the models
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

struct LoadedModel {
  std::unique_ptr<Model> model;
  BenchResult base;  // what every result of this model shares
};

LoadedModel load_for_bench(const std::string& path, const std::vector<std::pair<int, int>>& tests) {
  LoadedModel l;
  l.model = load_model(path);
  Model& m = *l.model;
  m.prepare_matrices_for_kernels();
  BenchResult& base = l.base;
  base.model_path = path;
  const std::string dominant = dominant_type(m, &base.size_bytes);
  // The file's own general.file_type names mixes as llama-bench does ("Q4_K -
  // Medium", where the most bytes are the Q6_K embedding); without it, the
  // type holding the most bytes.
  const std::string named = m.file_type ? gguf_file_type_name(*m.file_type) : std::string();
  base.type = named.empty() ? dominant : named;
  // Weight-only models say so: their quantized products take FP32 activations.
  const bool weight_only =
      m.config.activation_quant == ActivationQuant::None && (dominant == "Q4_0" || dominant == "Q8_0");
  base.model_label = std::filesystem::path(path).filename().string() + " (" + family_name(m.config.family) + " " +
                     base.type + (weight_only ? ", A16" : "") + ")";
  base.params = parameter_count(m.config);
  base.weight_bytes_per_token = weight_bytes_per_token(m);
  for (auto [p, n] : tests)
    QAT_CHECK(std::max(p, n) <= m.config.max_position_embeddings, path, ": test of ", std::max(p, n),
              " tokens exceeds the model's ", m.config.max_position_embeddings, " positions");
  return l;
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
  // Runs `test` on every model in `group` (one model, or all of them with
  // --interleave): a warm-up each, then the repetitions, model after model
  // within each repetition.
  const auto run_test = [&](std::vector<LoadedModel>& group, int threads, std::pair<int, int> test) {
    set_threads(threads);
    std::vector<BenchResult> rs;
    std::vector<std::mt19937> rngs;
    for (LoadedModel& l : group) {
      BenchResult r = l.base;
      r.threads = threads, r.n_prompt = test.first, r.n_gen = test.second;
      rs.push_back(r);
      rngs.emplace_back(1234);  // same tokens for every model and thread count
      run_once(*l.model, test.first, test.second, rngs.back());  // warm-up
      progress.add();
    }
    for (int i = 0; i < f.reps; ++i)
      for (size_t k = 0; k < group.size(); ++k) {
        rs[k].samples_ts.push_back(run_once(*group[k].model, test.first, test.second, rngs[k]));
        progress.add();
      }
    for (BenchResult& r : rs) r.peak_rss_bytes = peak_rss_bytes();
    return rs;
  };
  if (f.interleave) {
    std::vector<LoadedModel> all;
    for (const auto& path : f.models) all.push_back(load_for_bench(path, tests));
    std::vector<std::vector<BenchResult>> per_model(all.size());
    for (int t : f.threads)
      for (auto test : tests) {
        auto rs = run_test(all, t, test);
        for (size_t k = 0; k < rs.size(); ++k) per_model[k].push_back(std::move(rs[k]));
      }
    for (auto& v : per_model)
      for (auto& r : v) results.push_back(std::move(r));
  } else {
    for (const auto& path : f.models) {
      std::vector<LoadedModel> one;
      one.push_back(load_for_bench(path, tests));
      for (int t : f.threads)
        for (auto test : tests)
          for (auto& r : run_test(one, t, test)) results.push_back(std::move(r));
    }
  }
  progress.finish();
  // Bandwidth bound per thread count, measured last so its 512 MiB buffer
  // does not enter the peak RSS recorded for the models.
  if (f.bandwidth && f.n_gen > 0) {
    std::map<int, ReadBandwidth> bandwidth;
    for (int t : f.threads) bandwidth[t] = measure_read_bandwidth(t);
    for (auto& r : results)
      if (r.n_gen > 0) {
        r.mem_read_gbps = bandwidth[r.threads].best_gbps;
        r.mem_read_median_gbps = bandwidth[r.threads].median_gbps;
      }
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
  cmd->add_flag("--interleave", f->interleave,
                "Load every -m model first and let their repetitions take turns, so that the machine's "
                "load and memory bandwidth changes fall on all of them alike (for ratios between models; "
                "peak RSS then covers all of them)");
  cmd->add_flag("!--no-bandwidth", f->bandwidth,
                "Skip measuring the memory read bandwidth (the tg tests' bound; about 2 s per thread count)");
  cmd->callback([f] {
    if (f->threads.empty()) f->threads = {omp_get_max_threads()};  // all cores
    run_bench(*f);
  });
}

}  // namespace qat::cli
