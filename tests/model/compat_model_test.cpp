// Models in llama.cpp's mixed files: matrices (and the tied embedding) in
// Q4_1 .. Q6_K, IQ4_NL / IQ4_XS, the codebook types IQ1_* .. IQ3_* and the
// ternary TQ1_0 / TQ2_0, as llama-quantize's q4_0 / Q4_K_M / IQ3_M / ... write them. The
// logits must be close to those of the FP32 model holding the dequantized
// weights (only the activations' Q8_0 rounding differs), the types survive a
// GGUF round trip, prepare_matrices_for_kernels changes nothing, and an F32
// export holds exactly the dequantized weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "base/error.h"
#include "base/fp16.h"
#include "formats/gguf.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/tensor_convert.h"
#include "quant/ggml_compat_types.h"

namespace qat {
namespace {

// Random blocks whose values have a standard deviation of roughly `scale`
// (the fp16 fields set so codes x sub-scales land there).
void fill_random_blocks(TensorType t, uint8_t* p, int64_t numel, std::mt19937& rng, float scale) {
  const TensorTypeInfo& info = tensor_type_info(t);
  const int64_t nblocks = numel / info.block_size;
  for (int64_t i = 0; i < int64_t(nblocks) * info.block_bytes; ++i) p[i] = uint8_t(rng());
  std::uniform_real_distribution<float> ud(0.5f, 1.5f);
  auto put = [&](uint8_t* at, float v) {
    const uint16_t h = f32_to_fp16(v);
    std::memcpy(at, &h, 2);
  };
  for (int64_t b = 0; b < nblocks; ++b) {
    uint8_t* blk = p + b * info.block_bytes;
    switch (t) {
      case TensorType::Q6_K: put(blk + 208, scale / (64.0f * 18.0f) * ud(rng)); break;  // |sc| ~ 64, |q| ~ 18
      case TensorType::Q4_K:
      case TensorType::Q5_K: {
        const float top = t == TensorType::Q4_K ? 15.0f : 31.0f;
        put(blk, 2.0f * scale / (32.0f * top) * ud(rng));    // d * sc * q spans ~ 2 scale
        put(blk + 2, scale / 32.0f * ud(rng));               // dmin * mn ~ scale: centres the block
        break;
      }
      case TensorType::Q2_K:
        put(blk + 80, 2.0f * scale / (15.0f * 3.0f) * ud(rng));  // d * sc * q spans ~ 2 scale
        put(blk + 82, scale / 15.0f * ud(rng));                  // dmin * mn ~ scale / 2
        break;
      case TensorType::Q3_K: put(blk + 108, scale / (16.0f * 2.0f) * ud(rng)); break;  // |sc| ~ 16, |q| ~ 2
      case TensorType::Q5_0: put(blk, scale / 9.0f * ud(rng)); break;
      case TensorType::IQ4_NL: put(blk, scale / 60.0f * ud(rng)); break;           // |level| ~ 60
      case TensorType::IQ4_XS: put(blk, scale / (16.0f * 60.0f) * ud(rng)); break;  // |ls - 32| ~ 16
      case TensorType::Q4_1:
      case TensorType::Q5_1: {
        const float top = t == TensorType::Q4_1 ? 15.0f : 31.0f;
        put(blk, 3.0f * scale / top * ud(rng));
        put(blk + 2, -1.5f * scale * ud(rng));
        break;
      }
      case TensorType::IQ2_XXS:
      case TensorType::IQ2_XS:
      case TensorType::IQ2_S: put(blk, scale / 50.0f * ud(rng)); break;    // (2 ls + 1) / 8 ~ 2, |level| ~ 25
      case TensorType::IQ3_XXS: put(blk, scale / 132.0f * ud(rng)); break;  // (2 ls + 1) / 4 ~ 4, |level| ~ 33
      case TensorType::IQ3_S: put(blk, scale / 128.0f * ud(rng)); break;    // 2 ls + 1 ~ 16, |level| ~ 8
      case TensorType::IQ1_S: put(blk, scale / 6.0f * ud(rng)); break;      // (2 ls + 1) / 8 ~ 1, |8 g +- 1| ~ 6
      case TensorType::IQ1_M: {  // d is the top nibbles of the four u16 scales at byte 48
        const uint16_t h = f32_to_fp16(scale / 6.0f * ud(rng));
        for (int k = 0; k < 4; ++k) blk[49 + 2 * k] = uint8_t((blk[49 + 2 * k] & 0x0f) | (((h >> (4 * k)) & 0x0f) << 4));
        break;
      }
      case TensorType::TQ1_0: put(blk + 52, scale * ud(rng)); break;
      case TensorType::TQ2_0: put(blk + 64, scale * ud(rng)); break;
      default: FAIL() << "not a compat type";
    }
  }
}

// As llama-quantize does: `type` where rows are whole blocks of it, else Q5_0.
TensorType pick(TensorType type, int64_t cols) {
  return cols % int64_t(tensor_type_info(type).block_size) == 0 ? type : TensorType::Q5_0;
}

// Puts every matrix and the embedding of `m` in compat types (the embedding
// in `embed_type`); returns the FP32 model holding the dequantized values.
std::unique_ptr<Model> to_compat(Model& m, TensorType type, TensorType embed_type, uint32_t seed) {
  std::mt19937 rng(seed);
  auto deq = init_random_model(m.config, 0);
  auto src = tensor_slots(m.config, m.weights);
  auto dst = tensor_slots(deq->config, deq->weights);
  for (size_t i = 0; i < src.size(); ++i) {
    Tensor& t = *src[i].tensor;
    const bool embed = &t == &m.weights.embed;
    if ((src[i].role == TensorRole::Matrix || embed) && t.cols() % 32 == 0) {
      const TensorType want = pick(embed ? embed_type : type, t.cols());
      Tensor q = Tensor::zeros(want, t.shape);
      fill_random_blocks(want, q.owned->data(), t.numel(), rng, embed ? 1.0f / 16 : 1.0f / std::sqrt(float(t.cols())));
      t = q;
    }
    *dst[i].tensor = f32_tensor(t.shape, tensor_to_f32(t));
  }
  m.finalize();
  deq->finalize();
  return deq;
}

std::vector<float> all_logits(const Model& m, const std::vector<int32_t>& ids) {
  Session s(m, 64, 8);
  const float* l = s.forward(ids.data(), int(ids.size()), true);
  return {l, l + ids.size() * size_t(m.config.vocab_size)};
}

double relative_rms(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) num += double(a[i] - b[i]) * (a[i] - b[i]), den += double(b[i]) * b[i];
  return std::sqrt(num / den);
}

// Gemma 3 tiny widened so every row length is a multiple of 256 (K-quants
// need whole super-blocks), as in real Gemma 3 4B / 12B / 27B files.
ModelConfig wide_gemma3() {
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 1;
  c.head_dim = 64;
  c.query_pre_attn_scalar = 64;
  return c;
}

TEST(CompatModel, LogitsCloseToTheDequantizedFp32Model) {
  struct Case {
    const char* what;
    ModelConfig config;
    TensorType matrices, embed;
    double tolerance;  // width 64 amplifies the activation rounding (as in quantized_model_test.cpp)
  };
  const Case cases[] = {
      {"q4_0 file: Q6_K embedding", wide_gemma3(), TensorType::Q6_K, TensorType::Q6_K, 0.05},
      {"Q4_K_M-like", wide_gemma3(), TensorType::Q4_K, TensorType::Q6_K, 0.05},
      {"Q5_K_M-like", wide_gemma3(), TensorType::Q5_K, TensorType::Q6_K, 0.05},
      {"Q3_K_M-like", wide_gemma3(), TensorType::Q3_K, TensorType::Q6_K, 0.05},
      {"Q2_K-like", wide_gemma3(), TensorType::Q2_K, TensorType::Q6_K, 0.05},
      {"Q4_1 / Q5_1", wide_gemma3(), TensorType::Q4_1, TensorType::Q5_1, 0.05},
      {"IQ4_XS-like", wide_gemma3(), TensorType::IQ4_XS, TensorType::IQ4_NL, 0.05},
      {"IQ3_M-like", wide_gemma3(), TensorType::IQ3_S, TensorType::Q6_K, 0.05},
      {"IQ3_XXS / IQ2_XXS", wide_gemma3(), TensorType::IQ3_XXS, TensorType::IQ2_XXS, 0.05},
      {"IQ2_XS / IQ2_S", wide_gemma3(), TensorType::IQ2_XS, TensorType::IQ2_S, 0.05},
      {"IQ1_S / IQ1_M", wide_gemma3(), TensorType::IQ1_S, TensorType::IQ1_M, 0.05},
      {"TQ1_0 / TQ2_0", wide_gemma3(), TensorType::TQ1_0, TensorType::TQ2_0, 0.05},
      {"Gemma 4 tiny (64 wide: Q5_0 fallback)", preset_config(Family::Gemma4, "tiny"), TensorType::Q4_K,
       TensorType::Q6_K, 0.2},
  };
  std::vector<int32_t> ids;
  for (int i = 0; i < 24; ++i) ids.push_back(3 + (i * 37) % 500);
  for (const Case& c : cases) {
    auto m = init_random_model(c.config, 21);
    auto deq = to_compat(*m, c.matrices, c.embed, 7);
    const auto fp32 = all_logits(*deq, ids);
    // Only the activations' Q8_0 rounding separates the two (as for Q8_0 /
    // Q4_0 models in quantized_model_test.cpp); a wrong code or scale would
    // give an error of order 1.
    const double err = relative_rms(all_logits(*m, ids), fp32);
    EXPECT_LT(err, c.tolerance) << c.what;
    std::printf("%s: relative RMS logit error W?A8 vs FP32 %.4f\n", c.what, err);

    // Through a GGUF file, as llama-quantize would have written it.
    const std::string path = ::testing::TempDir() + "/compat.gguf";
    save_gguf_model(*m, path, [](const TensorSlot& s) { return s.tensor->type; }, 0);
    auto back = load_gguf_model(path);
    EXPECT_EQ(back->weights.embed.type, pick(c.embed, c.config.hidden_size)) << c.what;
    EXPECT_EQ(back->weights.layers[0].wq.type, pick(c.matrices, c.config.hidden_size)) << c.what;
    const auto loaded = all_logits(*back, ids);
    EXPECT_EQ(loaded, all_logits(*m, ids)) << c.what;
    back->prepare_matrices_for_kernels();
    EXPECT_EQ(all_logits(*back, ids), loaded) << c.what;
    // Converting the file to F32 (qat quantize / convert) dequantizes exactly.
    const std::string f32_path = ::testing::TempDir() + "/compat_f32.gguf";
    save_gguf_model(*back, f32_path, TensorType::F32);
    EXPECT_EQ(all_logits(*back, ids), loaded) << c.what << " (after saving)";
    EXPECT_EQ(all_logits(*load_gguf_model(f32_path), ids), fp32) << c.what;
    std::filesystem::remove(f32_path);
    // And with FP32 activations the logits are nearly those of the FP32 model.
    back->config.activation_quant = ActivationQuant::None;
    EXPECT_LT(relative_rms(all_logits(*back, ids), fp32), 1e-4) << c.what;
    std::filesystem::remove(path);
  }
}

TEST(CompatModel, TypesWeCannotComputeWithAreRefusedByName) {
  // A matrix in MXFP4 (ggml type 39, no kernels here): loading fails with the
  // file, the tensor and the type named, not a crash.
  auto m = init_random_model(wide_gemma3(), 3);
  m->weights.layers[0].wq = Tensor::zeros(TensorType(39), m->weights.layers[0].wq.shape);
  const std::string path = ::testing::TempDir() + "/mxfp4.gguf";
  save_gguf_model(*m, path, [](const TensorSlot& s) { return s.tensor->type; }, 0);
  try {
    load_gguf_model(path);
    ADD_FAILURE() << "an MXFP4 matrix loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("blk.0.attn_q.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("has type MXFP4"), std::string::npos) << what;
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace qat
