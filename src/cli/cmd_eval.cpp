// qat eval ppl | kld: perplexity of a model over a text file, and KL
// divergence / top-1 agreement of a (quantized) model against its base model,
// computed as llama-perplexity does (see src/eval/chunks.h for the windows).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "cli/commands.h"
#include "eval/kld.h"
#include "eval/perplexity.h"
#include "eval/stats.h"

namespace qat::cli {

namespace {

struct EvalFlags {
  std::string model, base, text;
  int threads = 0;
  EvalOptions eval;
};

void add_common_flags(CLI::App* cmd, EvalFlags& f) {
  cmd->add_option("-m,--model", f.model, "Model: GGUF file or HF checkpoint directory")->required();
  cmd->add_option("--text", f.text, "UTF-8 text file to evaluate on")->required();
  cmd->add_option("-c,--ctx", f.eval.ctx, "Window length in tokens; the second half of each window is scored")
      ->capture_default_str();
  cmd->add_option("--chunks", f.eval.max_chunks, "Evaluate at most this many windows (0 = all)")
      ->capture_default_str();
  cmd->add_option("-b,--batch", f.eval.batch, "Tokens per forward step while scoring")->capture_default_str();
  cmd->add_option("-t,--threads", f.threads, "Threads (0 = all cores)")->capture_default_str();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open the text file");
  std::stringstream ss;
  ss << in.rdbuf();
  QAT_CHECK(!in.bad(), path, ": read error");
  return ss.str();
}

std::unique_ptr<Model> load_with_tokenizer(const std::string& path) {
  auto model = load_model(path);
  model->prepare_matrices_for_kernels();
  if (!model->tokenizer)
    throw Error(path + ": the model has no tokenizer, so the text cannot be encoded",
                "convert it from a HF directory that has tokenizer.json, or create it with `qat init --tokenizer FILE`");
  return model;
}

// Checks flags, loads the text and encodes it with the model's tokenizer.
std::vector<int32_t> encode_text(const EvalFlags& f, const Model& model) {
  QAT_CHECK(f.eval.max_chunks >= 0, "--chunks must be >= 0, got ", f.eval.max_chunks);
  const std::string text = read_text(f.text);
  std::vector<int32_t> tokens = model.tokenizer->encode(text, true);
  std::fprintf(stderr, "%s: %zu bytes, %zu tokens\n", f.text.c_str(), text.size(), tokens.size());
  return tokens;
}

// "[3/40] ... 12.1 s, ETA 149.2 s" on stderr after each window.
class ChunkLog {
 public:
  void line(int chunk, int n_chunks, const std::string& what) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = elapsed / (chunk + 1) * (n_chunks - chunk - 1);
    std::fprintf(stderr, "[%d/%d] %s  %.1f s, ETA %.1f s\n", chunk + 1, n_chunks, what.c_str(),
                 elapsed, eta);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// "%.4f", or scientific notation for the astronomic perplexities of
// random-weight models.
std::string ppl_str(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1e7 ? "%.4f" : "%.4e", v);
  return buf;
}

void print_plan(const EvalFlags& f, const ChunkPlan& p, int64_t scored) {
  std::printf("text: %s, %d windows of %d tokens, %lld tokens scored (rows %d..%d of each window)\n",
              f.text.c_str(), p.n_chunks, p.ctx, (long long)scored, p.first, p.ctx - 2);
}

void run_ppl(const EvalFlags& f) {
  set_threads(f.threads);
  auto model = load_with_tokenizer(f.model);
  const auto tokens = encode_text(f, *model);
  ChunkLog log;
  ChunkPlan plan;
  const NllAccumulator acc = evaluate_perplexity(
      *model, tokens, f.eval, [&](int c, const ChunkPlan& p, const NllAccumulator& a) {
        plan = p;
        log.line(c, p.n_chunks, "ppl " + ppl_str(a.ppl()));
      });
  std::printf("model: %s\n", f.model.c_str());
  print_plan(f, plan, acc.count());
  std::printf("PPL = %s ± %s\n", ppl_str(acc.ppl()).c_str(), ppl_str(acc.ppl_error()).c_str());
}

void run_kld(const EvalFlags& f) {
  set_threads(f.threads);
  auto test = load_with_tokenizer(f.model);
  auto base = load_model(f.base);
  base->prepare_matrices_for_kernels();
  const auto tokens = encode_text(f, *test);
  ChunkLog log;
  ChunkPlan plan;
  const KldResult r = evaluate_kld(*test, *base, tokens, f.eval,
                                   [&](int c, const ChunkPlan& p, const KldResult& x) {
                                     plan = p;
                                     log.line(c, p.n_chunks,
                                              cat("mean KLD ", x.mean_kld().value, ", same top ",
                                                  100 * x.same_top_fraction().value, " %"));
                                   });
  const auto pct = [&](double p) { return percentile(r.kld, p); };
  std::printf("model: %s\nbase:  %s\n", f.model.c_str(), f.base.c_str());
  print_plan(f, plan, r.count());
  std::printf("\n====== Perplexity ======\n");
  std::printf("PPL(model)              : %s ± %s\n", ppl_str(r.test.ppl()).c_str(),
              ppl_str(r.test.ppl_error()).c_str());
  std::printf("PPL(base)               : %s ± %s\n", ppl_str(r.base.ppl()).c_str(),
              ppl_str(r.base.ppl_error()).c_str());
  std::printf("ln(PPL(model)/PPL(base)): %10.6f\n", r.test.mean_nll() - r.base.mean_nll());
  std::printf("\n====== KL divergence (nats) ======\n");
  std::printf("Mean    KLD: %10.6f ± %.6f\n", r.mean_kld().value, r.mean_kld().error);
  std::printf("Maximum KLD: %10.6f\n", pct(1.0));
  std::printf("99.9%%   KLD: %10.6f\n", pct(0.999));
  std::printf("99.0%%   KLD: %10.6f\n", pct(0.99));
  std::printf("Median  KLD: %10.6f\n", pct(0.5));
  std::printf("10.0%%   KLD: %10.6f\n", pct(0.10));
  std::printf("Minimum KLD: %10.6f\n", pct(0.0));
  std::printf("\n====== Token probability ======\n");
  std::printf("Mean Δp    : %8.4f ± %.4f %%\n", 100 * r.mean_dp().value, 100 * r.mean_dp().error);
  std::printf("RMS Δp     : %8.4f ± %.4f %%\n", 100 * r.rms_dp().value, 100 * r.rms_dp().error);
  std::printf("Same top p : %8.4f ± %.4f %%\n", 100 * r.same_top_fraction().value,
              100 * r.same_top_fraction().error);
}

}  // namespace

void add_eval(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Evaluate models on a text: perplexity, KL divergence, top-1 agreement; compare PTQ / QAT models");
  eval->require_subcommand(1);

  auto ppl = std::make_shared<EvalFlags>();
  auto* p = eval->add_subcommand("ppl", "Perplexity over a text file (llama-perplexity's windows)");
  add_common_flags(p, *ppl);
  p->callback([ppl] { run_ppl(*ppl); });

  auto kld = std::make_shared<EvalFlags>();
  auto* k = eval->add_subcommand("kld", "KL divergence, same top token and Δp of a model against its base");
  add_common_flags(k, *kld);
  k->add_option("--base", kld->base, "Base (full precision) model to compare against")->required();
  k->callback([kld] { run_kld(*kld); });

  add_eval_compare(*eval);
}

}  // namespace qat::cli
