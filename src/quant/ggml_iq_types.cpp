#include "quant/ggml_iq_types.h"

#include <cstring>

#include "base/error.h"
#include "base/fp16.h"
#include "quant/ggml_compat_types.h"
#include "quant/iq_grids.h"

// Each value is one product, as gguf-py computes it; no fused multiply-add.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat {
namespace {

// W values per entry (8 for int64_t entries, 4 for int32_t) from their level indices.
template <typename Entry, int N>
void expand(const uint16_t* packed, const int8_t* levels, int bits, Entry (&out)[N]) {
  constexpr int kW = int(sizeof(Entry));
  for (int e = 0; e < N; ++e) {
    int8_t v[kW];
    for (int k = 0; k < kW; ++k) v[k] = levels[(packed[e] >> (bits * k)) & ((1 << bits) - 1)];
    std::memcpy(&out[e], v, kW);
  }
}

uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little endian on every target we build for
}

// 8 grid values with the signs of bits 0..7 of `signs` into codes.
void signed8(const int8_t* grid, uint32_t signs, int8_t* codes) {
  for (int j = 0; j < 8; ++j) codes[j] = int8_t((signs >> j) & 1 ? -grid[j] : grid[j]);
}

// One decoded super-block: the signed integer code of each element, and per
// 16 elements gguf-py's float scale db (value = db * code, or for IQ1 db *
// (code / 8)) and the unpacked form's integer sub-scale (2 ls + 1, or 1 for
// TQ), whose chunk float s is the same for the whole super-block (d, d / 4
// or d / 8), so the decode kernels can leave the float stage to the block's end.
struct Decoded {
  int8_t codes[256];
  float db[16];
  float s[8];       // per chunk of 32
  int16_t sc[16];   // per 16
};

void set_chunk(Decoded& o, int ib, float db, float s, int16_t sc_lo, int16_t sc_hi) {
  o.db[2 * ib] = o.db[2 * ib + 1] = db;
  o.s[ib] = s;
  o.sc[2 * ib] = sc_lo;
  o.sc[2 * ib + 1] = sc_hi;
}

// IQ2_XS / IQ2_S: a 4-bit scale ls per 16 elements (nibbles of scales[8]).
void set_iq2_scales(const uint8_t* scales, float d, Decoded& o) {
  for (int ib = 0; ib < 8; ++ib) {
    const int lo = scales[ib] & 0x0f, hi = scales[ib] >> 4;
    set_chunk(o, ib, 0, d * 0.125f, int16_t(2 * lo + 1), int16_t(2 * hi + 1));
    o.db[2 * ib] = d * (0.5f + float(lo)) * 0.25f;
    o.db[2 * ib + 1] = d * (0.5f + float(hi)) * 0.25f;
  }
}

void decode(const BlockIQ2_XXS& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int ib = 0; ib < 8; ++ib) {
    const uint32_t idx = load_u32(&b.qs[4 * ib]), aux = load_u32(&b.qs[4 * ib + 2]);
    const uint32_t ls = aux >> 28;
    for (int l = 0; l < 4; ++l)
      signed8(iq_values(grids.iq2xxs[(idx >> (8 * l)) & 0xff]), iq_ksign((aux >> (7 * l)) & 127), o.codes + 32 * ib + 8 * l);
    set_chunk(o, ib, d * (0.5f + float(ls)) * 0.25f, d * 0.125f, int16_t(2 * ls + 1), int16_t(2 * ls + 1));
  }
}

void decode(const BlockIQ2_XS& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int k = 0; k < 32; ++k) signed8(iq_values(grids.iq2xs[b.qs[k] & 511]), iq_ksign(b.qs[k] >> 9), o.codes + 8 * k);
  set_iq2_scales(b.scales, d, o);
}

void decode(const BlockIQ2_S& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int k = 0; k < 32; ++k) {
    const int index = b.qs[k] | ((b.qh[k / 4] >> (2 * (k % 4))) & 3) << 8;
    signed8(iq_values(grids.iq2s[index]), b.qs[32 + k], o.codes + 8 * k);
  }
  set_iq2_scales(b.scales, d, o);
}

void decode(const BlockIQ3_XXS& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int ib = 0; ib < 8; ++ib) {
    const uint32_t aux = load_u32(b.qs + 64 + 4 * ib), ls = aux >> 28;
    for (int l = 0; l < 4; ++l) {
      int8_t grid8[8];
      std::memcpy(grid8, &grids.iq3xxs[b.qs[8 * ib + 2 * l]], 4);
      std::memcpy(grid8 + 4, &grids.iq3xxs[b.qs[8 * ib + 2 * l + 1]], 4);
      signed8(grid8, iq_ksign((aux >> (7 * l)) & 127), o.codes + 32 * ib + 8 * l);
    }
    set_chunk(o, ib, d * (0.5f + float(ls)) * 0.5f, d * 0.25f, int16_t(2 * ls + 1), int16_t(2 * ls + 1));
  }
}

void decode(const BlockIQ3_S& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int k = 0; k < 64; ++k) {
    const int index = b.qs[k] | ((b.qh[k / 8] >> (k % 8)) & 1) << 8;
    for (int j = 0; j < 4; ++j) {
      const int e = 4 * k + j;
      const int8_t g = iq_values(grids.iq3s[index])[j];
      o.codes[e] = int8_t((b.signs[e / 8] >> (e % 8)) & 1 ? -g : g);
    }
  }
  for (int ib = 0; ib < 8; ++ib) {
    const int ls = (b.scales[ib / 2] >> (4 * (ib % 2))) & 0x0f;
    set_chunk(o, ib, d * float(1 + 2 * ls), d, int16_t(1 + 2 * ls), int16_t(1 + 2 * ls));
  }
}

// IQ1: code 8 g + 1 for a positive delta (+1/8), 8 g - 1 for a negative one.
int8_t iq1_code(int8_t g, bool negative_delta) { return int8_t(8 * g + (negative_delta ? -1 : 1)); }

void decode(const BlockIQ1_S& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  const float d = fp16_to_f32(b.d_fp16);
  for (int ib = 0; ib < 8; ++ib) {
    const uint32_t qh = b.qh[ib], ls = (qh >> 12) & 7;
    const bool neg = (qh & 0x8000) != 0;
    for (int l = 0; l < 4; ++l) {
      const int8_t* g = iq_values(grids.iq1s[b.qs[4 * ib + l] | ((qh >> (3 * l)) & 7) << 8]);
      for (int j = 0; j < 8; ++j) o.codes[32 * ib + 8 * l + j] = iq1_code(g[j], neg);
    }
    set_chunk(o, ib, d * float(2 * ls + 1), d * 0.125f, int16_t(2 * ls + 1), int16_t(2 * ls + 1));
  }
}

void decode(const BlockIQ1_M& b, Decoded& o) {
  const IqGrids& grids = iq_grids();
  uint16_t sc[4];
  std::memcpy(sc, b.scales, 8);
  const uint16_t d_bits = uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
  const float d = fp16_to_f32(d_bits);
  for (int k = 0; k < 32; ++k) {
    const int nib = (b.qh[k / 2] >> (4 * (k % 2))) & 0x0f;
    const int8_t* g = iq_values(grids.iq1s[b.qs[k] | (nib & 7) << 8]);
    for (int j = 0; j < 8; ++j) o.codes[8 * k + j] = iq1_code(g[j], (nib & 8) != 0);
  }
  for (int h = 0; h < 16; ++h) {
    const int ls = (sc[h / 4] >> (3 * (h % 4))) & 7;
    o.db[h] = d * float(2 * ls + 1);
    o.sc[h] = int16_t(2 * ls + 1);
  }
  for (int ib = 0; ib < 8; ++ib) o.s[ib] = d * 0.125f;
}

void decode(const BlockTQ1_0& b, Decoded& o) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  auto trit = [](uint8_t byte, int p) { return int8_t(((uint32_t(uint8_t(byte * kPow3[p])) * 3) >> 8) - 1); };
  for (int p = 0; p < 5; ++p)
    for (int m = 0; m < 32; ++m) o.codes[32 * p + m] = trit(b.qs[m], p);
  for (int p = 0; p < 5; ++p)
    for (int m = 0; m < 16; ++m) o.codes[160 + 16 * p + m] = trit(b.qs[32 + m], p);
  for (int p = 0; p < 4; ++p)
    for (int m = 0; m < 4; ++m) o.codes[240 + 4 * p + m] = trit(b.qh[m], p);
  const float d = fp16_to_f32(b.d_fp16);
  for (int ib = 0; ib < 8; ++ib) set_chunk(o, ib, d, d, 1, 1);
}

void decode(const BlockTQ2_0& b, Decoded& o) {
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) o.codes[128 * h + 32 * k + l] = int8_t(((b.qs[32 * h + l] >> (2 * k)) & 3) - 1);
  const float d = fp16_to_f32(b.d_fp16);
  for (int ib = 0; ib < 8; ++ib) set_chunk(o, ib, d, d, 1, 1);
}

template <class Block>
void decode_at(const void* blocks, int64_t i, Decoded& o) {
  decode(static_cast<const Block*>(blocks)[i], o);
}

void decode_block(TensorType t, const void* blocks, int64_t i, Decoded& o) {
  switch (t) {
    case TensorType::IQ2_XXS: return decode_at<BlockIQ2_XXS>(blocks, i, o);
    case TensorType::IQ2_XS: return decode_at<BlockIQ2_XS>(blocks, i, o);
    case TensorType::IQ2_S: return decode_at<BlockIQ2_S>(blocks, i, o);
    case TensorType::IQ3_XXS: return decode_at<BlockIQ3_XXS>(blocks, i, o);
    case TensorType::IQ3_S: return decode_at<BlockIQ3_S>(blocks, i, o);
    case TensorType::IQ1_S: return decode_at<BlockIQ1_S>(blocks, i, o);
    case TensorType::IQ1_M: return decode_at<BlockIQ1_M>(blocks, i, o);
    case TensorType::TQ1_0: return decode_at<BlockTQ1_0>(blocks, i, o);
    case TensorType::TQ2_0: return decode_at<BlockTQ2_0>(blocks, i, o);
    default: fail("ggml_iq_types: ", tensor_type_name(t), " is not an IQ / TQ type");
  }
}

int64_t superblocks_in(TensorType t, int64_t n) {
  QAT_CHECK(n >= 0 && n % 256 == 0, tensor_type_name(t), ": length ", n,
            " is not a non-negative multiple of the block size 256");
  return n / 256;
}

}  // namespace

const IqGrids& iq_grids() {
  static const IqGrids* g = [] {
    auto* r = new IqGrids;  // never freed: read until exit
    expand(kIq2xxsGridPacked, kIq2Levels, 2, r->iq2xxs);
    expand(kIq2xsGridPacked, kIq2Levels, 2, r->iq2xs);
    expand(kIq2sGridPacked, kIq2Levels, 2, r->iq2s);
    expand(kIq1sGridPacked, kIq1Levels, 2, r->iq1s);
    expand(kIq3xxsGridPacked, kIq3xxsLevels, 3, r->iq3xxs);
    expand(kIq3sGridPacked, kIq3sLevels, 3, r->iq3s);
    return r;
  }();
  return *g;
}

bool is_iq_type(TensorType t) {
  switch (t) {
    case TensorType::IQ2_XXS:
    case TensorType::IQ2_XS:
    case TensorType::IQ2_S:
    case TensorType::IQ3_XXS:
    case TensorType::IQ3_S:
    case TensorType::IQ1_S:
    case TensorType::IQ1_M:
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: return true;
    default: return false;
  }
}

void dequantize_row_iq(TensorType t, const void* blocks, float* y, int64_t n) {
  const int64_t nb = superblocks_in(t, n);
  const bool iq1 = t == TensorType::IQ1_S || t == TensorType::IQ1_M;
  Decoded o;
  for (int64_t i = 0; i < nb; ++i, y += 256) {
    decode_block(t, blocks, i, o);
    for (int e = 0; e < 256; ++e)  // IQ1's code / 8 = grid + delta, exactly
      y[e] = iq1 ? o.db[e / 16] * (float(o.codes[e]) * 0.125f) : o.db[e / 16] * float(o.codes[e]);
  }
}

void unpack_row_iq(TensorType t, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  const int64_t nb = superblocks_in(t, n);
  Decoded o;
  for (int64_t i = 0; i < nb; ++i, codes += 256, chunks += 8) {
    decode_block(t, blocks, i, o);
    std::memcpy(codes, o.codes, 256);
    for (int ib = 0; ib < 8; ++ib) chunks[ib] = CompatChunk{{o.sc[2 * ib], o.sc[2 * ib + 1]}, {1, 1}, o.s[ib], 0.0f};
  }
}

}  // namespace qat
