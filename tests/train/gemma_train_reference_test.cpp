// The whole training step against PyTorch (llm.c's test_gpt2): tiny Gemma 3
// and Gemma 4 models in HF transformers (fixtures from
// tools/reference/make_train_fixtures.py) give logits, loss and every
// parameter's gradient for one batch; our engine must match them (logits and
// gradients within 1e-4 relative per tensor, loss within 1e-5).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "train/adamw.h"
#include "train/gemma_train.h"
#include "train/grad_clip.h"

namespace qat {
namespace {

std::string train_dir(const std::string& name) { return std::string(QAT_FIXTURES_DIR) + "/train/" + name; }

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<float> v(size_t(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), std::streamsize(v.size() * 4));
  return v;
}

// max |a - b| / max |b|: a tensor's error relative to its scale.
double rel_error(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num = std::max(num, double(std::fabs(a[i] - b[i])));
    den = std::max(den, double(std::fabs(b[i])));
  }
  return num / std::max(den, 1e-30);
}

std::vector<int32_t> flat(const nlohmann::json& rows) {
  std::vector<int32_t> v;
  for (const auto& r : rows)
    for (const auto& x : r) v.push_back(x.get<int32_t>());
  return v;
}

struct Fixture {
  nlohmann::json ref;
  std::unique_ptr<Model> model;
  std::unique_ptr<GemmaTrainer> trainer;
  std::vector<int32_t> ids, targets, labels, lengths;
  int64_t B = 0, T = 0;

  explicit Fixture(const std::string& name) {
    ref = nlohmann::json::parse(read_text_file(train_dir(name) + "/reference.json"));
    model = load_model(std::string(QAT_FIXTURES_DIR) + "/models/" + ref["model"].get<std::string>());
    B = ref["batch"];
    T = ref["seq"];
    ids = flat(ref["ids"]);
    ClassifierHead head;
    if (ref["task"] == "classify") {
      head.num_classes = ref["num_classes"];
      head.pooling = ref["pooling"] == "mean" ? Pooling::Mean : Pooling::Last;
      labels = ref["labels"].get<std::vector<int32_t>>();
      lengths.assign(size_t(B), int32_t(T));
    } else {
      targets = flat(ref["targets"]);
    }
    trainer = std::make_unique<GemmaTrainer>(*model, head);
    if (head.num_classes > 0) {
      auto st = SafetensorsFile::open(train_dir(name) + "/head.safetensors");
      const StTensor* w = st->find("score.weight");
      EXPECT_TRUE(w != nullptr);
      EXPECT_EQ(w->n_elements, uint64_t(head.num_classes * model->config.hidden_size));
      const float* p = reinterpret_cast<const float*>(w->data);
      std::copy(p, p + w->n_elements, trainer->head_weight());
    }
  }
  double forward() {
    if (!labels.empty()) return trainer->forward_classify(ids.data(), lengths.data(), labels.data(), B, T);
    return trainer->forward_lm(ids.data(), targets.data(), B, T);
  }
};

class TrainReference : public testing::TestWithParam<std::string> {};

TEST_P(TrainReference, LogitsLossAndEveryGradient) {
  Fixture fx(GetParam());
  const double loss = fx.forward();
  const double ref_loss = fx.ref["loss"];
  EXPECT_NEAR(loss, ref_loss, 1e-5 * std::max(1.0, std::abs(ref_loss)));
  const std::vector<float> ref_logits = read_f32(train_dir(GetParam()) + "/logits.bin");
  ASSERT_EQ(fx.trainer->logits().size(), ref_logits.size());
  EXPECT_LT(rel_error(fx.trainer->logits().data(), ref_logits.data(), ref_logits.size()), 1e-4);

  zero_grads(fx.trainer->parameters());
  fx.trainer->backward();
  auto grads = SafetensorsFile::open(train_dir(GetParam()) + "/grads.safetensors");
  std::set<std::string> frozen;
  for (const auto& n : fx.ref["frozen"]) frozen.insert(n.get<std::string>());
  size_t compared = 0;
  double worst = 0;
  for (const Parameter& p : fx.trainer->parameters()) {
    const StTensor* g = grads->find(p.name);
    if (!g) {
      // HF has no gradient for buffers (Gemma 4's layer_scalar) and for
      // tensors the task does not use (the LM head under classification).
      EXPECT_TRUE(frozen.count(p.name) || fx.ref["task"] == "classify") << "no reference gradient for " << p.name;
      continue;
    }
    ASSERT_EQ(g->n_elements, uint64_t(p.numel)) << p.name;
    const double e = rel_error(p.grad, reinterpret_cast<const float*>(g->data), size_t(p.numel));
    EXPECT_LT(e, 1e-4) << p.name;
    worst = std::max(worst, e);
    ++compared;
  }
  std::printf("%s: loss %.7f (torch %.7f), %zu gradients, worst relative error %.2e\n", GetParam().c_str(), loss,
              ref_loss, compared, worst);
  EXPECT_EQ(compared, grads->tensors().size()) << "a reference gradient has no parameter of ours";
}

// Ten AdamW steps on the same batch with gradient clipping, as torch ran them
// (decay on matrices and embeddings only; HF buffers frozen): every loss
// within 1e-5 relative.
TEST_P(TrainReference, TenAdamWStepsMatchTorch) {
  Fixture fx(GetParam());
  const auto& h = fx.ref["adamw"];
  AdamWConfig cfg;
  cfg.beta1 = h["beta1"];
  cfg.beta2 = h["beta2"];
  cfg.eps = h["eps"];
  cfg.weight_decay = h["weight_decay"];
  const float lr = h["lr"], clip = h["clip_norm"];
  ParameterList& params = fx.trainer->parameters();
  for (Parameter& p : params) {
    // torch's decay rule here: tensors of dim >= 2. Ours by group gives the
    // same split for these models (the head is 2-D and decayed).
    EXPECT_EQ(p.decayed(), p.shape.size() >= 2) << p.name;
  }
  AdamW opt(params, cfg);
  const auto& losses = fx.ref["losses"];
  ASSERT_EQ(losses.size(), 10u);
  double worst = 0;
  for (int step = 0; step < 10; ++step) {
    zero_grads(params);
    const double loss = fx.forward();
    const double want = losses[size_t(step)];
    EXPECT_NEAR(loss, want, 1e-5 * std::max(1.0, std::abs(want))) << "step " << step;
    worst = std::max(worst, std::abs(loss - want) / std::max(1.0, std::abs(want)));
    fx.trainer->backward();
    if (step == 0) {
      const double norm = grad_norm(params);
      EXPECT_NEAR(norm, double(fx.ref["grad_norm"]), 1e-4 * double(fx.ref["grad_norm"]));
    }
    clip_grad_norm(params, clip);
    opt.step(params, lr);
  }
  std::printf("%s: 10 AdamW steps, loss %.6f -> %.6f, worst loss error %.2e\n", GetParam().c_str(),
              double(losses[0]), double(losses[9]), worst);
}

INSTANTIATE_TEST_SUITE_P(Models, TrainReference,
                         testing::Values("gemma3_gqa", "gemma3_mqa_untied", "gemma3_mha", "gemma4_keqv",
                                         "gemma4_kvshare", "gemma4_ple", "gemma3_gqa_cls_last",
                                         "gemma4_ple_cls_mean"));

}  // namespace
}  // namespace qat
