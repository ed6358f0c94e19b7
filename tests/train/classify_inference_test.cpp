// The inference engine's classifier (model/classify.h: KV-cache prefill,
// one sequence at a time, no padding) against the trainer's forward_classify
// (a padded batch, no KV cache) on tiny random models with a head: the same
// class logits for sequences of different lengths, both poolings, both
// families.
#include <gtest/gtest.h>

#include <cmath>

#include "model/classify.h"
#include "model/model.h"
#include "train/gemma_train.h"

namespace qat {
namespace {

double rel_error(const float* a, const float* b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / std::max(den, 1e-30);
}

TEST(ClassifyInference, MatchesTrainerForwardClassify) {
  for (Family f : {Family::Gemma3, Family::Gemma4})
    for (const char* pooling : {"last", "mean"}) {
      ModelConfig c = preset_config(f, "tiny");
      c.num_labels = 3;
      c.classifier_pooling = pooling;
      auto m = init_random_model(c, 17);
      GemmaTrainer trainer(*m);  // keeps the model's head; owns its weights as FP32
      const int64_t B = 4, T = 21;
      const std::vector<int32_t> lengths = {21, 1, 9, 14};  // padded at the end with pad id 0
      std::vector<int32_t> ids(size_t(B * T), c.pad_token_id), labels(size_t(B), 0);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < lengths[size_t(b)]; ++t) ids[size_t(b * T + t)] = int32_t(3 + (b * 97 + t * 13) % 500);
      trainer.forward_classify(ids.data(), lengths.data(), labels.data(), B, T);
      const std::vector<float>& want = trainer.logits();
      ASSERT_EQ(want.size(), size_t(B * 3));
      Session s(*m, int(T), 8);
      for (int64_t b = 0; b < B; ++b) {
        const std::vector<float> got = classify_sequence(s, ids.data() + b * T, lengths[size_t(b)]);
        const double e = rel_error(got.data(), want.data() + b * 3, 3);
        EXPECT_LT(e, 1e-4) << family_name(f) << " " << pooling << " sequence " << b;
      }
    }
}

}  // namespace
}  // namespace qat
