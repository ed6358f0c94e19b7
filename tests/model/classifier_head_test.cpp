// A sequence classifier's head (score.weight, labels, pooling) survives GGUF
// and HF round trips and stays F32 when the rest is quantized.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/model.h"
#include "model/quantize_plan.h"

namespace qat {
namespace {

std::unique_ptr<Model> classifier() {
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.num_labels = 3;
  c.classifier_pooling = "mean";
  c.class_names = {"good", "bad", "unsure"};
  auto m = init_random_model(c, 7);
  m->tokenizer = Tokenizer::byte_level(c.vocab_size);
  return m;
}

void expect_same_head(const Model& a, const Model& b) {
  EXPECT_EQ(b.config.num_labels, 3);
  EXPECT_EQ(b.config.classifier_pooling, "mean");
  EXPECT_EQ(b.config.class_names, a.config.class_names);
  ASSERT_TRUE(b.weights.score.present());
  ASSERT_EQ(b.weights.score.type, TensorType::F32);
  ASSERT_EQ(b.weights.score.shape, a.weights.score.shape);
  for (int64_t i = 0; i < a.weights.score.numel(); ++i)
    ASSERT_EQ(b.weights.score.f32()[i], a.weights.score.f32()[i]);
}

TEST(ClassifierHead, RoundTripsThroughGgufAndHf) {
  auto m = classifier();
  const std::string dir = testing::TempDir() + "/cls_head";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  save_gguf_model(*m, dir + "/m.gguf", TensorType::F32);
  expect_same_head(*m, *load_model(dir + "/m.gguf"));
  save_hf_model(*m, dir + "/hf", TensorType::F32);
  expect_same_head(*m, *load_model(dir + "/hf"));
}

TEST(ClassifierHead, KeptInF32WhenQuantizing) {
  auto m = classifier();
  QuantizeRules rules;
  rules.type = TensorType::Q4_0;
  const QuantizePlan plan = plan_quantization(*m, rules);
  const TensorPlan* head = plan.find("cls.weight");
  ASSERT_TRUE(head != nullptr);
  EXPECT_EQ(head->to, TensorType::F32);
  EXPECT_EQ(plan.find("blk.0.attn_q.weight")->to, TensorType::Q4_0);
}

}  // namespace
}  // namespace qat
