// Finite-difference checks, in double precision, of every training op's
// backward: for a random projection R, loss = sum(R * op(inputs)); each
// element of each input and parameter is nudged by +-h (central difference)
// and the slope compared with what *_backward accumulated.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "model/config.h"
#include "model/rope_table.h"
#include "train/train_ops.h"

namespace qat {
namespace {

using Vec = std::vector<double>;

Vec randn(size_t n, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, scale);
  Vec v(n);
  for (double& x : v) x = nd(rng);
  return v;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct Checked {
  const char* name;
  Vec* x;
  const Vec* grad;
};

// Central differences of loss() against each analytic gradient.
void expect_fd(const std::function<double()>& loss, const std::vector<Checked>& ins, double tol = 1e-6) {
  const double h = 1e-6;
  for (const Checked& c : ins) {
    ASSERT_EQ(c.x->size(), c.grad->size()) << c.name;
    double worst = 0;
    for (size_t i = 0; i < c.x->size(); ++i) {
      const double keep = (*c.x)[i];
      (*c.x)[i] = keep + h;
      const double lp = loss();
      (*c.x)[i] = keep - h;
      const double lm = loss();
      (*c.x)[i] = keep;
      const double num = (lp - lm) / (2 * h);
      const double err = std::abs(num - (*c.grad)[i]) / std::max(1.0, std::abs(num));
      worst = std::max(worst, err);
      EXPECT_LT(err, tol) << c.name << "[" << i << "]: finite difference " << num << ", backward "
                          << (*c.grad)[i];
      if (err >= tol) return;  // one report per input is enough
    }
    // Guard against an all-zero gradient passing trivially.
    double norm = 0;
    for (double g : *c.grad) norm += g * g;
    EXPECT_GT(norm, 0.0) << c.name << ": gradient is all zero";
  }
}

TEST(TrainOpsFd, Embedding) {
  const int64_t V = 7, C = 5, N = 6;
  std::vector<int32_t> ids = {3, 1, 3, 6, 0, 3};  // repeated ids accumulate
  Vec table = randn(V * C, 1), R = randn(N * C, 2), out(N * C), dtable(V * C, 0.0);
  const double scale = 2.5;
  auto loss = [&] {
    embedding_forward(out.data(), ids.data(), table.data(), N, C, scale);
    return dot(out, R);
  };
  embedding_backward(dtable.data(), R.data(), ids.data(), N, C, scale);
  // Rows of ids never used get no gradient; the check covers all of them.
  expect_fd(loss, {{"table", &table, &dtable}});
  // The padding row (torch's padding_idx) receives no gradient.
  Vec dskip(V * C, 0.0);
  embedding_backward(dskip.data(), R.data(), ids.data(), N, C, scale, /*skip_id=*/3);
  for (int64_t i = 0; i < C; ++i) EXPECT_EQ(dskip[size_t(3 * C + i)], 0.0);
  EXPECT_EQ(dskip[size_t(1 * C)], dtable[size_t(1 * C)]);
}

void check_rmsnorm(bool with_weight) {
  const int64_t N = 4, C = 6;
  Vec x = randn(N * C, 3), w = randn(C, 4, 0.5), R = randn(N * C, 5), out(N * C), rstd(N);
  for (double& v : w) v += 1.0;
  Vec dx(N * C, 0.0), dw(C, 0.0);
  const double* wp = with_weight ? w.data() : nullptr;
  auto loss = [&] {
    rmsnorm_forward(out.data(), rstd.data(), x.data(), wp, N, C, 1e-6);
    return dot(out, R);
  };
  loss();
  rmsnorm_backward(dx.data(), with_weight ? dw.data() : nullptr, R.data(), x.data(), wp, rstd.data(), N, C);
  if (with_weight)
    expect_fd(loss, {{"x", &x, &dx}, {"w", &w, &dw}});
  else
    expect_fd(loss, {{"x", &x, &dx}});
}

TEST(TrainOpsFd, RmsNormWithWeight) { check_rmsnorm(true); }
TEST(TrainOpsFd, RmsNormUnscaled) { check_rmsnorm(false); }

TEST(TrainOpsFd, Matmul) {
  const int64_t N = 3, C = 5, OC = 4;
  Vec x = randn(N * C, 6), W = randn(OC * C, 7), R = randn(N * OC, 8), out(N * OC);
  Vec dx(N * C, 0.0), dW(OC * C, 0.0);
  auto loss = [&] {
    matmul_forward(out.data(), x.data(), W.data(), N, C, OC);
    return dot(out, R);
  };
  matmul_backward(dx.data(), dW.data(), R.data(), x.data(), W.data(), N, C, OC);
  expect_fd(loss, {{"x", &x, &dx}, {"W", &W, &dW}});
}

TEST(TrainOpsFd, MatmulFloatMatchesDouble) {
  // The FP32 path goes through OpenBLAS; it must compute the same products.
  const int64_t N = 9, C = 33, OC = 17;
  Vec x = randn(N * C, 9), W = randn(OC * C, 10), R = randn(N * OC, 11), out(N * OC), dx(N * C, 0.0), dW(OC * C, 0.0);
  std::vector<float> xf(x.begin(), x.end()), Wf(W.begin(), W.end()), Rf(R.begin(), R.end());
  std::vector<float> outf(N * OC), dxf(N * C, 0.0f), dWf(OC * C, 0.0f);
  matmul_forward(out.data(), x.data(), W.data(), N, C, OC);
  matmul_forward(outf.data(), xf.data(), Wf.data(), N, C, OC);
  matmul_backward(dx.data(), dW.data(), R.data(), x.data(), W.data(), N, C, OC);
  matmul_backward(dxf.data(), dWf.data(), Rf.data(), xf.data(), Wf.data(), N, C, OC);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(outf[i], out[i], 1e-4);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dxf[i], dx[i], 1e-4);
  for (size_t i = 0; i < dW.size(); ++i) EXPECT_NEAR(dWf[i], dW[i], 1e-4);
}

TEST(TrainOpsFd, RopeFullAndPartial) {
  for (int dims : {8, 4}) {  // 4 of 8: proportional partial RoPE leaves pairs unrotated
    LayerSpec s;
    s.head_dim = 8;
    s.rope_dims = dims;
    s.rope_theta = 100.0f;
    s.rope_factor = 2.0f;
    const RopeTable t = make_rope_table(s, 16);
    const int64_t N = 5, heads = 2, hd = 8;
    std::vector<int32_t> pos = {0, 3, 7, 15, 9};
    Vec x = randn(N * heads * hd, 12), R = randn(x.size(), 13), y(x.size());
    auto loss = [&] {
      y = x;
      rope_forward(y.data(), t.cos.data(), t.sin.data(), pos.data(), N, heads, hd);
      return dot(y, R);
    };
    Vec dx = R;
    rope_backward(dx.data(), t.cos.data(), t.sin.data(), pos.data(), N, heads, hd);
    expect_fd(loss, {{"x", &x, &dx}});
  }
}

void check_attention(int64_t nh, int64_t nkv, int64_t window, float softcap) {
  AttentionShape s{2, 6, nh, nkv, 4, 0.7f, softcap, window};
  const int64_t nq = s.B * s.T * nh * s.hd, nk = s.B * s.T * nkv * s.hd;
  Vec q = randn(nq, 14), k = randn(nk, 15), v = randn(nk, 16), R = randn(nq, 17);
  Vec out(nq), probs(s.B * nh * s.T * s.T);
  auto loss = [&] {
    attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
    return dot(out, R);
  };
  loss();
  Vec dq(nq, 0.0), dk(nk, 0.0), dv(nk, 0.0);
  attention_backward(dq.data(), dk.data(), dv.data(), R.data(), probs.data(), q.data(), k.data(), v.data(), s);
  expect_fd(loss, {{"q", &q, &dq}, {"k", &k, &dk}, {"v", &v, &dv}});
}

TEST(TrainOpsFd, AttentionMha) { check_attention(2, 2, 0, 0.0f); }
TEST(TrainOpsFd, AttentionGqaSlidingSoftcap) { check_attention(4, 2, 3, 2.0f); }
TEST(TrainOpsFd, AttentionMqaWindowTwo) { check_attention(3, 1, 2, 0.0f); }

// The FP32 attention is a separate implementation (GEMMs through OpenBLAS):
// it must agree with the double one the finite differences checked.
TEST(TrainOpsFd, AttentionFloatMatchesDouble) {
  for (float cap : {0.0f, 3.0f}) {
    AttentionShape s{2, 9, 4, 2, 8, 0.4f, cap, 4};
    const int64_t nq = s.B * s.T * s.nh * s.hd, nk = s.B * s.T * s.nkv * s.hd;
    Vec q = randn(nq, 31), k = randn(nk, 32), v = randn(nk, 33), R = randn(nq, 34);
    Vec out(nq), probs(s.B * s.nh * s.T * s.T), dq(nq, 0.0), dk(nk, 0.0), dv(nk, 0.0);
    attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
    attention_backward(dq.data(), dk.data(), dv.data(), R.data(), probs.data(), q.data(), k.data(), v.data(), s);
    auto f = [](const Vec& x) { return std::vector<float>(x.begin(), x.end()); };
    std::vector<float> qf = f(q), kf = f(k), vf = f(v), Rf = f(R), outf(nq), probsf(probs.size());
    std::vector<float> dqf(nq, 0.0f), dkf(nk, 0.0f), dvf(nk, 0.0f);
    attention_forward(outf.data(), probsf.data(), qf.data(), kf.data(), vf.data(), s);
    attention_backward(dqf.data(), dkf.data(), dvf.data(), Rf.data(), probsf.data(), qf.data(), kf.data(), vf.data(), s);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(outf[i], out[i], 2e-5) << "out " << i << " cap " << cap;
    for (size_t i = 0; i < probs.size(); ++i) ASSERT_NEAR(probsf[i], probs[i], 2e-6) << "probs " << i;
    for (size_t i = 0; i < dq.size(); ++i) ASSERT_NEAR(dqf[i], dq[i], 2e-5) << "dq " << i << " cap " << cap;
    for (size_t i = 0; i < dk.size(); ++i) ASSERT_NEAR(dkf[i], dk[i], 2e-5) << "dk " << i << " cap " << cap;
    for (size_t i = 0; i < dv.size(); ++i) ASSERT_NEAR(dvf[i], dv[i], 2e-5) << "dv " << i << " cap " << cap;
  }
}

TEST(TrainOpsFd, GegluSoftcapAndCrossEntropyFloatMatchDouble) {
  // FP32 uses the vectorized exp / tanh polynomials of the inference kernels.
  const int64_t n = 200, V = 50;
  Vec gate = randn(n, 35, 3.0), up = randn(n, 36), R = randn(n, 37), out(n), dg(n, 0.0), du(n, 0.0);
  geglu_forward(out.data(), gate.data(), up.data(), n);
  geglu_backward(dg.data(), du.data(), R.data(), gate.data(), up.data(), n);
  std::vector<float> gf(gate.begin(), gate.end()), uf(up.begin(), up.end()), Rf(R.begin(), R.end());
  std::vector<float> of(n), dgf(n, 0.0f), duf(n, 0.0f);
  geglu_forward(of.data(), gf.data(), uf.data(), n);
  geglu_backward(dgf.data(), duf.data(), Rf.data(), gf.data(), uf.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(of[size_t(i)], out[size_t(i)], 2e-6 * std::max(1.0, std::abs(out[size_t(i)])));
    EXPECT_NEAR(dgf[size_t(i)], dg[size_t(i)], 2e-6 * std::max(1.0, std::abs(dg[size_t(i)])));
    EXPECT_NEAR(duf[size_t(i)], du[size_t(i)], 2e-6 * std::max(1.0, std::abs(du[size_t(i)])));
  }
  Vec logits = randn(4 * V, 38, 5.0), d(4 * V);
  std::vector<int32_t> t = {1, 7, -1, 49};
  const double loss = cross_entropy_forward_backward(d.data(), logits.data(), t.data(), 4, V, -1, 1.0, nullptr);
  std::vector<float> lf(logits.begin(), logits.end()), df(lf.size());
  const double lossf = cross_entropy_forward_backward(df.data(), lf.data(), t.data(), 4, V, -1, 1.0f, nullptr);
  EXPECT_NEAR(lossf, loss, 1e-6 * loss);
  for (size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(df[i], d[i], 1e-7);
}

TEST(TrainOpsFd, AttentionMasksTheFuture) {
  // Changing a later key or value must not change an earlier output.
  AttentionShape s{1, 5, 2, 1, 4, 0.5f, 0.0f, 0};
  Vec q = randn(5 * 2 * 4, 18), k = randn(5 * 4, 19), v = randn(5 * 4, 20), out(q.size()), out2(q.size());
  Vec probs(2 * 25);
  attention_forward(out.data(), probs.data(), q.data(), k.data(), v.data(), s);
  for (int i = 0; i < 4; ++i) {
    k[4 * 4 + i] += 1.0;
    v[4 * 4 + i] -= 1.0;
  }
  attention_forward(out2.data(), probs.data(), q.data(), k.data(), v.data(), s);
  for (size_t i = 0; i < 4 * 2 * 4; ++i) EXPECT_EQ(out[i], out2[i]);
  bool last_changed = false;
  for (size_t i = 4 * 2 * 4; i < out.size(); ++i) last_changed |= out[i] != out2[i];
  EXPECT_TRUE(last_changed);
}

TEST(TrainOpsFd, Geglu) {
  const int64_t n = 40;
  Vec gate = randn(n, 21, 2.0), up = randn(n, 22), R = randn(n, 23), out(n), dg(n, 0.0), du(n, 0.0);
  auto loss = [&] {
    geglu_forward(out.data(), gate.data(), up.data(), n);
    return dot(out, R);
  };
  geglu_backward(dg.data(), du.data(), R.data(), gate.data(), up.data(), n);
  expect_fd(loss, {{"gate", &gate, &dg}, {"up", &up, &du}});
}

TEST(TrainOpsFd, Softcap) {
  const int64_t n = 30;
  Vec x = randn(n, 24, 10.0), R = randn(n, 25), y(n), dx(n, 0.0);
  auto loss = [&] {
    softcap_forward(y.data(), x.data(), n, 7.0);
    return dot(y, R);
  };
  loss();
  softcap_backward(dx.data(), R.data(), y.data(), n, 7.0);
  expect_fd(loss, {{"x", &x, &dx}});
}

TEST(TrainOpsFd, CrossEntropyWithIgnoredRows) {
  const int64_t N = 5, V = 7;
  std::vector<int32_t> targets = {2, -1, 6, 0, -1};
  Vec logits = randn(N * V, 26, 3.0), d(N * V);
  auto loss = [&] { return cross_entropy_forward_backward<double>(nullptr, logits.data(), targets.data(), N, V, -1, 1.0, nullptr); };
  int64_t count = 0;
  cross_entropy_forward_backward(d.data(), logits.data(), targets.data(), N, V, -1, 1.0, &count);
  EXPECT_EQ(count, 3);
  expect_fd(loss, {{"logits", &logits, &d}});
  for (int64_t i = 0; i < V; ++i) EXPECT_EQ(d[size_t(V + i)], 0.0);  // ignored row
}

TEST(TrainOpsFd, PoolingLastAndMean) {
  const int64_t B = 3, T = 4, C = 5;
  std::vector<int32_t> len = {4, 1, 3};
  for (Pooling p : {Pooling::Last, Pooling::Mean}) {
    Vec x = randn(B * T * C, 27), R = randn(B * C, 28), out(B * C), dx(B * T * C, 0.0);
    auto loss = [&] {
      pool_forward(out.data(), x.data(), len.data(), B, T, C, p);
      return dot(out, R);
    };
    pool_backward(dx.data(), R.data(), len.data(), B, T, C, p);
    expect_fd(loss, {{"x", &x, &dx}});
    // Padding rows (t >= len) get no gradient.
    for (int64_t t = 1; t < T; ++t)
      for (int64_t i = 0; i < C; ++i) EXPECT_EQ(dx[size_t((1 * T + t) * C + i)], 0.0);
  }
}

TEST(TrainOpsFd, LayerScalar) {
  const int64_t n = 12;
  Vec x = randn(n, 29), R = randn(n, 30), s = {0.8}, dx(n, 0.0), ds(1, 0.0);
  auto loss = [&] {
    double acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += x[size_t(i)] * s[0] * R[size_t(i)];
    return acc;
  };
  scale_backward(dx.data(), ds.data(), R.data(), x.data(), s[0], n);
  expect_fd(loss, {{"x", &x, &dx}, {"s", &s, &ds}});
}

}  // namespace
}  // namespace qat
