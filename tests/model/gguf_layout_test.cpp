// The GGUF we write follows llama.cpp's gemma3 / gemma4 conventions
// (keys, value types, tensor names, 1 + w norms, rope_freqs), and GGUF files
// laid out as llama.cpp writes them load with the right config.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/gguf_config.h"
#include "model/model.h"
#include "test_util.h"

namespace qat {
namespace {

std::unique_ptr<GgufFile> convert_fixture(const std::string& name, std::unique_ptr<Model>* model = nullptr) {
  auto hf = load_hf_model(test::fixture_dir(name));
  const std::string path = ::testing::TempDir() + "/" + name + "_layout.gguf";
  save_gguf_model(*hf, path, TensorType::F32);
  if (model) *model = std::move(hf);
  return GgufFile::open(path);
}

float first_f32(const GgufTensorInfo* t) {
  float v;
  std::memcpy(&v, t->data, 4);
  return v;
}

TEST(GgufLayout, Gemma3NormsAreStoredAsOnePlusW) {
  auto f = convert_fixture("gemma3_gqa");
  auto st = SafetensorsFile::open(test::fixture_dir("gemma3_gqa") + "/model.safetensors");
  const struct {
    const char *gguf, *hf;
  } pairs[] = {{"blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"},
               {"blk.1.attn_q_norm.weight", "model.layers.1.self_attn.q_norm.weight"},
               {"output_norm.weight", "model.norm.weight"}};
  for (const auto& p : pairs) {
    const GgufTensorInfo* g = f->find_tensor(p.gguf);
    const StTensor* h = f ? st->find(p.hf) : nullptr;
    ASSERT_TRUE(g && h) << p.gguf;
    float hv;
    std::memcpy(&hv, h->data, 4);
    EXPECT_EQ(first_f32(g), 1.0f + hv) << p.gguf;
  }
  EXPECT_EQ(f->get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f->get_uint("gemma3.attention.key_length"), 16u);
  EXPECT_EQ(f->get_string("gemma3.rope.scaling.type"), "linear");
  EXPECT_FALSE(f->find("gemma3.attention.sliding_window_pattern"));  // llama.cpp's gemma3 has none
}

TEST(GgufLayout, Gemma4KeysTypesAndTensorsFollowLlamaCpp) {
  std::unique_ptr<Model> model;
  auto f = convert_fixture("gemma4_ple", &model);
  EXPECT_EQ(f->tensors().front().name, "rope_freqs.weight");
  const GgufTensorInfo* rf = f->find_tensor("rope_freqs.weight");
  ASSERT_EQ(rf->dims, std::vector<uint64_t>({16}));  // global head dim 32 / 2
  std::vector<float> freqs(16);
  std::memcpy(freqs.data(), rf->data, 64);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(freqs[size_t(i)], i < 4 ? 1.0f : 1e30f) << i;  // 25 % rotated
  EXPECT_EQ(f->find("gemma4.attention.sliding_window_pattern")->elem_type, GgufType::BOOL);
  EXPECT_EQ(f->find("gemma4.feed_forward_length")->elem_type, GgufType::INT32);  // double-wide
  EXPECT_EQ(f->find("gemma4.attention.head_count_kv")->elem_type, GgufType::INT32);  // K=V globals
  EXPECT_EQ(f->get_uint("gemma4.attention.key_length"), 32u);
  EXPECT_EQ(f->get_uint("gemma4.attention.key_length_swa"), 16u);
  EXPECT_EQ(f->get_uint("gemma4.embedding_length_per_layer_input"), 8u);
  EXPECT_EQ(f->get_uint("gemma4.attention.shared_kv_layers"), 2u);
  EXPECT_TRUE(f->find_tensor("blk.0.attn_v.weight"));
  EXPECT_FALSE(f->find_tensor("blk.2.attn_v.weight"));  // K=V on the global layer
  EXPECT_FALSE(f->find_tensor("blk.4.attn_k.weight"));  // KV-sharing layer
  EXPECT_TRUE(f->find_tensor("blk.3.layer_output_scale.weight"));
  EXPECT_TRUE(f->find_tensor("per_layer_token_embd.weight"));
  EXPECT_EQ(f->find_tensor("per_layer_token_embd.weight")->dims, std::vector<uint64_t>({48, 128}));
  const ModelConfig back = config_from_gguf(*f);
  EXPECT_EQ(back.attention_k_eq_v, true);
  EXPECT_EQ(back.num_global_key_value_heads, 1);
  EXPECT_EQ(back.use_double_wide_mlp, true);
  EXPECT_FLOAT_EQ(back.rope_global_partial, 0.25f);
}

// A Gemma 4 model cut to sliding layers only (`qat init --layers 2` of a
// published shape): no layer reads rope_freqs, and llama.cpp refuses a file
// holding a tensor nothing reads, so it is left out and not required back.
TEST(GgufLayout, Gemma4WithoutGlobalLayersHasNoRopeFreqs) {
  ModelConfig c = preset_config(Family::Gemma4, "tiny-moe");
  c.num_hidden_layers = 1;
  c.layer_sliding = {true};
  auto m = init_random_model(c, 2);
  const std::string path = ::testing::TempDir() + "/sliding_only.gguf";
  save_gguf_model(*m, path, TensorType::F32);
  EXPECT_FALSE(GgufFile::open(path)->find_tensor("rope_freqs.weight"));
  EXPECT_EQ(load_gguf_model(path)->config.layer_sliding, std::vector<bool>{true});
  std::filesystem::remove(path);
}

// A llama.cpp-style gemma3 GGUF: no qat.* keys, so the layer pattern comes
// from the every-6th-layer rule and the attention scale from key_length.
TEST(GgufLayout, LlamaCppStyleGemma3FileUsesLlamaCppDefaults) {
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.num_hidden_layers = 8;
  c.layer_sliding.clear();
  c.query_pre_attn_scalar = float(c.head_dim);
  auto m = init_random_model(c, 3);
  // Our file, then a copy without our extra qat.* keys.
  auto path = ::testing::TempDir() + "/llamacpp_style.gguf";
  save_gguf_model(*m, path, TensorType::F32);
  auto ours = GgufFile::open(path);
  GgufWriter plain;
  for (const auto& [k, v] : ours->kv())
    if (k.rfind("qat.", 0) != 0) plain.set(k, v);
  for (const auto& t : ours->tensors()) plain.add_tensor(t.name, t.dims, t.type, t.data, t.n_bytes);
  const auto path2 = ::testing::TempDir() + "/llamacpp_style2.gguf";
  plain.write(path2, false);
  auto f = GgufFile::open(path2);
  const ModelConfig back = config_from_gguf(*f);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(back.is_sliding(i), i % 6 != 5) << i;
  EXPECT_EQ(back.attention_scale(), c.attention_scale());
  auto loaded = load_gguf_model(path2);
  EXPECT_EQ(parameter_count(loaded->config), parameter_count(c));
}

}  // namespace
}  // namespace qat
