// GPTQ (train/gptq.h): the Hessian it accumulates, an independent numpy GPTQ
// (tools/reference/make_gptq_fixture.py), round-to-nearest when there is no
// correlation to exploit, a lower output error than round-to-nearest when
// there is, values exactly on the LSQ grid of the scales it returns, and,
// through the trainer, a QAT start whose fake-quant model is GPTQ's result.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "base/error.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "quant/quant_types.h"
#include "train/fake_quant_ops.h"
#include "train/fake_quant_state.h"
#include "train/gemma_train.h"
#include "train/gptq.h"
#include "train/qat_scheme.h"

namespace qat {
namespace {

std::vector<float> normal(size_t n, uint32_t seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// dequantize(quantize_row_X(w)): the reference's round-to-nearest.
std::vector<float> round_to_nearest(TensorType type, const std::vector<float>& w) {
  std::vector<float> out(w.size());
  const int64_t n = int64_t(w.size());
  if (type == TensorType::Q8_0) {
    std::vector<BlockQ8_0> b(size_t(n / 32));
    quantize_row_q8_0(w.data(), b.data(), n);
    dequantize_row_q8_0(b.data(), out.data(), n);
  } else {
    std::vector<BlockQ4_0> b(size_t(n / 32));
    quantize_row_q4_0(w.data(), b.data(), n);
    dequantize_row_q4_0(b.data(), out.data(), n);
  }
  return out;
}

// Inputs whose columns are correlated (x = z A), as real activations are.
std::vector<float> correlated_inputs(int64_t n, int64_t k, uint32_t seed) {
  const std::vector<float> z = normal(size_t(n * k), seed), a = normal(size_t(k * k), seed + 1, 0.3f);
  std::vector<float> x(size_t(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < k; ++i) {
      float s = z[size_t(r * k + i)];  // identity plus a random mixing
      for (int64_t j = 0; j < k; ++j) s += z[size_t(r * k + j)] * a[size_t(j * k + i)];
      x[size_t(r * k + i)] = s;
    }
  return x;
}

TEST(Gptq, HessianIsTheSumOfOuterProducts) {
  const int64_t n = 300, k = 40;  // 300 rows: more than one chunk of 256
  const std::vector<float> x = normal(size_t(n * k), 3);
  InputHessian h(k);
  h.add(x.data(), 100);
  h.add(x.data() + 100 * k, n - 100);
  EXPECT_EQ(h.rows, n);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double want = 0;
      for (int64_t r = 0; r < n; ++r) want += double(x[size_t(r * k + i)]) * double(x[size_t(r * k + j)]);
      ASSERT_NEAR(h.h[size_t(i * k + j)], want, 1e-9 * (1 + std::fabs(want))) << i << ", " << j;
    }
}

// The fixture's GPTQ runs on numpy's LAPACK (Cholesky, inverse) in float64
// with the Q4_0 / Q8_0 block rules written from the GGUF definitions; ours
// uses its own Cholesky and the reference quantizer. Same algorithm, same
// order of columns: the same codes, scales and latents.
TEST(Gptq, MatchesAnIndependentNumpyGptq) {
  const auto st = SafetensorsFile::open(std::string(QAT_FIXTURES_DIR) + "/gptq/gptq.safetensors");
  auto get = [&](const std::string& name) {
    const StTensor* t = st->find(name);
    EXPECT_TRUE(t != nullptr && t->dtype == StDtype::F32) << name;
    return t;
  };
  const StTensor* x = get("x");
  const StTensor* w = get("w");
  ASSERT_TRUE(x && w && x->shape.size() == 2 && w->shape.size() == 2);
  const int64_t n = int64_t(x->shape[0]), k = int64_t(x->shape[1]), rows = int64_t(w->shape[0]);
  ASSERT_EQ(int64_t(w->shape[1]), k);
  InputHessian h(k);
  h.add(reinterpret_cast<const float*>(x->data), n);
  for (const char* name : {"q4_0", "q8_0"}) {
    const TensorType type = std::string(name) == "q4_0" ? TensorType::Q4_0 : TensorType::Q8_0;
    const float* wf = reinterpret_cast<const float*>(w->data);
    std::vector<float> values(wf, wf + rows * k), scales(size_t(rows * k / 32)), latent(values.size());
    gptq_quantize(type, values.data(), rows, k, h, scales.data(), 0.01, latent.data());
    const StTensor* want_v = get(std::string(name) + ".values");
    const StTensor* want_s = get(std::string(name) + ".scales");
    const StTensor* want_l = get(std::string(name) + ".latent");
    ASSERT_TRUE(want_v && want_s && want_l);
    ASSERT_EQ(want_v->n_elements, values.size());
    ASSERT_EQ(want_s->n_elements, scales.size());
    const float* wv = reinterpret_cast<const float*>(want_v->data);
    const float* ws = reinterpret_cast<const float*>(want_s->data);
    const float* wl = reinterpret_cast<const float*>(want_l->data);
    int64_t same_values = 0, same_scales = 0;
    double latent_diff = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      same_values += values[i] == wv[i];
      latent_diff = std::max(latent_diff, double(std::fabs(latent[i] - wl[i])));
    }
    for (size_t i = 0; i < scales.size(); ++i) same_scales += scales[i] == ws[i];
    std::printf("%s: %lld of %zu values and %lld of %zu scales identical to numpy's GPTQ, latents within %.2g\n",
                name, (long long)same_values, values.size(), (long long)same_scales, scales.size(), latent_diff);
    EXPECT_EQ(same_values, int64_t(values.size())) << name;
    EXPECT_EQ(same_scales, int64_t(scales.size())) << name;
    EXPECT_LT(latent_diff, 1e-5) << name;
  }
}

TEST(Gptq, WithoutCorrelationItIsTheReferenceRoundToNearest) {
  for (TensorType type : {TensorType::Q4_0, TensorType::Q8_0}) {
    const int64_t rows = 7, cols = 96;
    std::vector<float> w = normal(size_t(rows * cols), 11, 0.05f);
    w[5] = 0.9f;  // an outlier block
    for (int j = 64; j < 96; ++j) w[size_t(2 * cols + j)] = 0.0f;  // an all-zero block
    InputHessian h(cols);
    for (int64_t i = 0; i < cols; ++i) h.h[size_t(i * cols + i)] = 3.0;
    std::vector<float> g = w, scales(size_t(rows * cols / 32));
    gptq_quantize(type, g.data(), rows, cols, h, scales.data());
    const std::vector<float> rtn = round_to_nearest(type, w);
    EXPECT_EQ(std::memcmp(g.data(), rtn.data(), g.size() * sizeof(float)), 0) << tensor_type_name(type);
    std::vector<float> ref(scales.size());
    lsq_init_scales(type, w.data(), ref.data(), int64_t(w.size()));
    EXPECT_EQ(scales, ref);
  }
}

TEST(Gptq, LowersTheOutputErrorOfRoundToNearestAndStaysOnItsGrid) {
  for (TensorType type : {TensorType::Q4_0, TensorType::Q8_0}) {
    const int64_t rows = 24, cols = 128, n = 1024;
    const std::vector<float> x = correlated_inputs(n, cols, 21);
    InputHessian h(cols);
    h.add(x.data(), n);
    const std::vector<float> w = normal(size_t(rows * cols), 22, 0.05f);
    std::vector<float> g = w, scales(size_t(rows * cols / 32)), latent(w.size());
    gptq_quantize(type, g.data(), rows, cols, h, scales.data(), 0.01, latent.data());
    const double e_gptq = gptq_output_error(w.data(), g.data(), rows, cols, h);
    const double e_rtn = gptq_output_error(w.data(), round_to_nearest(type, w).data(), rows, cols, h);
    std::printf("%s: output error GPTQ %.4g, round-to-nearest %.4g (%.0f %%)\n", tensor_type_name(type), e_gptq,
                e_rtn, 100 * e_gptq / e_rtn);
    EXPECT_LT(e_gptq, 0.8 * e_rtn) << tensor_type_name(type);
    // The values are codes times the fp16 scales: LSQ's forward with these
    // scales, and the export's quantizer, give them back bit for bit.
    std::vector<float> again(g.size());
    lsq_forward(type, g.data(), scales.data(), again.data(), int64_t(g.size()));
    EXPECT_EQ(std::memcmp(g.data(), again.data(), g.size() * sizeof(float)), 0) << tensor_type_name(type);
    // So does the latent: the values GPTQ rounded, off the grid.
    lsq_forward(type, latent.data(), scales.data(), again.data(), int64_t(g.size()));
    EXPECT_EQ(std::memcmp(g.data(), again.data(), g.size() * sizeof(float)), 0) << tensor_type_name(type);
    int64_t off_grid = 0;
    for (size_t i = 0; i < g.size(); ++i) off_grid += latent[i] != g[i];
    EXPECT_GT(off_grid, int64_t(g.size()) * 9 / 10);
  }
}

TEST(Gptq, RejectsWhatItCannotQuantize) {
  InputHessian h(64);
  for (int64_t i = 0; i < 64; ++i) h.h[size_t(i * 64 + i)] = 1.0;
  std::vector<float> w(2 * 64, 0.1f), s(4);
  EXPECT_THROW(gptq_quantize(TensorType::F16, w.data(), 2, 64, h, s.data()), Error);
  EXPECT_THROW(gptq_quantize(TensorType::Q4_0, w.data(), 4, 32, h, s.data()), Error);  // 32 columns, h is 64
  EXPECT_THROW(gptq_quantize(TensorType::Q4_0, w.data(), 1, 48, InputHessian(48), s.data()), Error);
  w[3] = NAN;
  EXPECT_THROW(gptq_quantize(TensorType::Q4_0, w.data(), 2, 64, h, s.data()), Error);
  w[3] = 0.1f;
  InputHessian bad(64);  // indefinite: a negative diagonal
  for (int64_t i = 0; i < 64; ++i) bad.h[size_t(i * 64 + i)] = i == 7 ? -50.0 : 1.0;
  EXPECT_THROW(gptq_quantize(TensorType::Q4_0, w.data(), 2, 64, bad, s.data()), Error);
}

// Through the trainer: calibration covers every quantized product of a
// Gemma 3 model (Q/K/V and gate/up sharing their input's Hessian), and QAT
// starts from GPTQ's latent values as masters, whose fake quantization is
// GPTQ's result bit for bit.
TEST(Gptq, TrainerStartsQatFromTheGptqRounding) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 5);
  GemmaTrainer gt(*m);
  std::mt19937 rng(4);
  std::vector<int32_t> ids(2 * 48);
  for (auto& t : ids) t = int32_t(3 + rng() % 500);
  InputHessians hs;
  gt.accumulate_input_hessians(ids.data(), 2, 48, hs);
  const ModelConfig& c = m->config;
  const LayerWeights& l0 = m->weights.layers[0];
  EXPECT_EQ(hs.at(l0.wq.data), hs.at(l0.wk.data));
  EXPECT_EQ(hs.at(l0.wq.data), hs.at(l0.wv.data));
  EXPECT_EQ(hs.at(l0.w_gate.data), hs.at(l0.w_up.data));
  EXPECT_NE(hs.at(l0.wq.data), hs.at(l0.wo.data));
  EXPECT_EQ(hs.at(l0.wq.data)->rows, 96);
  EXPECT_EQ(hs.at(l0.w_down.data)->k, c.intermediate_size);
  EXPECT_TRUE(hs.count(m->weights.embed.data));  // the tied output projection
  // The memory check's estimate is what calibration allocated.
  std::set<const InputHessian*> distinct;
  uint64_t allocated = 0;
  for (const auto& [t, h] : hs)
    if (distinct.insert(h.get()).second) allocated += h->h.size() * sizeof(double);
  EXPECT_EQ(GemmaTrainer::input_hessian_bytes(*m), allocated);
  // What GPTQ makes of layer 1's down projection, computed here directly.
  const Tensor& down1 = m->weights.layers[1].w_down;
  std::vector<float> want(down1.f32(), down1.f32() + down1.numel()), want_scales(size_t(down1.numel() / 32));
  gptq_quantize(TensorType::Q4_0, want.data(), down1.rows(), down1.cols(), *hs.at(down1.data), want_scales.data());

  QatConfig qc;
  qc.scheme = QatScheme::W4A8;
  qc.lsq = true;
  qc.scale_init = QatConfig::ScaleInit::Gptq;
  EXPECT_THROW(gt.enable_fake_quant(qc), Error);  // GPTQ without statistics
  gt.enable_fake_quant(qc, &hs);
  int quantized = 1;  // the embedding
  for (const LayerWeights& l : m->weights.layers)
    for (const Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) quantized += t->present();
  EXPECT_EQ(gt.gptq_tensors(), quantized);
  std::vector<int32_t> tg(ids.size(), -1);
  gt.forward_lm(ids.data(), tg.data(), 2, 48);  // refreshes the shadows
  const ModelWeights& sh = gt.fake_quant()->weights();
  const Tensor& shadow1 = sh.layers[1].w_down;
  ASSERT_NE(shadow1.data, down1.data);
  EXPECT_EQ(std::memcmp(shadow1.data, want.data(), want.size() * sizeof(float)), 0);
  EXPECT_NE(std::memcmp(down1.data, want.data(), want.size() * sizeof(float)), 0);  // the master is the latent
}

}  // namespace
}  // namespace qat
