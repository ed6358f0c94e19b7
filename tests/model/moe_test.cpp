// Gemma 4 MoE beyond the HF logits fixture (hf_reference_test, "gemma4_moe"):
// config checks, the file round trips of its keys and tensors, which tensors
// quantization touches, and the weights a decoded token reads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/quantize_plan.h"
#include "model/weight_traffic.h"

namespace qat {
namespace {

void expect_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error, expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Moe, ConfigRejectsImpossibleExpertCounts) {
  ModelConfig c = preset_config(Family::Gemma4, "tiny-moe");
  c.top_k_experts = c.num_experts + 1;
  expect_error([&] { c.validate(); }, "top_k_experts 9 must be in [1, num_experts = 8]");
  c.top_k_experts = 0;
  expect_error([&] { c.validate(); }, "top_k_experts 0");
  c = preset_config(Family::Gemma4, "tiny-moe");
  c.moe_intermediate_size = 0;
  expect_error([&] { c.validate(); }, "moe_intermediate_size must be positive");
  c = preset_config(Family::Gemma3, "tiny");
  c.num_experts = 4;
  c.top_k_experts = 2;
  c.moe_intermediate_size = 32;
  expect_error([&] { c.validate(); }, "MoE are Gemma 4 features");
}

TEST(Moe, HfConfigWithoutExpertCountIsAClearError) {
  const std::string dir = ::testing::TempDir() + "/moe_no_experts";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << R"({"model_type": "gemma4_text", "enable_moe_block": true})";
  expect_error([&] { load_hf_model(dir); }, "enable_moe_block is set but num_experts is missing or 0");
  std::filesystem::remove_all(dir);
}

TEST(Moe, GgufKeepsExpertKeysAndLlamaCppTensorNames) {
  auto m = init_random_model(preset_config(Family::Gemma4, "tiny-moe"), 3);
  const std::string path = ::testing::TempDir() + "/moe.gguf";
  save_gguf_model(*m, path, TensorType::F32);
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->get_uint_opt("gemma4.expert_count"), 8u);
  EXPECT_EQ(f->get_uint_opt("gemma4.expert_used_count"), 2u);
  EXPECT_EQ(f->get_uint_opt("gemma4.expert_feed_forward_length"), 32u);
  // GGUF dims are reversed torch shapes: (E, 2I, H) is {H, 2I, E}.
  const GgufTensorInfo* gu = f->find_tensor("blk.0.ffn_gate_up_exps.weight");
  ASSERT_TRUE(gu);
  EXPECT_EQ(gu->dims, (std::vector<uint64_t>{64, 64, 8}));
  for (const char* name : {"blk.0.ffn_gate_inp.weight", "blk.0.ffn_gate_inp.scale", "blk.0.ffn_down_exps.scale",
                           "blk.0.ffn_down_exps.weight", "blk.0.pre_ffw_norm_2.weight",
                           "blk.0.post_ffw_norm_1.weight", "blk.0.post_ffw_norm_2.weight"})
    EXPECT_TRUE(f->find_tensor(name)) << name;
  auto back = load_gguf_model(path);
  EXPECT_EQ(back->config.num_experts, 8);
  EXPECT_EQ(back->config.top_k_experts, 2);
  EXPECT_EQ(back->config.moe_intermediate_size, 32);
  std::vector<int32_t> ids = {5, 9, 200, 31, 7, 400, 12};
  Session a(*m, 32), b(*back, 32);
  const float* la = a.forward(ids.data(), int(ids.size()), true);
  std::vector<float> first(la, la + ids.size() * 512);
  const float* lb = b.forward(ids.data(), int(ids.size()), true);
  EXPECT_EQ(std::vector<float>(lb, lb + ids.size() * 512), first);
  std::filesystem::remove(path);
}

TEST(Moe, QuantizationKeepsTheRouterInF32AndQuantizesTheExperts) {
  auto m = init_random_model(preset_config(Family::Gemma4, "tiny-moe"), 4);
  QuantizeRules rules;
  rules.type = TensorType::Q4_0;
  const QuantizePlan plan = plan_quantization(*m, rules);
  ASSERT_TRUE(plan.find("blk.0.ffn_gate_inp.weight"));
  EXPECT_EQ(plan.find("blk.0.ffn_gate_inp.weight")->to, TensorType::F32);
  EXPECT_EQ(plan.find("blk.0.ffn_down_exps.scale")->to, TensorType::F32);
  EXPECT_EQ(plan.find("blk.0.ffn_gate_up_exps.weight")->to, TensorType::Q4_0);
  EXPECT_EQ(plan.find("blk.0.ffn_down_exps.weight")->to, TensorType::Q4_0);
}

TEST(Moe, ADecodedTokenReadsItsTopKExperts) {
  auto m = init_random_model(preset_config(Family::Gemma4, "tiny-moe"), 1);
  const ModelConfig& c = m->config;
  ModelWeights w = m->weights;
  uint64_t all = 0, experts = 0;
  for (const auto& s : tensor_slots(c, w)) {
    all += s.tensor->nbytes();
    if (s.shape.size() == 3) experts += s.tensor->nbytes();
  }
  // Everything, less the experts not chosen, plus one embedding row (the
  // tied table is read in full as the output projection).
  const uint64_t expected =
      all - experts + experts / uint64_t(c.num_experts) * uint64_t(c.top_k_experts) + uint64_t(c.hidden_size) * 4;
  EXPECT_EQ(weight_bytes_per_token(*m), expected);
}

}  // namespace
}  // namespace qat
