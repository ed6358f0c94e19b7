// Bytes of weights read per decoded token, checked against the tensor list.
#include "model/weight_traffic.h"

#include <gtest/gtest.h>

namespace qat {
namespace {

uint64_t all_bytes(const Model& m) {
  ModelWeights w = m.weights;
  uint64_t n = 0;
  for (const auto& s : tensor_slots(m.config, w))
    if (s.tensor->present()) n += s.tensor->nbytes();
  return n;
}

TEST(WeightTraffic, TiedGemma3ReadsEverythingPlusOneEmbeddingRow) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 1);
  ASSERT_TRUE(m->config.tie_word_embeddings);
  // The tied table is read in full by the output projection and one row of it
  // by the lookup.
  EXPECT_EQ(weight_bytes_per_token(*m), all_bytes(*m) + uint64_t(m->config.hidden_size) * 4);
}

TEST(WeightTraffic, UntiedModelReadsOneEmbeddingRow) {
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.tie_word_embeddings = false;
  auto m = init_random_model(c, 1);
  EXPECT_EQ(weight_bytes_per_token(*m),
            all_bytes(*m) - m->weights.embed.nbytes() + uint64_t(c.hidden_size) * 4);
}

TEST(WeightTraffic, Gemma4ReadsOnePerLayerEmbeddingRow) {
  auto m = init_random_model(preset_config(Family::Gemma4, "tiny"), 1);
  const ModelConfig& c = m->config;
  ASSERT_GT(c.hidden_size_per_layer_input, 0);
  const uint64_t ple_row = uint64_t(c.num_hidden_layers) * uint64_t(c.hidden_size_per_layer_input) * 4;
  EXPECT_EQ(weight_bytes_per_token(*m), all_bytes(*m) - m->weights.ple_embed.nbytes() + ple_row +
                                            uint64_t(c.hidden_size) * 4);
}

TEST(WeightTraffic, QuantizedMatricesCountTheirBlockBytes) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 1);
  const uint64_t f32 = weight_bytes_per_token(*m);
  // Swap every layer's FFN matrices for Q8_0 storage of the same shape: each
  // shrinks from 4 bytes to 34/32 bytes per weight.
  uint64_t f32_bytes = 0, q8_bytes = 0;
  for (auto& l : m->weights.layers)
    for (Tensor* t : {&l.w_gate, &l.w_up, &l.w_down}) {
      f32_bytes += t->nbytes();
      *t = Tensor::zeros(TensorType::Q8_0, t->shape);
      q8_bytes += t->nbytes();
    }
  EXPECT_EQ(q8_bytes * 128, f32_bytes * 34);
  EXPECT_EQ(weight_bytes_per_token(*m), f32 - f32_bytes + q8_bytes);
}

}  // namespace
}  // namespace qat
