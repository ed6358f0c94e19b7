// Checkpoints: a bit-identical round trip (and an identical continuation),
// "latest" and retention, a save killed midway, leftovers from one, and
// errors that name the file and the problem.
#include "train/checkpoint_state.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <memory>
#include <fstream>

#include "base/atomic_file.h"
#include "formats/safetensors.h"
#include "train_test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::OwnedParams;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A small model: decayed and undecayed groups, a scalar, a frozen tensor.
OwnedParams make_model() {
  OwnedParams ps;
  ps.add("model.embed_tokens.weight", {6, 4}, ParamGroup::Embedding);
  ps.add("model.layers.0.mlp.up_proj.weight", {3, 4}, ParamGroup::Matrix);
  ps.add("model.layers.0.input_layernorm.weight", {4}, ParamGroup::Norm);
  ps.add("model.layers.0.layer_scalar", {1}, ParamGroup::Scalar);
  ps.add("model.layers.0.self_attn.q_proj.weight", {2, 4}, ParamGroup::Matrix, false);
  return ps;
}

// Fills only the gradients, then steps.
void step_with_random_grads(OwnedParams& ps, AdamW& opt, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (auto& g : ps.grads)
    for (float& x : g) x = normal(rng);
  opt.step(ps.list, 1e-2f);
}

TrainerState make_state(int64_t step) {
  TrainerState s;
  s.step = step;
  s.rng_state = "12345 67890 \"quoted\" \n newline";
  s.data_cursor = {{"shard", 3}, {"offset", 123456789012LL}, {"epoch", 1.5}};
  s.options = {{"lr", 3e-4}, {"model", "gemma3-270m"}, {"nested", {{"a", {1, 2, 3}}}}};
  s.loss_history = {2.5f, 0.1f + 0.2f, 1e-30f, NAN, INFINITY, -INFINITY, 3.4028235e38f};
  return s;
}

void write_fake_model(const std::string& path) { write_file_atomic(path, "GGUF fake model"); }

std::string save(const std::string& out, OwnedParams& ps, AdamW& opt, int64_t step,
                 int keep_last = 2) {
  return save_checkpoint(out, ps.list, opt, make_state(step), write_fake_model,
                         CheckpointOptions{keep_last});
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Checkpoint, RoundTripIsBitIdenticalAndContinuesIdentically) {
  const std::string out = test::scratch_dir();
  OwnedParams a = make_model();
  a.fill_random(10, 1.0f, 0.0f);
  AdamW opt_a(a.list);
  for (uint32_t s = 0; s < 3; ++s) step_with_random_grads(a, opt_a, 100 + s);
  const std::string dir = save(out, a, opt_a, 3);
  EXPECT_EQ(dir, out + "/checkpoint-00000003");

  OwnedParams b = make_model();  // all zeros, no optimizer state
  AdamW opt_b(b.list);
  TrainerState st;
  load_checkpoint(dir, b.list, opt_b, st);
  for (size_t k = 0; k < a.list.size(); ++k) {
    EXPECT_TRUE(test::same_bits(a.values[k].data(), b.values[k].data(), a.list[k].numel)) << k;
    const AdamWSlot &sa = opt_a.slots()[k], &sb = opt_b.slots()[k];
    EXPECT_EQ(sa.step, sb.step) << k;
    ASSERT_EQ(sa.m.size(), sb.m.size()) << k;
    EXPECT_TRUE(test::same_bits(sa.m.data(), sb.m.data(), int64_t(sa.m.size()))) << k;
    EXPECT_TRUE(test::same_bits(sa.v.data(), sb.v.data(), int64_t(sa.v.size()))) << k;
  }
  EXPECT_TRUE(opt_b.slots()[4].m.empty());  // the frozen one has no state
  EXPECT_EQ(opt_b.step_count(), 3);

  const TrainerState want = make_state(3);
  EXPECT_EQ(st.step, 3);
  EXPECT_EQ(st.rng_state, want.rng_state);
  EXPECT_EQ(st.data_cursor, want.data_cursor);
  EXPECT_EQ(st.options, want.options);
  ASSERT_EQ(st.loss_history.size(), want.loss_history.size());
  for (size_t i = 0; i < st.loss_history.size(); ++i) {
    if (std::isnan(want.loss_history[i]))
      EXPECT_TRUE(std::isnan(st.loss_history[i]));
    else
      EXPECT_EQ(std::bit_cast<uint32_t>(st.loss_history[i]),
                std::bit_cast<uint32_t>(want.loss_history[i])) << i;
  }

  // The resumed run continues exactly as the original.
  for (uint32_t s = 3; s < 5; ++s) {
    step_with_random_grads(a, opt_a, 100 + s);
    step_with_random_grads(b, opt_b, 100 + s);
  }
  for (size_t k = 0; k < a.list.size(); ++k)
    EXPECT_TRUE(test::same_bits(a.values[k].data(), b.values[k].data(), a.list[k].numel)) << k;
}

TEST(Checkpoint, LayoutAndLatest) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  AdamW opt(ps.list);
  EXPECT_EQ(find_latest_checkpoint(out), std::nullopt);
  EXPECT_EQ(find_latest_checkpoint(out + "/nonexistent"), std::nullopt);
  save(out, ps, opt, 0);
  step_with_random_grads(ps, opt, 1);
  const std::string dir = save(out, ps, opt, 1);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000000", "checkpoint-00000001", "latest"}));
  EXPECT_EQ(entries(dir), (std::vector<std::string>{"model.gguf", "optimizer.safetensors", "trainer.json"}));
  EXPECT_EQ(read_text_file(out + "/latest"), "checkpoint-00000001\n");
  EXPECT_EQ(find_latest_checkpoint(out), dir);

  auto f = SafetensorsFile::open(dir + "/optimizer.safetensors");
  EXPECT_EQ(f->metadata().at("step_count"), "1");
  EXPECT_NE(f->find("param.model.layers.0.self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(f->find("adam_m.model.layers.0.self_attn.q_proj.weight"), nullptr);  // frozen
  const StTensor* m = f->find("adam_m.model.embed_tokens.weight");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->shape, (std::vector<uint64_t>{6, 4}));
  EXPECT_EQ(m->dtype, StDtype::F32);
}

TEST(Checkpoint, KeepsTheLastK) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  AdamW opt(ps.list);
  for (int64_t s = 1; s <= 5; ++s) save(out, ps, opt, s * 100);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000400", "checkpoint-00000500", "latest"}));
  for (int64_t s = 6; s <= 8; ++s) save(out, ps, opt, s * 100, /*keep_last=*/3);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000600", "checkpoint-00000700",
                                                    "checkpoint-00000800", "latest"}));
  for (int64_t s = 9; s <= 10; ++s) save(out, ps, opt, s * 100, /*keep_last=*/0);  // keep all
  EXPECT_EQ(entries(out).size(), 6u);
  // A resumed earlier checkpoint does not delete the abandoned later ones.
  save(out, ps, opt, 650, /*keep_last=*/1);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000650", "checkpoint-00000700",
                                                    "checkpoint-00000800", "checkpoint-00000900",
                                                    "checkpoint-00001000", "latest"}));
  EXPECT_EQ(find_latest_checkpoint(out), out + "/checkpoint-00000650");
}

// A save killed (SIGKILL) while the model is being written: "latest" still
// names the previous checkpoint, which loads; the next save cleans up.
TEST(Checkpoint, SaveKilledMidwayLeavesThePreviousCheckpointLatest) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  ps.fill_random(20, 1.0f, 0.0f);
  AdamW opt(ps.list);
  step_with_random_grads(ps, opt, 21);
  const std::string first = save(out, ps, opt, 1);
  const std::vector<float> saved = ps.values[0];
  step_with_random_grads(ps, opt, 22);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    save_checkpoint(out, ps.list, opt, make_state(2), [](const std::string& path) {
      std::ofstream(path) << "half a mod";
      ::raise(SIGKILL);
    });
    ::_exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  const std::string leftover = "checkpoint-00000002.tmp-" + std::to_string(child);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000001", leftover, "latest"}));
  ASSERT_EQ(find_latest_checkpoint(out), first);

  OwnedParams back = make_model();
  AdamW opt_back(back.list);
  TrainerState st;
  load_checkpoint(*find_latest_checkpoint(out), back.list, opt_back, st);
  EXPECT_EQ(back.values[0], saved);
  EXPECT_EQ(st.step, 1);

  save(out, ps, opt, 2);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000001", "checkpoint-00000002", "latest"}));
  EXPECT_EQ(find_latest_checkpoint(out), out + "/checkpoint-00000002");
}

// What other crash points leave: a stale temporary "latest", a complete
// checkpoint renamed into place before "latest" was rewritten, or no
// "latest" at all after the very first save.
TEST(Checkpoint, LeftoversFromOtherCrashPoints) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  AdamW opt(ps.list);
  save(out, ps, opt, 1);
  fs::create_directory(out + "/checkpoint-00000002");  // renamed, "latest" not yet rewritten
  for (const char* f : {"model.gguf", "optimizer.safetensors", "trainer.json"})
    fs::copy_file(out + "/checkpoint-00000001/" + f, out + "/checkpoint-00000002/" + f);
  std::ofstream(out + "/latest.tmp-999999") << "checkpoint-000";
  fs::create_directory(out + "/checkpoint-00000003.tmp-999998");
  EXPECT_EQ(find_latest_checkpoint(out), out + "/checkpoint-00000001");

  fs::remove(out + "/latest");
  EXPECT_EQ(find_latest_checkpoint(out), out + "/checkpoint-00000002");

  save(out, ps, opt, 4);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000002", "checkpoint-00000004", "latest"}));
}

TEST(Checkpoint, SavingAStepAgainReplacesItAtomically) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  AdamW opt(ps.list);
  save(out, ps, opt, 7);
  ps.fill_random(30, 1.0f, 0.0f);
  save(out, ps, opt, 7);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000007", "latest"}));
  OwnedParams back = make_model();
  AdamW opt_back(back.list);
  TrainerState st;
  load_checkpoint(out + "/checkpoint-00000007", back.list, opt_back, st);
  EXPECT_EQ(back.values[1], ps.values[1]);
}

TEST(Checkpoint, FailedModelWriteLeavesNothing) {
  const std::string out = test::scratch_dir();
  OwnedParams ps = make_model();
  AdamW opt(ps.list);
  save(out, ps, opt, 1);
  const std::string err = error_of([&] {
    save_checkpoint(out, ps.list, opt, make_state(2), [](const std::string&) {});
  });
  EXPECT_TRUE(contains(err, "model.gguf")) << err;
  EXPECT_EQ(entries(out), (std::vector<std::string>{"checkpoint-00000001", "latest"}));
}

// ---- errors ----------------------------------------------------------------

class CheckpointErrors : public testing::Test {
 protected:
  void SetUp() override {
    out_ = test::scratch_dir();
    ps_ = make_model();
    ps_.fill_random(40, 1.0f, 0.0f);
    opt_ = std::make_unique<AdamW>(ps_.list);
    step_with_random_grads(ps_, *opt_, 41);
    dir_ = save(out_, ps_, *opt_, 5);
  }
  // Loads dir_ into a model built by make (fresh optimizer); returns the error.
  std::string load_error(OwnedParams model) {
    AdamW opt(model.list);
    TrainerState st;
    return error_of([&] { load_checkpoint(dir_, model.list, opt, st); });
  }
  std::string out_, dir_;
  OwnedParams ps_;
  std::unique_ptr<AdamW> opt_;
};

TEST_F(CheckpointErrors, MissingFile) {
  fs::remove(dir_ + "/trainer.json");
  const std::string err = load_error(make_model());
  EXPECT_TRUE(contains(err, "trainer.json") && contains(err, "missing")) << err;
}

TEST_F(CheckpointErrors, CorruptTrainerJson) {
  std::ofstream(dir_ + "/trainer.json") << "{\"format\": \"qat.trainer_state\", ";
  std::string err = load_error(make_model());
  EXPECT_TRUE(contains(err, "trainer.json") && contains(err, "not valid JSON")) << err;
  std::ofstream(dir_ + "/trainer.json") << R"({"format": "qat.trainer_state", "version": 1, "step": -4})";
  err = load_error(make_model());
  EXPECT_TRUE(contains(err, "trainer.json") && contains(err, "'step'")) << err;
}

TEST_F(CheckpointErrors, ParameterMissingFromTheFile) {
  OwnedParams model = make_model();
  model.add("score.weight", {2, 4}, ParamGroup::Head);
  const std::string err = load_error(std::move(model));
  EXPECT_TRUE(contains(err, "optimizer.safetensors") && contains(err, "'param.score.weight'")) << err;
}

TEST_F(CheckpointErrors, ExtraParameterInTheFile) {
  OwnedParams model;
  model.add("model.embed_tokens.weight", {6, 4}, ParamGroup::Embedding);
  const std::string err = load_error(std::move(model));
  EXPECT_TRUE(contains(err, "optimizer.safetensors") && contains(err, "does not have")) << err;
}

TEST_F(CheckpointErrors, ShapeMismatchNamesBothShapesAndChangesNothing) {
  OwnedParams model = make_model();
  model.list[1].shape = {4, 3};
  model.values[0].assign(24, 9.0f);
  AdamW opt(model.list);
  TrainerState st;
  st.step = 77;
  const std::string err = error_of([&] { load_checkpoint(dir_, model.list, opt, st); });
  EXPECT_TRUE(contains(err, "optimizer.safetensors") && contains(err, "[3, 4]") &&
              contains(err, "[4, 3]"))
      << err;
  EXPECT_EQ(model.values[0], std::vector<float>(24, 9.0f));
  EXPECT_EQ(st.step, 77);
  EXPECT_TRUE(opt.slots()[0].m.empty());
}

TEST_F(CheckpointErrors, WrongDtype) {
  std::vector<uint16_t> half(24, 0);
  std::vector<StWriteTensor> tensors;
  for (const Parameter& p : ps_.list) {
    std::vector<uint64_t> shape(p.shape.begin(), p.shape.end());
    if (p.name == "model.embed_tokens.weight")
      tensors.push_back({"param." + p.name, StDtype::F16, shape, half.data()});
    else
      tensors.push_back({"param." + p.name, StDtype::F32, shape, p.value});
  }
  write_safetensors(dir_ + "/optimizer.safetensors", tensors,
                    {{"format", "qat.optimizer.adamw"}, {"version", "1"}, {"step_count", "0"},
                     {"param_steps", "{}"}, {"config", "{}"}});
  const std::string err = load_error(make_model());
  EXPECT_TRUE(contains(err, "optimizer.safetensors") && contains(err, "F16") &&
              contains(err, "F32"))
      << err;
}

TEST_F(CheckpointErrors, TruncatedOptimizerFile) {
  const std::string path = dir_ + "/optimizer.safetensors";
  fs::resize_file(path, fs::file_size(path) - 10);
  const std::string err = load_error(make_model());
  EXPECT_TRUE(contains(err, "optimizer.safetensors")) << err;
}

TEST_F(CheckpointErrors, LatestNamingAMissingDirectory) {
  write_file_atomic(out_ + "/latest", "checkpoint-00000099\n");
  std::string err = error_of([&] { find_latest_checkpoint(out_); });
  EXPECT_TRUE(contains(err, "latest") && contains(err, "checkpoint-00000099")) << err;
  write_file_atomic(out_ + "/latest", "../../etc\n");
  err = error_of([&] { find_latest_checkpoint(out_); });
  EXPECT_TRUE(contains(err, "latest") && contains(err, "expected a checkpoint directory")) << err;
}

}  // namespace
}  // namespace qat
