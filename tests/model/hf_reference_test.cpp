// Logits of tiny random Gemma 3 / Gemma 4 models against HF transformers
// (fixtures from tools/reference/make_model_fixtures.py): 40 prefill positions,
// then 8 single-token decode steps, each row within 1e-4 relative.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/forward.h"
#include "model/model.h"
#include "test_util.h"

namespace qat {
namespace {

struct Reference {
  std::vector<int32_t> ids;
  int prefill = 0, decode = 0, vocab = 0;
  std::vector<float> logits;  // (prefill + decode, vocab)
};

Reference load_reference(const std::string& dir) {
  Reference r;
  auto j = nlohmann::json::parse(read_text_file(dir + "/reference.json"));
  r.ids = j["ids"].get<std::vector<int32_t>>();
  r.prefill = j["prefill"];
  r.decode = j["decode"];
  r.vocab = j["vocab"];
  r.logits = test::read_f32_file(dir + "/logits.bin");
  return r;
}

// Runs the reference prompt through `model` and compares every row.
void expect_matches_reference(const Model& model, const Reference& r, const std::string& what) {
  Session s(model, 128, /*max_batch=*/16);  // 40 prefill tokens exercise chunking
  ASSERT_EQ(model.config.vocab_size, r.vocab);
  const float* logits = s.forward(r.ids.data(), r.prefill, /*all_logits=*/true);
  std::vector<float> ours(logits, logits + size_t(r.prefill) * r.vocab);
  for (int t = 0; t < r.decode; ++t) {
    const float* l = s.forward(&r.ids[size_t(r.prefill + t)], 1);
    ours.insert(ours.end(), l, l + r.vocab);
  }
  ASSERT_EQ(ours.size(), r.logits.size());
  double worst = 0;
  int worst_row = -1;
  for (int t = 0; t < r.prefill + r.decode; ++t) {
    const double e = test::row_rel_error(&ours[size_t(t) * r.vocab], &r.logits[size_t(t) * r.vocab], r.vocab);
    if (e > worst) worst = e, worst_row = t;
  }
  EXPECT_LT(worst, 1e-4) << what << ": worst row " << worst_row;
}

class HfReference : public ::testing::TestWithParam<std::string> {};

TEST_P(HfReference, HfDirectoryLogitsMatchTransformers) {
  const std::string dir = test::fixture_dir(GetParam());
  auto model = load_hf_model(dir);
  expect_matches_reference(*model, load_reference(dir), GetParam() + " (HF dir)");
}

TEST_P(HfReference, ConvertedGgufLogitsMatchTransformers) {
  const std::string dir = test::fixture_dir(GetParam());
  auto hf = load_hf_model(dir);
  const std::string gguf = ::testing::TempDir() + "/" + GetParam() + ".gguf";
  save_gguf_model(*hf, gguf, TensorType::F32);
  auto model = load_gguf_model(gguf);
  expect_matches_reference(*model, load_reference(dir), GetParam() + " (GGUF)");
  std::filesystem::remove(gguf);
}

TEST_P(HfReference, HfRoundTripKeepsLogits) {
  const std::string dir = test::fixture_dir(GetParam());
  auto hf = load_hf_model(dir);
  const std::string out = ::testing::TempDir() + "/" + GetParam() + "_hf";
  std::filesystem::remove_all(out);
  save_hf_model(*hf, out, TensorType::F32);
  auto model = load_hf_model(out);
  expect_matches_reference(*model, load_reference(dir), GetParam() + " (HF round trip)");
  std::filesystem::remove_all(out);
}

TEST_P(HfReference, ShardedHfCheckpointKeepsLogits) {
  const std::string dir = test::fixture_dir(GetParam());
  auto hf = load_hf_model(dir);
  const std::string out = ::testing::TempDir() + "/" + GetParam() + "_sharded";
  std::filesystem::remove_all(out);
  save_hf_model(*hf, out, TensorType::F32, /*max_shard_bytes=*/64 << 10);
  ASSERT_TRUE(std::filesystem::exists(out + "/model.safetensors.index.json"));
  int shards = 0;
  for (const auto& e : std::filesystem::directory_iterator(out))
    shards += e.path().filename().string().rfind("model-0", 0) == 0;
  EXPECT_GE(shards, 3);
  EXPECT_FALSE(std::filesystem::exists(out + "/model.safetensors"));
  auto model = load_hf_model(out);
  expect_matches_reference(*model, load_reference(dir), GetParam() + " (sharded HF)");
  std::filesystem::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Models, HfReference, ::testing::ValuesIn(test::reference_models()));

}  // namespace
}  // namespace qat
