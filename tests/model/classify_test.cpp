// Classification inference (model/classify.h): the prefill pass, final-norm
// hidden states pooled, the head. Checked against HF transformers' class
// logits on the training fixtures (tools/reference/make_train_fixtures.py),
// against the LM logits of the same pass, and under quantized matrices
// (W8A16 / W4A16 gives exactly the dequantized FP32 model's logits).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/error.h"
#include "formats/safetensors.h"
#include "kernels/matmul.h"
#include "model/classify.h"
#include "model/model.h"
#include "model/tensor_convert.h"
#include "test_util.h"

namespace qat {
namespace {

using test::row_rel_error;

std::string train_dir(const std::string& name) { return std::string(QAT_FIXTURES_DIR) + "/train/" + name; }

// A fixture model with the fixture's head attached.
std::unique_ptr<Model> fixture_classifier(const nlohmann::json& ref, const std::string& name) {
  auto m = load_model(test::fixture_dir(ref["model"].get<std::string>()));
  const int C = ref["num_classes"];
  auto st = SafetensorsFile::open(train_dir(name) + "/head.safetensors");
  const StTensor* w = st->find("score.weight");
  EXPECT_TRUE(w != nullptr);
  const float* p = reinterpret_cast<const float*>(w->data);
  m->config.num_labels = C;
  m->config.classifier_pooling = ref["pooling"].get<std::string>();
  m->weights.score = f32_tensor({C, m->config.hidden_size}, std::vector<float>(p, p + w->n_elements));
  m->finalize();
  return m;
}

TEST(Classify, MatchesTransformersClassLogits) {
  for (const std::string name : {"gemma3_gqa_cls_last", "gemma4_ple_cls_mean"}) {
    const auto ref = nlohmann::json::parse(read_text_file(train_dir(name) + "/reference.json"));
    auto m = fixture_classifier(ref, name);
    const int B = ref["batch"], T = ref["seq"], C = ref["num_classes"];
    const std::vector<float> want = test::read_f32_file(train_dir(name) + "/logits.bin");
    ASSERT_EQ(want.size(), size_t(B * C));
    Session s(*m, T, 8);  // chunks of 8: mean pooling must see every chunk's rows
    for (int b = 0; b < B; ++b) {
      const std::vector<int32_t> ids = ref["ids"][b].get<std::vector<int32_t>>();
      const std::vector<float> got = classify_sequence(s, ids.data(), T);
      ASSERT_EQ(got.size(), size_t(C));
      const double e = row_rel_error(got.data(), want.data() + b * C, C);
      EXPECT_LT(e, 1e-4) << name << " row " << b;
      std::printf("%s row %d: relative error %.2e\n", name.c_str(), b, e);
    }
    // The batch helper gives the same rows.
    std::vector<std::vector<int32_t>> seqs;
    for (int b = 0; b < B; ++b) seqs.push_back(ref["ids"][b].get<std::vector<int32_t>>());
    const std::vector<float> batch = classify_batch(*m, seqs);
    for (int b = 0; b < B; ++b)
      EXPECT_LT(row_rel_error(batch.data() + b * C, want.data() + b * C, C), 1e-4) << name << " row " << b;
  }
}

TEST(Classify, HiddenStatesAreWhatTheOutputProjectionReads) {
  // forward_hidden over several chunks, projected with the tied embedding,
  // gives forward()'s logits for every position.
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 3);
  std::vector<int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(4 + (i * 29) % 400);
  const int n = int(ids.size()), H = m->config.hidden_size, V = m->config.vocab_size;
  Session a(*m, 32, 8), b(*m, 32, 8);
  const float* h = a.forward_hidden(ids.data(), n);
  EXPECT_EQ(a.n_past(), n);
  const std::vector<float> hidden(h, h + n * H);
  const float* l = b.forward(ids.data(), n, true);
  std::vector<float> proj(size_t(n) * V);
  const Tensor& e = m->weights.embed;
  matmul(MatrixView{e.type, e.data, e.rows(), e.cols()}, hidden.data(), proj.data(), n);
  for (int t = 0; t < n; ++t) EXPECT_LT(row_rel_error(proj.data() + t * V, l + t * V, V), 1e-5) << "row " << t;
}

TEST(Classify, QuantizedModelsClassify) {
  // A head on a tiny model, its matrices saved as Q8_0 / Q4_0 with Q8_0 and
  // with FP32 activations. The weight-only variant classifies exactly like
  // the FP32 model holding the dequantized matrices; W8A8 / W4A8 run close.
  for (const char* pooling : {"last", "mean"}) {
    ModelConfig c = preset_config(Family::Gemma4, "tiny");
    c.num_labels = 4;
    c.classifier_pooling = pooling;
    auto m = init_random_model(c, 21);
    const std::string dir = testing::TempDir() + "/classify_quant";
    std::filesystem::create_directories(dir);
    std::vector<std::vector<int32_t>> seqs;
    for (int s = 0; s < 5; ++s) {
      seqs.emplace_back();
      for (int i = 0; i < 3 + 4 * s; ++i) seqs.back().push_back(2 + (s * 31 + i * 17) % 300);
    }
    for (TensorType type : {TensorType::Q8_0, TensorType::Q4_0}) {
      auto matrices = [type](const TensorSlot& s) {
        return s.role == TensorRole::Matrix && s.shape.back() % 32 == 0 ? type : TensorType::F32;
      };
      save_gguf_model(*m, dir + "/q.gguf", matrices, gguf_file_type(type));
      auto q = load_gguf_model(dir + "/q.gguf");
      ASSERT_EQ(q->weights.score.type, TensorType::F32);
      save_gguf_model(*q, dir + "/deq.gguf", TensorType::F32);  // the dequantized weights
      auto deq = load_gguf_model(dir + "/deq.gguf");
      q->prepare_matrices_for_kernels();
      const std::vector<float> a8 = classify_batch(*q, seqs);
      q->config.activation_quant = ActivationQuant::None;
      const std::vector<float> a16 = classify_batch(*q, seqs);
      const std::vector<float> f32 = classify_batch(*deq, seqs);
      ASSERT_EQ(a16.size(), seqs.size() * 4);
      EXPECT_EQ(a16, f32) << pooling << " " << tensor_type_name(type);
      for (size_t i = 0; i < seqs.size(); ++i) {
        for (int k = 0; k < 4; ++k) EXPECT_TRUE(std::isfinite(a8[i * 4 + size_t(k)]));
        EXPECT_LT(row_rel_error(a8.data() + i * 4, f32.data() + i * 4, 4), 0.3) << pooling << " " << i;
      }
    }
    std::filesystem::remove_all(dir);
  }
}

TEST(Classify, RejectsAModelWithoutHeadAndBadInput) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 1);
  Session s(*m, 16, 8);
  const std::vector<int32_t> ids = {2, 5, 9};
  EXPECT_THROW(classify_sequence(s, ids.data(), 3), Error);
  ModelConfig c = preset_config(Family::Gemma3, "tiny");
  c.num_labels = 2;
  auto h = init_random_model(c, 1);
  Session sh(*h, 4, 4);
  const std::vector<int32_t> bad = {2, -1};
  EXPECT_THROW(classify_sequence(sh, bad.data(), 2), Error);
  const std::vector<int32_t> longer = {2, 3, 4, 5, 6};
  EXPECT_THROW(classify_sequence(sh, longer.data(), 5), Error);  // beyond the session's context
  EXPECT_EQ(argmax_label(std::vector<float>{1, 3, 3, 0}.data(), 4), 1);
}

}  // namespace
}  // namespace qat
