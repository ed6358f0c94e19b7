// AdamW: hand-computed steps, weight decay by group, frozen and late-unfrozen
// parameters, thread-count independence, and torch's results (the golden
// fixture from tools/reference/make_adamw_fixture.py, with clipping).
#include "train/adamw.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "train/grad_clip.h"
#include "train_test_util.h"

namespace qat {
namespace {

using test::OwnedParams;

constexpr float kLr = 0.1f;

// Step 1 with m = v = 0: m/bc1 = g and sqrt(v/bc2) = |g|, so every weight
// moves by lr * sign(g) whatever the gradient's size (eps aside).
TEST(AdamW, FirstStepMovesEveryWeightByLrTimesSign) {
  OwnedParams ps;
  ps.add("w", {2, 3}, ParamGroup::Matrix);
  ps.add("norm", {3}, ParamGroup::Norm);
  ps.values[0] = {1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -0.25f};
  ps.grads[0] = {1e-3f, -50.0f, 2.0f, -1.0f, 1e-6f, 7.0f};
  ps.values[1] = {1.0f, 2.0f, -1.0f};
  ps.grads[1] = {-3.0f, 0.01f, 4.0f};
  AdamW opt(ps.list, AdamWConfig{0.9f, 0.95f, 1e-8f, 0.1f});
  opt.step(ps.list, kLr);
  const float w0[] = {1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -0.25f};
  for (int i = 0; i < 6; ++i) {
    const float g = ps.grads[0][i];
    const double want = w0[i] * (1.0 - 0.1 * 0.1) - 0.1 * g / (std::fabs(g) + 1e-8);
    EXPECT_NEAR(ps.values[0][i], want, 2e-7) << i;  // decayed: Matrix
  }
  const float n0[] = {1.0f, 2.0f, -1.0f};
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(ps.values[1][i], n0[i] - 0.1 * std::copysign(1.0, ps.grads[1][i]), 2e-7) << i;
  EXPECT_EQ(opt.step_count(), 1);
  EXPECT_EQ(opt.slots()[0].step, 1);
}

// Gradients +1 then -1, by hand (betas 0.9 / 0.95, lr 0.1):
//   step 1: p -= 0.1 (after decay)
//   step 2: m = 0.9*0.1 - 0.1 = -0.01, v = 0.95*0.05 + 0.05 = 0.0975,
//           bc1 = 0.19, bc2 = 0.0975: p += 0.1 * 0.01/0.19 = 0.00526315789
// With weight decay 0.1 a Matrix weight is first multiplied by 0.99 each step.
TEST(AdamW, TwoHandComputedStepsWithDecayOnlyWhereDecayed) {
  OwnedParams ps;
  ps.add("m", {1}, ParamGroup::Matrix);
  ps.add("e", {1}, ParamGroup::Embedding);
  ps.add("h", {1}, ParamGroup::Head);
  ps.add("n", {1}, ParamGroup::Norm);
  ps.add("s", {1}, ParamGroup::Scalar);
  for (auto& v : ps.values) v[0] = 0.5f;
  AdamW opt(ps.list, AdamWConfig{0.9f, 0.95f, 1e-8f, 0.1f});
  for (auto& g : ps.grads) g[0] = 1.0f;
  opt.step(ps.list, kLr);
  for (auto& g : ps.grads) g[0] = -1.0f;
  opt.step(ps.list, kLr);
  const double up = 0.1 * (0.01 / 0.19);
  const double decayed = (0.5 * 0.99 - 0.1) * 0.99 + up;  // 0.39631316
  const double plain = 0.5 - 0.1 + up;                    // 0.40526316
  EXPECT_NEAR(ps.values[0][0], decayed, 1e-7);
  EXPECT_NEAR(ps.values[1][0], decayed, 1e-7);
  EXPECT_NEAR(ps.values[2][0], decayed, 1e-7);
  EXPECT_NEAR(ps.values[3][0], plain, 1e-7);
  EXPECT_NEAR(ps.values[4][0], plain, 1e-7);
  // The same in the float betas' exact values: m = -(1-b1)^2, v = (1-b2)(1+b2).
  const double b1 = 0.9f, b2 = 0.95f;
  EXPECT_NEAR(opt.slots()[0].m[0], -(1 - b1) * (1 - b1), 1e-8);
  EXPECT_NEAR(opt.slots()[0].v[0], (1 - b2) * (1 + b2), 1e-8);

  // weight_decay = 0 turns decay off for every group.
  OwnedParams q;
  q.add("m", {1}, ParamGroup::Matrix);
  q.values[0][0] = 0.5f;
  AdamW no_decay(q.list, AdamWConfig{0.9f, 0.95f, 1e-8f, 0.0f});
  q.grads[0][0] = 1.0f;
  no_decay.step(q.list, kLr);
  q.grads[0][0] = -1.0f;
  no_decay.step(q.list, kLr);
  EXPECT_NEAR(q.values[0][0], plain, 1e-7);
}

TEST(AdamW, FrozenParametersAndTheirGradsAreUntouched) {
  OwnedParams ps;
  ps.add("w", {4, 5}, ParamGroup::Matrix);
  ps.add("frozen", {3, 7}, ParamGroup::Matrix, /*trainable=*/false);
  ps.fill_random(1, 1.0f, 1.0f);
  const std::vector<float> value = ps.values[1], grad = ps.grads[1], w = ps.values[0];
  AdamW opt(ps.list);
  for (int s = 0; s < 3; ++s) opt.step(ps.list, 1e-2f);
  EXPECT_EQ(ps.values[1], value);
  EXPECT_EQ(ps.grads[1], grad);
  EXPECT_TRUE(opt.slots()[1].m.empty());
  EXPECT_EQ(opt.slots()[1].step, 0);
  EXPECT_NE(ps.values[0], w);
  EXPECT_EQ(opt.slots()[0].step, 3);
}

// A parameter's lr_scale multiplies the learning rate it is stepped with:
// the same parameter in a list of its own at lr * scale moves identically.
TEST(AdamW, LrScaleIsTheParametersOwnLearningRate) {
  OwnedParams scaled, plain;
  for (OwnedParams* ps : {&scaled, &plain}) {
    ps->add("s", {8}, ParamGroup::QuantScale);
    ps->fill_random(3, 1.0f, 1.0f);
  }
  scaled.list[0].lr_scale = 0.25f;
  AdamW a(scaled.list), b(plain.list);
  for (int s = 0; s < 3; ++s) {
    a.step(scaled.list, 4e-2f);
    b.step(plain.list, 1e-2f);
  }
  EXPECT_EQ(scaled.values[0], plain.values[0]);
  EXPECT_NE(scaled.values[0], std::vector<float>(8, 0.0f));
}

// As in torch, a parameter's state and bias correction start on its first
// update: unfrozen after 3 steps, its first update is lr * sign(g).
TEST(AdamW, ParameterUnfrozenLaterStartsFromItsOwnStepOne) {
  OwnedParams ps;
  ps.add("w", {8}, ParamGroup::Norm);
  ps.add("late", {8}, ParamGroup::Norm, /*trainable=*/false);
  ps.fill_random(2, 1.0f, 1.0f);
  AdamW opt(ps.list);
  for (int s = 0; s < 3; ++s) opt.step(ps.list, 1e-2f);
  ps.list[1].trainable = true;
  const std::vector<float> before = ps.values[1];
  opt.step(ps.list, 1e-2f);
  EXPECT_EQ(opt.step_count(), 4);
  EXPECT_EQ(opt.slots()[0].step, 4);
  EXPECT_EQ(opt.slots()[1].step, 1);
  for (int i = 0; i < 8; ++i)
    EXPECT_NEAR(ps.values[1][i], before[i] - 1e-2 * std::copysign(1.0, ps.grads[1][i]), 1e-7);
}

TEST(AdamW, SameBitsOnAnyThreadCount) {
  auto run = [](int threads) {
    OwnedParams ps;
    ps.add("big", {300, 1000}, ParamGroup::Matrix);  // above the parallel threshold
    ps.add("norm", {1000}, ParamGroup::Norm);
    ps.fill_random(3, 0.5f, 0.1f);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    AdamW opt(ps.list);
    for (int s = 0; s < 3; ++s) opt.step(ps.list, 1e-3f);
    omp_set_num_threads(saved);
    return std::vector<float>(ps.values[0].begin(), ps.values[0].end());
  };
  const std::vector<float> one = run(1), four = run(4);
  EXPECT_TRUE(test::same_bits(one.data(), four.data(), int64_t(one.size())));
}

TEST(AdamW, RejectsBadConfigLrAndAChangedList) {
  OwnedParams ps;
  ps.add("a", {2}, ParamGroup::Norm);
  ps.add("b", {2}, ParamGroup::Norm);
  EXPECT_NE(test::error_of([&] { AdamW(ps.list, AdamWConfig{1.0f, 0.95f, 1e-8f, 0.1f}); })
                .find("beta1"),
            std::string::npos);
  AdamW opt(ps.list);
  EXPECT_NE(test::error_of([&] { opt.step(ps.list, -1.0f); }).find("learning rate"),
            std::string::npos);
  std::swap(ps.list[0], ps.list[1]);
  EXPECT_NE(test::error_of([&] { opt.step(ps.list, 1e-3f); }).find("changed order"),
            std::string::npos);
  ps.list.pop_back();
  EXPECT_NE(test::error_of([&] { opt.step(ps.list, 1e-3f); }).find("built for 2"),
            std::string::npos);
}

// ---- torch golden --------------------------------------------------------

using json = nlohmann::json;

json load_fixture() {
  const std::string path = std::string(QAT_FIXTURES_DIR) + "/train_optim/adamw_torch.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

ParamGroup group_named(const std::string& name) {
  for (ParamGroup g : {ParamGroup::Embedding, ParamGroup::Matrix, ParamGroup::Norm,
                       ParamGroup::Scalar, ParamGroup::Head})
    if (name == param_group_name(g)) return g;
  ADD_FAILURE() << "unknown group " << name;
  return ParamGroup::Matrix;
}

struct GoldenDiff {
  int64_t values = 0, differing = 0;  // values compared / not bit-equal
  double max_rel = 0.0;               // max |ours - torch| / max(|torch|, scale)
  // scale: 0 for parameters and norms (plain relative error); for moments the
  // tensor's largest magnitude, since cancellation makes single entries tiny.
  void add(float ours, float ref, double scale = 0.0) {
    ++values;
    if (ours == ref) return;
    ++differing;
    const double denom = std::max({std::fabs(double(ref)), scale, 1e-30});
    max_rel = std::max(max_rel, std::fabs(double(ours) - ref) / denom);
  }
};
struct GoldenResult {
  GoldenDiff params;   // every parameter and the norm after every step
  GoldenDiff moments;  // exp_avg and exp_avg_sq after the last step
};

double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, std::fabs(double(x)));
  return m;
}

// Copies into the buffer a Parameter points at (assigning a new vector
// would move another buffer in and leave the Parameter dangling).
void copy_into(std::vector<float>& dst, const json& src) {
  const std::vector<float> v = src.get<std::vector<float>>();
  ASSERT_EQ(v.size(), dst.size());
  std::copy(v.begin(), v.end(), dst.begin());
}

// Five steps of clip_grad_norm + AdamW on the fixture's inputs, compared with
// one expected series after every step.
GoldenResult run_golden(const std::string& variant) {
  const json f = load_fixture();
  OwnedParams ps;
  for (const json& p : f["params"]) {
    ps.add(p["name"].get<std::string>(), p["shape"].get<std::vector<int64_t>>(),
           group_named(p["group"].get<std::string>()), p["trainable"].get<bool>());
    copy_into(ps.values.back(), p["init"]);
  }
  const json& c = f["config"];
  AdamW opt(ps.list, AdamWConfig{c["beta1"].get<float>(), c["beta2"].get<float>(),
                                 c["eps"].get<float>(), c["weight_decay"].get<float>()});
  const json& expected = f["expected"][variant];
  GoldenResult diff;
  for (size_t s = 0; s < f["lrs"].size(); ++s) {
    for (size_t k = 0; k < ps.list.size(); ++k) {
      copy_into(ps.grads[k], f["grads"][s][k]);
      // Frozen: torch has no grad; ours has one, which must be ignored.
      if (!ps.list[k].trainable) std::fill(ps.grads[k].begin(), ps.grads[k].end(), 1e3f);
    }
    const float norm = clip_grad_norm(ps.list, f["max_norm"].get<float>());
    opt.step(ps.list, f["lrs"][s].get<float>());
    const json& want = expected["steps"][s];
    diff.params.add(norm, want["norm"].get<float>());
    for (size_t k = 0; k < ps.list.size(); ++k) {
      const std::vector<float> ref = want["params"][k];
      EXPECT_EQ(ref.size(), ps.values[k].size());
      for (size_t i = 0; i < ref.size(); ++i) diff.params.add(ps.values[k][i], ref[i]);
    }
  }
  size_t t = 0;
  for (size_t k = 0; k < ps.list.size(); ++k) {
    if (!ps.list[k].trainable) continue;
    const std::vector<float> m = expected["final_state"]["exp_avg"][t];
    const std::vector<float> v = expected["final_state"]["exp_avg_sq"][t++];
    for (size_t i = 0; i < m.size(); ++i) diff.moments.add(opt.slots()[k].m[i], m[i], max_abs(m));
    for (size_t i = 0; i < v.size(); ++i) diff.moments.add(opt.slots()[k].v[i], v[i], max_abs(v));
  }
  return diff;
}

// torch with a correctly rounded sqrt and norm: every other operation is
// torch's own, so ours must agree bit for bit.
TEST(AdamWGolden, BitExactWithTorchGivenCorrectlyRoundedSqrtAndNorm) {
  const GoldenResult r = run_golden("ieee_sqrt");
  EXPECT_EQ(r.params.values, 5 * (1 + 192));
  EXPECT_EQ(r.moments.values, 2 * 180);
  EXPECT_EQ(r.params.differing, 0) << "max relative difference " << r.params.max_rel;
  EXPECT_EQ(r.moments.differing, 0) << "max relative difference " << r.moments.max_rel;
}

// Stock torch: its MKL sqrt and float norm reduction differ from the exact
// ones by under an ulp, which moves some values by an ulp or two.
TEST(AdamWGolden, MatchesStockTorchWithin1e6Relative) {
  const GoldenResult r = run_golden("torch");
  EXPECT_LE(r.params.max_rel, 1e-6);
  EXPECT_LE(r.moments.max_rel, 1e-6);
  std::printf("[ stock torch ] parameters and norms: %lld of %lld differ, max relative %.3g; "
              "moments: %lld of %lld differ, max %.3g of the tensor's largest\n",
              static_cast<long long>(r.params.differing), static_cast<long long>(r.params.values),
              r.params.max_rel, static_cast<long long>(r.moments.differing),
              static_cast<long long>(r.moments.values), r.moments.max_rel);
}

}  // namespace
}  // namespace qat
