// qat init: a model with random weights in a published or test shape.
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace qat::cli {

void add_init(CLI::App& app) {
  struct Opts {
    std::string arch = "gemma3", preset = "tiny", out, dtype = "f32", tokenizer;
    uint64_t seed = 0;
    int layers = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("init", "Create a model with random weights (tests, benchmarks)");
  cmd->add_option("--arch", o->arch, "Model family: gemma3 | gemma4")->capture_default_str();
  cmd->add_option("--preset", o->preset,
                  "Shape: gemma3: tiny small 270m 1b 4b; gemma4: tiny tiny-moe small e2b e4b 26b-a4b 31b")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--layers", o->layers,
                  "Keep only the first N layers of the preset (0 = all): a published width at a size that "
                  "fits a quick benchmark")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Storage type of matrices: f32 | f16 | bf16")->capture_default_str();
  cmd->add_option("--tokenizer", o->tokenizer,
                  "tokenizer.json or tokenizer.model to embed (default: a byte-level Gemma-style vocabulary)");
  cmd->add_option("-o,--output", o->out, "Output file (.gguf) or directory (HF checkpoint)")->required();
  cmd->callback([o] {
    const Family family = parse_family(o->arch);
    ModelConfig config = preset_config(family, o->preset);
    if (o->layers != 0) {
      QAT_CHECK(o->layers > 0 && o->layers <= config.num_hidden_layers, "--layers must be in [1, ",
                config.num_hidden_layers, "] for preset ", o->preset, ", got ", o->layers);
      QAT_CHECK(o->layers > config.num_kv_shared_layers, "--layers ", o->layers, " leaves no layer of preset ",
                o->preset, " that computes its own KV (", config.num_kv_shared_layers, " share)");
      config.num_hidden_layers = o->layers;
      if (!config.layer_sliding.empty()) config.layer_sliding.resize(size_t(o->layers));
    }
    const TensorType type = parse_tensor_type(o->dtype);
    QAT_CHECK(type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16,
              "--dtype must be f32, f16 or bf16");
    std::unique_ptr<Tokenizer> tokenizer;
    if (!o->tokenizer.empty()) {
      const bool is_json = o->tokenizer.size() >= 5 && o->tokenizer.substr(o->tokenizer.size() - 5) == ".json";
      tokenizer = is_json ? Tokenizer::from_tokenizer_json(o->tokenizer) : Tokenizer::from_sentencepiece(o->tokenizer);
      if (tokenizer->vocab_size() > config.vocab_size) {
        std::fprintf(stderr, "note: vocab_size raised from %d to %d to fit %s\n", config.vocab_size,
                     tokenizer->vocab_size(), o->tokenizer.c_str());
        config.vocab_size = tokenizer->vocab_size();
        if (config.vocab_size_per_layer_input > 0) config.vocab_size_per_layer_input = config.vocab_size;
      }
    } else {
      tokenizer = Tokenizer::byte_level(config.vocab_size);
    }
    auto model = init_random_model(config, o->seed, type);
    model->tokenizer = std::move(tokenizer);
    const bool hf = o->out.size() < 5 || o->out.substr(o->out.size() - 5) != ".gguf";
    if (hf)
      save_hf_model(*model, o->out, type);
    else
      save_gguf_model(*model, o->out, type);
    std::printf("wrote %s: %s %s, %llu parameters, seed %llu\n", o->out.c_str(), o->arch.c_str(),
                o->preset.c_str(), (unsigned long long)parameter_count(config),
                (unsigned long long)o->seed);
  });
}

}  // namespace qat::cli
