// Flags shared by `qat run` and `qat chat`.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "model/model.h"
#include "model/sampler.h"

namespace qat::cli {

struct GenerationOptions {
  std::string model_path;
  int n_predict = 128;
  int ctx = 4096;
  int threads = 0;
  SamplerParams sampler;
};

void add_generation_options(CLI::App* cmd, GenerationOptions& o);
// Loads the model named by -m, checks it has a tokenizer and that it fits in
// memory with a KV cache of effective_context() positions.
std::unique_ptr<Model> load_model_for_generation(const GenerationOptions& o);
// Context size actually used: --ctx capped by the model's max positions.
int effective_context(const GenerationOptions& o, const Model& m);
// Ids that end a reply: <eos> and, where the vocabulary has it, <end_of_turn>.
std::vector<int32_t> stop_ids(const Model& m);

}  // namespace qat::cli
