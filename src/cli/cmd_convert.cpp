// qat convert: HF checkpoint directory <-> GGUF, with a storage type.
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "model/model.h"

namespace qat::cli {

void add_convert(CLI::App& app) {
  struct Opts {
    std::string in, out, dtype = "f32";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("convert", "Convert between a HF checkpoint directory and GGUF");
  cmd->add_option("IN", o->in, "Input: HF checkpoint directory or .gguf file")->required();
  cmd->add_option("OUT", o->out, "Output: .gguf file, or a directory for a HF checkpoint")->required();
  cmd->add_option("--dtype", o->dtype, "Storage type of matrices and embeddings: f32 | f16 | bf16 "
                  "(norms stay F32)")->capture_default_str();
  cmd->callback([o] {
    const TensorType type = parse_tensor_type(o->dtype);
    QAT_CHECK(type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16,
              "--dtype must be f32, f16 or bf16 (quantized types come with `qat quantize`)");
    QAT_CHECK(o->in != o->out, "input and output are the same path");
    auto t0 = std::chrono::steady_clock::now();
    auto model = load_model(o->in);
    const bool to_gguf = o->out.size() >= 5 && o->out.substr(o->out.size() - 5) == ".gguf";
    if (to_gguf)
      save_gguf_model(*model, o->out, type);
    else
      save_hf_model(*model, o->out, type);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("converted %s -> %s (%s, %s) in %.1f s\n", o->in.c_str(), o->out.c_str(),
                family_name(model->config.family), o->dtype.c_str(), s);
  });
}

}  // namespace qat::cli
