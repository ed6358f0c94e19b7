#include "cli/generation_options.h"

#include <algorithm>

#include "base/error.h"
#include "cli/commands.h"
#include "model/memory_check.h"

namespace qat::cli {

void add_generation_options(CLI::App* cmd, GenerationOptions& o) {
  cmd->add_option("-m,--model", o.model_path, "Model: GGUF file or HF checkpoint directory")->required();
  cmd->add_option("-n,--n-predict", o.n_predict, "Tokens to generate at most")->capture_default_str();
  cmd->add_option("-c,--ctx", o.ctx, "Context size in tokens (capped by the model's maximum)")->capture_default_str();
  cmd->add_option("-t,--threads", o.threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--temp", o.sampler.temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", o.sampler.top_k, "Keep the k most likely tokens (0 = all)")->capture_default_str();
  cmd->add_option("--top-p", o.sampler.top_p, "Keep the smallest set with this probability mass")->capture_default_str();
  cmd->add_option("--seed", o.sampler.seed, "Sampling seed")->capture_default_str();
}

std::unique_ptr<Model> load_model_for_generation(const GenerationOptions& o) {
  QAT_CHECK(o.n_predict >= 0, "--n-predict must be >= 0, got ", o.n_predict);
  QAT_CHECK(o.ctx > 0, "--ctx must be positive, got ", o.ctx);
  set_threads(o.threads);
  auto model = load_model(o.model_path);
  if (!model->tokenizer)
    throw Error(o.model_path + ": the model has no tokenizer",
                "convert it from a HF directory that has tokenizer.json, or create it with `qat init --tokenizer FILE`");
  // Fail now, with sizes and a hint, rather than be OOM-killed mid-generation.
  check_model_fits_in_memory(*model, effective_context(o, *model));
  model->prepare_matrices_for_kernels();
  return model;
}

int effective_context(const GenerationOptions& o, const Model& m) {
  return std::min(o.ctx, m.config.max_position_embeddings);
}

std::vector<int32_t> stop_ids(const Model& m) {
  std::vector<int32_t> ids = {m.tokenizer->special().eos};
  if (m.tokenizer->special().end_of_turn >= 0) ids.push_back(m.tokenizer->special().end_of_turn);
  return ids;
}

}  // namespace qat::cli
