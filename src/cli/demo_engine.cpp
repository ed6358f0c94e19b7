// qat demo --task engine: the inference engine end to end without training:
// creates random-weight Gemma 3 and Gemma 4 models, writes each as GGUF and
// as a HF checkpoint, reloads both, checks that all three give the same
// logits, generates text, and times decoding on a Gemma-3-270M-shaped model.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "cli/demo_report.h"
#include "model/forward.h"
#include "model/generate.h"
#include "model/model.h"

namespace qat::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<float> last_logits(const Model& m, const std::vector<int32_t>& ids) {
  Session s(m, 256);
  const float* l = s.forward(ids.data(), int(ids.size()));
  return {l, l + m.config.vocab_size};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

void demo_family(Family family, const std::string& dir) {
  const ModelConfig cfg = preset_config(family, "tiny");
  std::printf("\n== %s tiny: %llu parameters, %d layers, random weights (seed 42) ==\n",
              family_name(family), (unsigned long long)parameter_count(cfg), cfg.num_hidden_layers);
  auto model = init_random_model(cfg, 42);
  model->tokenizer = Tokenizer::byte_level(cfg.vocab_size);
  const std::string gguf = dir + "/" + family_name(family) + "-tiny.gguf";
  const std::string hf = dir + "/" + family_name(family) + "-tiny-hf";
  save_gguf_model(*model, gguf, TensorType::F32);
  save_hf_model(*model, hf, TensorType::F32);
  auto from_gguf = load_model(gguf);
  auto from_hf = load_model(hf);
  std::printf("  wrote %s and %s/\n", gguf.c_str(), hf.c_str());

  const std::string prompt = "Card ending 4421: $1,234.56 at 03:12 from a new device.";
  const std::vector<int32_t> ids = model->tokenizer->encode(prompt, true);
  const auto l0 = last_logits(*model, ids), l1 = last_logits(*from_gguf, ids), l2 = last_logits(*from_hf, ids);
  std::printf("  %zu prompt tokens; max |logit difference| vs in-memory model: GGUF %.2g, HF %.2g\n",
              ids.size(), max_abs_diff(l0, l1), max_abs_diff(l0, l2));

  Session session(*from_gguf, 512);
  Sampler sampler({0.0f, 0, 1.0f, 0});
  std::string text;
  Utf8Stream stream;
  GenerationStats st = generate(session, ids, 24, sampler, {}, [&](int32_t t) {
    text += stream.push(from_gguf->tokenizer->token_bytes(t));
    return true;
  });
  text += stream.flush();
  std::string shown;
  for (unsigned char ch : text) shown += (ch >= 32 && ch < 127) ? char(ch) : '.';
  std::printf("  greedy continuation (random weights, so noise): \"%s\"\n", shown.c_str());
  std::printf("  prompt %.0f tokens/s, generation %.0f tokens/s\n", st.prompt_tps(), st.generate_tps());
}

void demo_speed(int n_decode) {
  const ModelConfig cfg = preset_config(Family::Gemma3, "270m");
  std::printf("\n== Gemma-3-270M shape, FP32, random weights ==\n");
  auto t0 = Clock::now();
  auto model = init_random_model(cfg, 1);
  std::printf("  initialized %llu parameters in %.1f s\n", (unsigned long long)parameter_count(cfg),
              seconds_since(t0));
  std::vector<int32_t> prompt(64);
  for (int i = 0; i < 64; ++i) prompt[size_t(i)] = 1000 + 37 * i;
  Session session(*model, 1024);
  Sampler sampler({0.0f, 0, 1.0f, 0});
  GenerationStats st = generate(session, prompt, n_decode, sampler, {}, [](int32_t) { return true; });
  uint64_t bytes = 0;
  for (const auto& s : tensor_slots(model->config, model->weights)) bytes += s.tensor->nbytes();
  std::printf("  prefill: 64 tokens at %.1f tokens/s\n", st.prompt_tps());
  std::printf("  decode:  %d tokens at %.1f tokens/s, %.0f MiB of weights read per token (%.1f GB/s)\n",
              st.decode_steps, st.generate_tps(), double(bytes) / (1 << 20),
              double(bytes) * st.generate_tps() / 1e9);
}

}  // namespace

void run_engine_demo(const std::string& dir_flag, bool skip_speed) {
  std::string dir = dir_flag;
  if (dir.empty()) {
    // $TMPDIR when set, as std::filesystem reads it; /tmp otherwise.
    std::string tmpl = (std::filesystem::temp_directory_path() / "qat-demo-XXXXXX").string();
    QAT_CHECK(::mkdtemp(tmpl.data()) != nullptr, "cannot create a temporary directory like " + tmpl);
    dir = tmpl;
  } else {
    std::filesystem::create_directories(dir);
  }
  std::printf("qat demo --task engine: random-weight models, no downloads. Output in %s\n", dir.c_str());
  demo_family(Family::Gemma3, dir);
  demo_family(Family::Gemma4, dir);
  if (!skip_speed) demo_speed(32);
  std::printf("\nNext: qat info %s/gemma4-tiny.gguf   |   qat run -m %s/gemma3-tiny.gguf -p \"Hello\"\n",
              dir.c_str(), dir.c_str());
}

}  // namespace qat::cli
