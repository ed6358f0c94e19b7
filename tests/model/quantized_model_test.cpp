// Q8_0 / Q4_0 weight matrices run through the W8A8 / W4A8 kernels: a model
// whose matrices were quantized with the reference quantizer gives logits
// close to the FP32 model whose weights are the dequantized values, and
// converting it to an F32 GGUF dequantizes exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/error.h"
#include "formats/gguf.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/tensor_convert.h"
#include "quant/quant_types.h"

namespace qat {
namespace {

// Quantizes every matrix (not embeddings, not norms) of `m` to `type` in place;
// returns a second model holding the dequantized FP32 weights.
std::unique_ptr<Model> quantize_matrices(Model& m, TensorType type) {
  auto deq = init_random_model(m.config, 0);
  auto src = tensor_slots(m.config, m.weights);
  auto dst = tensor_slots(deq->config, deq->weights);
  for (size_t i = 0; i < src.size(); ++i) {
    Tensor& t = *src[i].tensor;
    std::vector<float> v = tensor_to_f32(t);
    if (src[i].role == TensorRole::Matrix && t.cols() % 32 == 0) {  // as llama-quantize, others stay F32
      Tensor q = Tensor::zeros(type, t.shape);
      if (type == TensorType::Q8_0)
        quantize_row_q8_0(v.data(), reinterpret_cast<BlockQ8_0*>(q.owned->data()), t.numel());
      else
        quantize_row_q4_0(v.data(), reinterpret_cast<BlockQ4_0*>(q.owned->data()), t.numel());
      t = q;
      v = tensor_to_f32(q);
    }
    *dst[i].tensor = f32_tensor(t.shape, v);
  }
  m.finalize();
  deq->finalize();
  return deq;
}

// Gemma 3, Gemma 4 dense and Gemma 4 MoE (3-D expert tensors, packed slice by slice).
std::vector<ModelConfig> tiny_configs() {
  return {preset_config(Family::Gemma3, "tiny"), preset_config(Family::Gemma4, "tiny"),
          preset_config(Family::Gemma4, "tiny-moe")};
}

std::string config_name(const ModelConfig& c) {
  return std::string(family_name(c.family)) + (c.has_moe() ? " moe" : "");
}

std::vector<float> all_logits(const Model& m, const std::vector<int32_t>& ids) {
  Session s(m, 64, 8);
  const float* l = s.forward(ids.data(), int(ids.size()), true);
  return {l, l + ids.size() * size_t(m.config.vocab_size)};
}

TEST(QuantizedModel, LogitsCloseToDequantizedFp32AndF32ExportDequantizesExactly) {
  for (const ModelConfig& config : tiny_configs())
    for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
      auto m = init_random_model(config, 11);
      auto deq = quantize_matrices(*m, type);
      std::vector<int32_t> ids;
      for (int i = 0; i < 24; ++i) ids.push_back(3 + (i * 37) % 500);
      const auto a = all_logits(*m, ids), b = all_logits(*deq, ids);
      double num = 0, den = 0;
      for (size_t i = 0; i < a.size(); ++i) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
      // Only the activations' Q8_0 rounding separates the two; a random tiny
      // model (width 64) amplifies it to about 0.115 (the same on the scalar
      // level, so it is the arithmetic, not a kernel).
      EXPECT_LT(std::sqrt(num / den), 0.2) << config_name(config) << " " << tensor_type_name(type);

      const std::string path = ::testing::TempDir() + "/quantized.gguf";
      save_gguf_model(*m, path, TensorType::F32);  // dequantizes the matrices
      auto back = load_gguf_model(path);
      EXPECT_EQ(back->weights.layers[0].wq.type, TensorType::F32);
      EXPECT_EQ(all_logits(*back, ids), b);
      std::filesystem::remove(path);
    }
}

TEST(QuantizedModel, WeightOnlyActivationsGiveTheDequantizedFp32Logits) {
  // activation_quant = none (W8A16 / W4A16): the quantized matrices multiply
  // FP32 activations through the float kernels, so the logits are those of
  // the FP32 model holding the dequantized weights (bit for bit: same kernel,
  // same row tiles). The mode survives a GGUF round trip, and the packed
  // (prepared) path gives the same logits.
  for (const ModelConfig& config : tiny_configs())
    for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
      auto m = init_random_model(config, 13);
      auto deq = quantize_matrices(*m, type);
      m->config.activation_quant = ActivationQuant::None;
      std::vector<int32_t> ids;
      for (int i = 0; i < 24; ++i) ids.push_back(5 + (i * 53) % 500);
      const auto b = all_logits(*deq, ids);
      EXPECT_EQ(all_logits(*m, ids), b) << config_name(config) << " " << tensor_type_name(type);

      const std::string path = ::testing::TempDir() + "/weight_only.gguf";
      save_gguf_model(
          *m, path, [type](const TensorSlot& s) { return s.tensor->type == type ? type : TensorType::F32; },
          gguf_file_type(type));
      auto back = load_gguf_model(path);
      EXPECT_EQ(back->config.activation_quant, ActivationQuant::None);
      EXPECT_EQ(back->weights.layers[0].wq.type, type);
      back->prepare_matrices_for_kernels();
      EXPECT_TRUE(back->weights.layers[0].wq.packed);
      if (config.has_moe()) {
        EXPECT_EQ(back->weights.layers[0].experts_gate_up.packed_slices.size(), size_t(config.num_experts));
        EXPECT_EQ(back->weights.layers[0].experts_down.packed_slices.size(), size_t(config.num_experts));
      }
      EXPECT_EQ(all_logits(*back, ids), b) << config_name(config) << " " << tensor_type_name(type);
      // And through a HF checkpoint (config.json "qat_activation_quant").
      save_hf_model(*m, ::testing::TempDir() + "/weight_only_hf", TensorType::F32);
      EXPECT_EQ(load_hf_model(::testing::TempDir() + "/weight_only_hf")->config.activation_quant,
                ActivationQuant::None);
      std::filesystem::remove_all(::testing::TempDir() + "/weight_only_hf");
      // The default mode is not written; files that lack the key read as q8_0.
      m->config.activation_quant = ActivationQuant::Q8_0;
      save_gguf_model(*m, path, TensorType::F32);
      EXPECT_FALSE(GgufFile::open(path)->find("qat.activation_quant"));
      EXPECT_EQ(load_gguf_model(path)->config.activation_quant, ActivationQuant::Q8_0);
      std::filesystem::remove(path);
    }
}

TEST(QuantizedModel, UnknownActivationModeIsAClearError) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 2);
  m->config.activation_quant = ActivationQuant::None;
  const std::string path = ::testing::TempDir() + "/bad_activations.gguf";
  save_gguf_model(*m, path, TensorType::F32);
  // Patch the value "none" (same length) into "int4".
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t key = bytes.find("qat.activation_quant");
  ASSERT_NE(key, std::string::npos);
  const size_t value = bytes.find("none", key);
  ASSERT_NE(value, std::string::npos);
  bytes.replace(value, 4, "int4");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_gguf_model(path);
    ADD_FAILURE() << "loaded a file with qat.activation_quant = int4";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("qat.activation_quant: activation quantization 'int4' (expected q8_0 or none)"),
              std::string::npos) << msg;
  }
  std::filesystem::remove(path);
}

TEST(QuantizedModel, PreparedMatricesGiveTheSameLogits) {
  // prepare_matrices_for_kernels repacks Q8_0 / Q4_0 once and copies float
  // matrices into huge pages; the arithmetic must not change at all.
  for (const char* preset : {"tiny", "tiny-moe"})
  for (TensorType type : {TensorType::F32, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0}) {
    auto m = init_random_model(preset_config(Family::Gemma4, preset), 5);
    const std::string path = ::testing::TempDir() + "/prepared.gguf";
    // Matrices (and the tied embedding) in `type`, the rest F32.
    save_gguf_model(
        *m, path,
        [type](const TensorSlot& s) {
          const bool big = s.role == TensorRole::Matrix || s.role == TensorRole::Embedding;
          return big && s.shape.back() % 32 == 0 ? type : TensorType::F32;
        },
        gguf_file_type(type));
    auto loaded = load_gguf_model(path);
    std::vector<int32_t> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(7 + (i * 41) % 500);
    const auto before = all_logits(*loaded, ids);
    loaded->prepare_matrices_for_kernels();
    const Tensor& wq = loaded->weights.layers[0].wq;
    const Tensor& experts = loaded->weights.layers[0].experts_down;
    if (type == TensorType::Q8_0 || type == TensorType::Q4_0) {
      EXPECT_TRUE(wq.packed) << tensor_type_name(type);
      if (m->config.has_moe()) {
        EXPECT_EQ(experts.packed_slices.size(), size_t(m->config.num_experts));
      }
    } else {
      EXPECT_TRUE(wq.resident && wq.data == wq.resident.get()) << tensor_type_name(type);
      if (m->config.has_moe()) {
        EXPECT_TRUE(experts.resident && experts.data == experts.resident.get());
      }
    }
    EXPECT_EQ(all_logits(*loaded, ids), before) << tensor_type_name(type);
    loaded->prepare_matrices_for_kernels();  // idempotent
    EXPECT_EQ(all_logits(*loaded, ids), before) << tensor_type_name(type);
    // Saving a prepared model must leave it intact (the writer once dropped
    // the pages of the resident copies as if they were the file map: zeros).
    const std::string copy = ::testing::TempDir() + "/prepared_copy.gguf";
    save_gguf_model(*loaded, copy, TensorType::F32);
    EXPECT_EQ(all_logits(*loaded, ids), before) << tensor_type_name(type) << " after saving";
    std::filesystem::remove(copy);
    std::filesystem::remove(path);
  }
}

}  // namespace
}  // namespace qat
