// The QAT fake quantizers against independent implementations: PyTorch's
// fake_quantize_per_channel_affine (forward, STE gradient),
// _fake_quantize_learnable_per_channel_affine (LSQ scale gradient, with
// grad_factor = our g) and torchao's IntxFakeQuantizer (forward, gradients
// by autograd), each block of 32 one channel / group with zero point 0 and
// our scale. Fixtures: tools/reference/make_fake_quant_fixtures.py, described
// in tests/fixtures/fake_quant/README.md.
//
// Where the oracles differ from the GGUF reference by design, the difference
// is asserted element by element, not tolerated:
//  * rounding: torch/torchao round half to even; the reference rounds Q8_0
//    half away from zero and Q4_0 up (trunc(x*id + 8.5f), which also rounds
//    up x*id just below m + 0.5 when the float add lands on m + 9). Codes may
//    differ by one exactly there ("ties"), in the stated direction;
//  * the reference computes codes with the fp32 scale and stores fp16:
//    torch given the stored scale (naive emulation) differs in a few codes of
//    blocks whose scale is not an fp16 value (kind 1), by one code;
//  * torchao's int8 range is -128..127 (Q8_0: -127..127);
//  * torchao's STE (torch.clamp's backward) passes no gradient to codes ON
//    the range bounds; torch's fake-quantize ops and qat do (qmin <= q <=
//    qmax, LSQ's definition); and where it passes, its input gradient is
//    dy * s * (1/s) in float (autograd through the dequantization's multiply
//    and the quantization's), not dy: one ulp off for about 1 in 5 elements.
// Everything else must match: forward bit for bit, input gradients exactly,
// scale gradients to float rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/fp16.h"
#include "formats/safetensors.h"
#include "train/fake_quant_ops.h"

namespace qat {
namespace {

constexpr int kB = 32;

struct Fixture {
  std::unique_ptr<SafetensorsFile> st;
  nlohmann::json ref;
  int64_t n = 0, nb = 0;
  const float* x = nullptr;
  const float* dy = nullptr;
  const uint8_t* kind = nullptr;  // per block: 0 = reference scale exact in fp16, 1 = arbitrary

  const float* f32(const std::string& name, int64_t count) const {
    const StTensor* t = st->find(name);
    EXPECT_TRUE(t != nullptr) << name;
    if (!t) return nullptr;
    EXPECT_EQ(t->dtype, StDtype::F32) << name;
    EXPECT_EQ(int64_t(t->n_elements), count) << name;
    return reinterpret_cast<const float*>(t->data);
  }
};

const Fixture& fixture() {
  static const Fixture f = [] {
    const std::string dir = std::string(QAT_FIXTURES_DIR) + "/fake_quant/";
    Fixture f;
    f.ref = nlohmann::json::parse(read_text_file(dir + "reference.json"));
    f.st = SafetensorsFile::open(dir + "torch_fake_quant.safetensors");
    f.n = f.ref["n"];
    f.nb = f.ref["blocks"];
    f.x = f.f32("x", f.n);
    f.dy = f.f32("dy", f.n);
    const StTensor* k = f.st->find("kind");
    if (k && k->dtype == StDtype::U8 && int64_t(k->n_elements) == f.nb) f.kind = k->data;
    return f;
  }();
  return f;
}

// One type and scale set: our results and the fixture's oracles.
struct Ours {
  TensorType type;
  std::string prefix;  // "q8_0.ref."
  bool ref_set;
  double g;
  int qmin_ao, qmax_ao;
  std::vector<float> code_scale;  // the fp32 scale the codes are computed with
  const float* scale16;           // the scale handed to torch (fp16 values)
  std::vector<float> fq, dx, ds;  // ours
};

Ours run_ours(TensorType t, const std::string& tname, const std::string& set) {
  const Fixture& f = fixture();
  Ours r{t, tname + "." + set + ".", set == "ref", 0, 0, 0, {}, nullptr, {}, {}, {}};
  r.g = f.ref["lsq_grad_factor"][tname];
  r.qmin_ao = f.ref["ranges"][tname]["torchao"][0];
  r.qmax_ao = f.ref["ranges"][tname]["torchao"][1];
  r.scale16 = f.f32(r.prefix + "scale", f.nb);
  r.fq.resize(size_t(f.n));
  r.dx.assign(size_t(f.n), 0.0f);
  r.ds.assign(size_t(f.nb), 0.0f);
  if (r.ref_set) {
    r.code_scale.resize(size_t(f.nb));
    lsq_init_scales(t, f.x, r.code_scale.data(), f.n);
    std::vector<uint8_t> pass(size_t(f.n));
    weight_fake_quant_forward(t, f.x, r.fq.data(), pass.data(), f.n);
    std::vector<float> dx_ste(size_t(f.n), 0.0f);
    weight_fake_quant_backward(dx_ste.data(), f.dy, pass.data(), f.n);
    lsq_backward(t, f.x, r.code_scale.data(), f.dy, r.dx.data(), r.ds.data(), f.n);
    EXPECT_EQ(dx_ste, r.dx) << "the STE and LSQ input gradients differ";
  } else {
    r.code_scale.assign(r.scale16, r.scale16 + f.nb);
    lsq_forward(t, f.x, r.code_scale.data(), r.fq.data(), f.n);
    lsq_backward(t, f.x, r.code_scale.data(), f.dy, r.dx.data(), r.ds.data(), f.n);
  }
  for (int64_t b = 0; b < f.nb; ++b) {
    // torch was handed the scale the reference stores.
    EXPECT_EQ(f32_bits(fp16_to_f32(f32_to_fp16(r.code_scale[size_t(b)]))), f32_bits(r.scale16[b])) << b;
    if (f.kind[b] == 0) {
      EXPECT_EQ(r.code_scale[size_t(b)], r.scale16[b]) << "block " << b << " kind 0";
    }
  }
  return r;
}

// x * (1/s) as the quantizers compute it (float product, exact in double
// then rounded once), and whether the reference's rounding and
// round-half-to-even may part there.
float ratio(float x, float s) { return float(double(x) * double(1.0f / s)); }
bool is_tie(TensorType t, float r) {
  const double a = std::fabs(double(r));
  if (t == TensorType::Q8_0) return a - std::floor(a) == 0.5;
  const double v = double(float(double(r) + 8.5));
  return v == std::floor(v);
}

// A code's term of the scale gradient: LSQ's q - x/s in range, q clamped.
double term(double q, bool passed, double r) { return passed ? q - r : q; }

struct Counts {
  int64_t equal = 0, tie_diffs = 0, kind1_diffs = 0, ds_blocks = 0;
  int64_t ao_minus128 = 0, ao_bound_blocked = 0, ao_dx_ulps = 0;  // torchao only
};

// Compares ours with one oracle (torch or torchao) element by element.
Counts compare(const Ours& r, const float* ofq, const float* odx, const float* ods, bool torchao) {
  const Fixture& f = fixture();
  Counts c;
  for (int64_t b = 0; b < f.nb; ++b) {
    const bool exact = !r.ref_set || f.kind[b] == 0;
    const double s16 = r.scale16[b];
    double correction = 0, size = 0;
    for (int64_t k = b * kB; k < (b + 1) * kB; ++k) {
      SCOPED_TRACE(testing::Message() << r.prefix << (torchao ? "torchao" : "torch") << " element " << k
                                      << " x " << f.x[k] << " scale " << s16);
      const size_t i = size_t(k);
      const float rr = ratio(f.x[k], r.code_scale[size_t(b)]);
      const double q = double(r.fq[i]) / s16, qo = double(ofq[k]) / s16;
      const bool pass = r.dx[i] != 0.0f, opass = odx[k] != 0.0f;  // dy is never 0
      const bool tie = is_tie(r.type, rr);
      const bool same = f32_bits(r.fq[i]) == f32_bits(ofq[k]);
      c.equal += same;
      if (!exact) {  // kind 1, torch given fp16(d): codes may move by one
        if (!same) {
          EXPECT_EQ(std::fabs(q - qo), 1.0);
          ++c.kind1_diffs;
        }
        continue;
      }
      if (!same) {
        if (tie) {
          // Ours rounded away from zero (Q8_0) or up (Q4_0); the oracle to
          // even (exact ties) or to nearest (Q4_0's near ties).
          const double up = r.type == TensorType::Q8_0 ? (rr > 0 ? 1.0 : -1.0) : 1.0;
          EXPECT_EQ(qo, q - up);
          if (r.type == TensorType::Q8_0) {
            EXPECT_EQ(std::fmod(qo, 2.0), 0.0);  // the even neighbour
          }
          ++c.tie_diffs;
        } else if (torchao && qo == -128 && q == -127 && !pass) {
          ++c.ao_minus128;  // int8's extra code
        } else {
          ADD_FAILURE() << "forward differs: ours " << r.fq[i] << " (code " << q << "), oracle " << ofq[k]
                        << " (code " << qo << "), x/s " << rr;
        }
      }
      // torchao's autograd carries dy through its dequantization's "* s" and
      // its quantization's "* (1/s)" (rounding STE in between): dx = dy * s *
      // (1/s) in float, off dy by an ulp at about 1 in 5 elements. Ours, sent
      // the same way:
      const float dx = torchao ? float(r.dx[i] * float(s16)) * (1.0f / float(s16)) : r.dx[i];
      if (torchao && r.dx[i] != dx) ++c.ao_dx_ulps;
      if (dx != odx[k]) {
        if (torchao && pass && !opass && (q == r.qmin_ao || q == r.qmax_ao) && !tie) {
          ++c.ao_bound_blocked;
        } else if (!tie) {
          ADD_FAILURE() << "input gradient differs: ours " << dx << ", oracle " << odx[k] << " (code " << q
                        << ")";
        }
      }
      // The oracle's scale gradient, moved to our codes where they differ.
      if (q != qo || pass != opass) correction += f.dy[k] * (term(q, pass, rr) - term(qo, opass, rr));
      size += std::fabs(f.dy[k]) * (std::fabs(q) + std::fabs(rr));
    }
    if (!exact) continue;
    // torch's LSQ applied g itself; torchao's autograd has none.
    const double want = torchao ? r.g * (double(ods[b]) + correction) : double(ods[b]) + r.g * correction;
    EXPECT_NEAR(r.ds[size_t(b)], want, 1e-5 * r.g * size) << r.prefix << (torchao ? "torchao" : "torch")
                                                          << " scale gradient, block " << b;
    ++c.ds_blocks;
  }
  return c;
}

struct TypeName {
  TensorType type;
  const char* name;
};
const TypeName kTypes[] = {{TensorType::Q8_0, "q8_0"}, {TensorType::Q4_0, "q4_0"}};

TEST(FakeQuantTorch, FixtureLoaded) {
  const Fixture& f = fixture();
  ASSERT_TRUE(f.x && f.dy && f.kind);
  EXPECT_EQ(f.n, f.nb * kB);
  EXPECT_GE(f.nb, 64);
  EXPECT_EQ(f.ref["torchao"], "0.18.0");
}

// torch.fake_quantize_per_channel_affine and torch's learnable (LSQ) op.
TEST(FakeQuantTorch, MatchesTorchFakeQuantizeAndLsq) {
  const Fixture& f = fixture();
  ASSERT_TRUE(f.kind);
  for (const auto& [type, name] : kTypes) {
    for (const char* set : {"ref", "lsq"}) {
      const Ours r = run_ours(type, name, set);
      const Counts c = compare(r, f.f32(r.prefix + "torch_fq", f.n), f.f32(r.prefix + "torch_dx", f.n),
                               f.f32(r.prefix + "torch_ds", f.nb), false);
      const auto& obs = f.ref["observed"][std::string(name) + "." + set];
      // The generator's own count (numpy emulation of the reference) agrees.
      EXPECT_EQ(c.tie_diffs, obs["torch_differs_at_ties"].get<int64_t>());
      EXPECT_EQ(c.kind1_diffs, obs["torch_differs_in_kind1_blocks"].get<int64_t>());
      if (r.ref_set) {
        EXPECT_GT(c.tie_diffs, 10);  // planted ties were exercised
      }
      std::printf("  %-9s torch:   %lld/%lld values equal, %lld differ at ties, %lld in non-fp16-scale "
                  "blocks; %lld block scale gradients compared\n",
                  r.prefix.c_str(), (long long)c.equal, (long long)f.n, (long long)c.tie_diffs,
                  (long long)c.kind1_diffs, (long long)c.ds_blocks);
    }
  }
}

// torchao.quantization.qat's IntxFakeQuantizer with our scales.
TEST(FakeQuantTorch, MatchesTorchaoIntxFakeQuantizer) {
  const Fixture& f = fixture();
  ASSERT_TRUE(f.kind);
  for (const auto& [type, name] : kTypes) {
    for (const char* set : {"ref", "lsq"}) {
      const Ours r = run_ours(type, name, set);
      const Counts c = compare(r, f.f32(r.prefix + "ao_fq", f.n), f.f32(r.prefix + "ao_dx", f.n),
                               f.f32(r.prefix + "ao_ds", f.nb), true);
      const auto& obs = f.ref["observed"][std::string(name) + "." + set];
      EXPECT_EQ(c.ao_minus128, obs["torchao_code_minus_128"].get<int64_t>());
      EXPECT_GT(c.ao_bound_blocked, 0);  // torchao's STE blocks the codes on the bounds
      if (type == TensorType::Q8_0 && !r.ref_set) {
        EXPECT_GT(c.ao_minus128, 0);
      }
      std::printf("  %-9s torchao: %lld/%lld values equal, %lld differ at ties, %lld at int8 code -128, "
                  "%lld in non-fp16-scale blocks; gradient blocked on a bound at %lld codes; "
                  "dy*s*(1/s) != dy at %lld\n",
                  r.prefix.c_str(), (long long)c.equal, (long long)f.n, (long long)c.tie_diffs,
                  (long long)c.ao_minus128, (long long)c.kind1_diffs, (long long)c.ao_bound_blocked,
                  (long long)c.ao_dx_ulps);
    }
  }
}

}  // namespace
}  // namespace qat
