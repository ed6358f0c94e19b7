// Logits of tiny random Gemma 3 / Gemma 4 models against HF transformers
// (fixtures from tools/reference/make_model_fixtures.py): 40 prefill positions,
// then 8 single-token decode steps, each row within 1e-4 relative.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

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

// Loads the fixture, writes it with `save`, loads the result with `load` and
// compares the reloaded model's logits with the reference.
void expect_round_trip_matches(const std::string& name, const std::string& out, const std::string& what,
                               const std::function<void(const Model&, const std::string&)>& save,
                               const std::function<std::unique_ptr<Model>(const std::string&)>& load) {
  const std::string dir = test::fixture_dir(name);
  std::filesystem::remove_all(out);
  save(*load_hf_model(dir), out);
  auto model = load(out);
  expect_matches_reference(*model, load_reference(dir), name + " (" + what + ")");
  std::filesystem::remove_all(out);
}

TEST_P(HfReference, ConvertedGgufLogitsMatchTransformers) {
  expect_round_trip_matches(
      GetParam(), ::testing::TempDir() + "/" + GetParam() + ".gguf", "GGUF",
      [](const Model& m, const std::string& p) { save_gguf_model(m, p, TensorType::F32); }, load_gguf_model);
}

TEST_P(HfReference, HfRoundTripKeepsLogits) {
  expect_round_trip_matches(
      GetParam(), ::testing::TempDir() + "/" + GetParam() + "_hf", "HF round trip",
      [](const Model& m, const std::string& p) { save_hf_model(m, p, TensorType::F32); }, load_hf_model);
}

TEST_P(HfReference, ShardedHfCheckpointKeepsLogits) {
  const std::string out = ::testing::TempDir() + "/" + GetParam() + "_sharded";
  expect_round_trip_matches(
      GetParam(), out, "sharded HF",
      [](const Model& m, const std::string& p) { save_hf_model(m, p, TensorType::F32, /*max_shard_bytes=*/64 << 10); },
      [](const std::string& p) {
        EXPECT_TRUE(std::filesystem::exists(p + "/model.safetensors.index.json"));
        EXPECT_FALSE(std::filesystem::exists(p + "/model.safetensors"));
        int shards = 0;
        for (const auto& e : std::filesystem::directory_iterator(p))
          shards += e.path().filename().string().rfind("model-0", 0) == 0;
        EXPECT_GE(shards, 3);
        return load_hf_model(p);
      });
}

INSTANTIATE_TEST_SUITE_P(Models, HfReference, ::testing::ValuesIn(test::reference_models()));

}  // namespace
}  // namespace qat
