// Presets and derived per-layer specs.
#include <gtest/gtest.h>

#include "base/error.h"
#include "model/config.h"
#include "model/hf_config.h"
#include "model/weights.h"

namespace qat {
namespace {

TEST(Config, PublishedParameterCounts) {
  // Gemma 3 270M: 268,098,176 parameters (the HF checkpoint's count).
  EXPECT_EQ(parameter_count(preset_config(Family::Gemma3, "270m")), 268098176u);
  EXPECT_NEAR(double(parameter_count(preset_config(Family::Gemma3, "1b"))), 999885952.0, 1e6);
}

TEST(Config, TinyPresetsAreSmallAndUseEveryFeature) {
  const ModelConfig g3 = preset_config(Family::Gemma3, "tiny");
  const ModelConfig g4 = preset_config(Family::Gemma4, "tiny");
  EXPECT_LT(parameter_count(g3), 1000000u);
  EXPECT_LT(parameter_count(g4), 1000000u);
  const auto s3 = g3.layers();
  int global3 = 0;
  for (const auto& s : s3) global3 += !s.sliding;
  EXPECT_GE(global3, 1);
  EXPECT_NE(g3.rope_global_factor, 1.0f);
  EXPECT_LT(g3.num_key_value_heads, g3.num_attention_heads);
  const auto s4 = g4.layers();
  bool keqv = false, shared = false, wide = false, partial = false;
  for (const auto& s : s4) {
    keqv |= s.k_eq_v;
    shared |= s.kv_source >= 0;
    wide |= s.ffn_dim == 2 * g4.intermediate_size;
    partial |= !s.sliding && s.rope_dims < s.head_dim;
  }
  EXPECT_TRUE(keqv && shared && wide && partial);
  EXPECT_GT(g4.hidden_size_per_layer_input, 0);
  EXPECT_GT(g4.final_logit_softcapping, 0);
  EXPECT_FALSE(s4.back().sliding);
}

TEST(Config, KvSharingReadsLastLayerOfSameType) {
  ModelConfig c = preset_config(Family::Gemma4, "tiny");
  c.num_hidden_layers = 7;
  c.layer_sliding = {true, true, false, true, true, true, false};
  c.num_kv_shared_layers = 3;  // layers 4, 5 (sliding) and 6 (global)
  const auto s = c.layers();
  EXPECT_EQ(s[4].kv_source, 3);
  EXPECT_EQ(s[5].kv_source, 3);
  EXPECT_EQ(s[6].kv_source, 2);
  EXPECT_FALSE(s[6].stores_kv);
}

TEST(Config, InconsistentConfigsAreRejected) {
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.num_attention_heads = 5;
  EXPECT_THROW(c.layers(), Error);
  EXPECT_THROW(preset_config(Family::Gemma4, "huge"), Error);
  EXPECT_THROW(parse_hf_config("{\"model_type\": \"llama\"}", "c.json"), Error);
  EXPECT_THROW(parse_hf_config("{not json", "c.json"), Error);
  EXPECT_THROW(parse_hf_config("{\"model_type\": \"gemma3_text\", \"hidden_size\": \"big\"}", "c.json"), Error);
}

TEST(Config, HfConfigJsonRoundTrips) {
  for (Family f : {Family::Gemma3, Family::Gemma4})
    for (const std::string& name : preset_names(f)) {
      const ModelConfig c = preset_config(f, name);
      const ModelConfig back = parse_hf_config(hf_config_json(c), "config.json");
      const auto a = c.layers(), b = back.layers();
      ASSERT_EQ(a.size(), b.size()) << name;
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].sliding, b[i].sliding);
        EXPECT_EQ(a[i].head_dim, b[i].head_dim);
        EXPECT_EQ(a[i].n_kv_heads, b[i].n_kv_heads);
        EXPECT_EQ(a[i].ffn_dim, b[i].ffn_dim);
        EXPECT_EQ(a[i].k_eq_v, b[i].k_eq_v);
        EXPECT_EQ(a[i].kv_source, b[i].kv_source);
        EXPECT_EQ(a[i].rope_dims, b[i].rope_dims);
        EXPECT_EQ(a[i].rope_factor, b[i].rope_factor);
      }
      EXPECT_EQ(parameter_count(c), parameter_count(back)) << name;
      EXPECT_EQ(c.attention_scale(), back.attention_scale()) << name;
    }
}

}  // namespace
}  // namespace qat
