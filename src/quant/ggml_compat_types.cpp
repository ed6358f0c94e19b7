#include "quant/ggml_compat_types.h"

#include <cstring>

#include "base/error.h"
#include "base/fp16.h"
#include "quant/ggml_iq_types.h"

// Dequantization must round exactly as gguf-py does ((d * sc) * q - dmin * mn,
// two roundings); a fused multiply-add would round once.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace qat {
namespace {

int64_t blocks_in(TensorType t, int64_t n) {
  const TensorTypeInfo& info = tensor_type_info(t);
  QAT_CHECK(n >= 0 && n % info.block_size == 0, info.name, ": length ", n,
            " is not a non-negative multiple of the block size ", info.block_size);
  return n / info.block_size;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little endian on every target we build for
}

// Integer code of element j (0..31) of a Q4_1 / Q5_0 / Q5_1 block.
int nibble_32(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4); }
int fifth_bit(const uint8_t* qh, int j) { return int((load_u32(qh) >> j) & 1u); }

// Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12
// packed scale bytes (ggml's get_scale_min_k4). The AVX2 kernels unpack all 8
// at once (k_scales_mins).
void scale_min_k4(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Q4_K / Q5_K: 4-bit part of element l of sub-block s.
int nibble_k(const uint8_t* qs, int s, int l) {
  const uint8_t b = qs[32 * (s / 2) + l];
  return s % 2 == 0 ? (b & 0x0f) : (b >> 4);
}

// Q4_K and Q5_K blocks differ only in Q5_K's fifth bits.
struct KBlock {
  float d, dmin;
  const uint8_t* scales;
  const uint8_t* qs;
  const uint8_t* qh;  // Q5_K only, else null
  int code(int s, int l) const { return nibble_k(qs, s, l) | (qh ? ((qh[l] >> s) & 1) << 4 : 0); }
};

KBlock k_block(TensorType t, const void* blocks, int64_t i) {
  if (t == TensorType::Q5_K) {
    const BlockQ5_K& b = static_cast<const BlockQ5_K*>(blocks)[i];
    return {fp16_to_f32(b.d_fp16), fp16_to_f32(b.dmin_fp16), b.scales, b.qs, b.qh};
  }
  const BlockQ4_K& b = static_cast<const BlockQ4_K*>(blocks)[i];
  return {fp16_to_f32(b.d_fp16), fp16_to_f32(b.dmin_fp16), b.scales, b.qs, nullptr};
}

// Q2_K: the unsigned code (0..3) of element e (0..255).
int code_q2_k(const BlockQ2_K& b, int e) { return (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3; }

// Q3_K: the signed scale (-32..31) of sub-block i (0..15): 4 low bits from
// scales[i % 8] (the high nibble for i >= 8), 2 high bits from scales[8 + i % 4]
// (bits 2 (i / 4) ..). The AVX2 kernels unpack all 16 at once
// (sub_scales8).
int scale_q3_k(const uint8_t* scales, int i) {
  const int lo = (scales[i % 8] >> (4 * (i / 8))) & 0x0f, hi = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (lo | hi << 4) - 32;
}

// Q3_K: the signed code (-4..3) of element e (0..255). Bytes qs[32 h ..
// 32 h + 32) hold elements 128 h + 32 s + l at bits 2 s (s = 0..3); bit
// e / 32 of hmask[e % 32] set means no -4 offset.
int code_q3_k(const BlockQ3_K& b, int e) {
  const int h = e / 128, s = (e % 128) / 32, l = e % 32;
  const int low = (b.qs[32 * h + l] >> (2 * s)) & 3;
  return ((b.hmask[l] >> (e / 32)) & 1) ? low : low - 4;
}

// Q6_K: the unsigned 6-bit code of element e (0..255).
int code_q6_k(const BlockQ6_K& b, int e) {
  const int h = e / 128, k = (e % 128) / 32, l = e % 32;
  const uint8_t lo = b.ql[64 * h + 32 * (k % 2) + l];
  const int low = k < 2 ? (lo & 0x0f) : (lo >> 4);
  const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
  return low | (high << 4);
}

// IQ4_XS: the 6-bit scale (0..63, before its -32) of sub-block s (0..7).
int scale_iq4_xs(const BlockIQ4_XS& b, int s) {
  return ((b.scales_l[s / 2] >> (4 * (s % 2))) & 0x0f) | (((b.scales_h >> (2 * s)) & 3) << 4);
}

// IQ4_NL / IQ4_XS: the grid level of element j (0..31) of 16 bytes of qs.
int iq4_code(const uint8_t* qs, int j) { return kIq4NlValues[nibble_32(qs, j)]; }

}  // namespace

bool is_compat_type(TensorType t) {
  switch (t) {
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
    case TensorType::IQ4_NL:
    case TensorType::IQ4_XS: return true;
    default: return is_iq_type(t);
  }
}

bool has_wide_codes(TensorType t) {
  return t == TensorType::IQ4_NL || t == TensorType::IQ4_XS || t == TensorType::IQ2_XXS ||
         t == TensorType::IQ2_XS || t == TensorType::IQ2_S || t == TensorType::IQ3_XXS;
}

void dequantize_row_compat(TensorType t, const void* blocks, float* y, int64_t n) {
  const int64_t nb = blocks_in(t, n);
  switch (t) {
    case TensorType::Q4_1:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto& b = static_cast<const BlockQ4_1*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16), m = fp16_to_f32(b.m_fp16);
        for (int j = 0; j < 32; ++j) y[j] = d * float(nibble_32(b.qs, j)) + m;
      }
      return;
    case TensorType::Q5_0:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto& b = static_cast<const BlockQ5_0*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int j = 0; j < 32; ++j) y[j] = d * float((nibble_32(b.qs, j) | fifth_bit(b.qh, j) << 4) - 16);
      }
      return;
    case TensorType::Q5_1:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto& b = static_cast<const BlockQ5_1*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16), m = fp16_to_f32(b.m_fp16);
        for (int j = 0; j < 32; ++j) y[j] = d * float(nibble_32(b.qs, j) | fifth_bit(b.qh, j) << 4) + m;
      }
      return;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
      for (int64_t i = 0; i < nb; ++i) {
        const KBlock b = k_block(t, blocks, i);
        for (int s = 0; s < 8; ++s, y += 32) {
          int sc, mn;
          scale_min_k4(s, b.scales, sc, mn);
          const float ds = b.d * float(sc), dm = b.dmin * float(mn);
          for (int l = 0; l < 32; ++l) y[l] = ds * float(b.code(s, l)) - dm;
        }
      }
      return;
    case TensorType::Q2_K:
      for (int64_t i = 0; i < nb; ++i, y += kSuperBlock) {
        const auto& b = static_cast<const BlockQ2_K*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16), dmin = fp16_to_f32(b.dmin_fp16);
        for (int e = 0; e < 256; ++e) {
          const int sc = b.scales[e / 16] & 0x0f, mn = b.scales[e / 16] >> 4;
          y[e] = (d * float(sc)) * float(code_q2_k(b, e)) - dmin * float(mn);
        }
      }
      return;
    case TensorType::Q3_K:
      for (int64_t i = 0; i < nb; ++i, y += kSuperBlock) {
        const auto& b = static_cast<const BlockQ3_K*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int e = 0; e < 256; ++e) y[e] = (d * float(scale_q3_k(b.scales, e / 16))) * float(code_q3_k(b, e));
      }
      return;
    case TensorType::Q6_K:
      for (int64_t i = 0; i < nb; ++i, y += kSuperBlock) {
        const auto& b = static_cast<const BlockQ6_K*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int e = 0; e < 256; ++e) y[e] = (d * float(b.scales[e / 16])) * float(code_q6_k(b, e) - 32);
      }
      return;
    case TensorType::IQ4_NL:
      for (int64_t i = 0; i < nb; ++i, y += 32) {
        const auto& b = static_cast<const BlockIQ4_NL*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int j = 0; j < 32; ++j) y[j] = d * float(iq4_code(b.qs, j));
      }
      return;
    case TensorType::IQ4_XS:
      for (int64_t i = 0; i < nb; ++i) {
        const auto& b = static_cast<const BlockIQ4_XS*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int s = 0; s < 8; ++s, y += 32) {
          const float dl = d * float(scale_iq4_xs(b, s) - 32);
          for (int j = 0; j < 32; ++j) y[j] = dl * float(iq4_code(b.qs + 16 * s, j));
        }
      }
      return;
    default:
      QAT_CHECK(is_iq_type(t), "dequantize_row_compat: ", tensor_type_name(t), " is not a compat type");
      return dequantize_row_iq(t, blocks, y, n);
  }
}

void unpack_row_compat(TensorType t, const void* blocks, int64_t n, int8_t* codes, CompatChunk* chunks) {
  const int64_t nb = blocks_in(t, n);
  auto plain = [](float s, float m) { return CompatChunk{{1, 1}, {1, 1}, s, m}; };
  switch (t) {
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
      for (int64_t i = 0; i < nb; ++i, codes += 32) {
        if (t == TensorType::Q4_1) {
          const auto& b = static_cast<const BlockQ4_1*>(blocks)[i];
          for (int j = 0; j < 32; ++j) codes[j] = int8_t(nibble_32(b.qs, j));
          chunks[i] = plain(fp16_to_f32(b.d_fp16), fp16_to_f32(b.m_fp16));
        } else if (t == TensorType::Q5_0) {
          const auto& b = static_cast<const BlockQ5_0*>(blocks)[i];
          for (int j = 0; j < 32; ++j) codes[j] = int8_t((nibble_32(b.qs, j) | fifth_bit(b.qh, j) << 4) - 16);
          chunks[i] = plain(fp16_to_f32(b.d_fp16), 0.0f);
        } else {
          const auto& b = static_cast<const BlockQ5_1*>(blocks)[i];
          for (int j = 0; j < 32; ++j) codes[j] = int8_t(nibble_32(b.qs, j) | fifth_bit(b.qh, j) << 4);
          chunks[i] = plain(fp16_to_f32(b.d_fp16), fp16_to_f32(b.m_fp16));
        }
      }
      return;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
      for (int64_t i = 0; i < nb; ++i) {
        const KBlock b = k_block(t, blocks, i);
        for (int s = 0; s < 8; ++s, codes += 32) {
          int sc, mn;
          scale_min_k4(s, b.scales, sc, mn);
          for (int l = 0; l < 32; ++l) codes[l] = int8_t(b.code(s, l));
          chunks[8 * i + s] = plain(b.d * float(sc), -(b.dmin * float(mn)));
        }
      }
      return;
    case TensorType::Q2_K:
      for (int64_t i = 0; i < nb; ++i) {
        const auto& b = static_cast<const BlockQ2_K*>(blocks)[i];
        for (int e = 0; e < 256; ++e) codes[e] = int8_t(code_q2_k(b, e));
        codes += 256;
        const float d = fp16_to_f32(b.d_fp16), dmin = fp16_to_f32(b.dmin_fp16);
        for (int c = 0; c < 8; ++c) {
          const uint8_t lo = b.scales[2 * c], hi = b.scales[2 * c + 1];
          chunks[8 * i + c] = CompatChunk{{int16_t(lo & 0x0f), int16_t(hi & 0x0f)}, {int16_t(lo >> 4), int16_t(hi >> 4)}, d, -dmin};
        }
      }
      return;
    case TensorType::Q3_K:
      for (int64_t i = 0; i < nb; ++i) {
        const auto& b = static_cast<const BlockQ3_K*>(blocks)[i];
        for (int e = 0; e < 256; ++e) codes[e] = int8_t(code_q3_k(b, e));
        codes += 256;
        const float d = fp16_to_f32(b.d_fp16);
        for (int c = 0; c < 8; ++c)
          chunks[8 * i + c] =
              CompatChunk{{int16_t(scale_q3_k(b.scales, 2 * c)), int16_t(scale_q3_k(b.scales, 2 * c + 1))}, {1, 1}, d, 0.0f};
      }
      return;
    case TensorType::Q6_K:
      for (int64_t i = 0; i < nb; ++i) {
        const auto& b = static_cast<const BlockQ6_K*>(blocks)[i];
        for (int e = 0; e < 256; ++e) codes[e] = int8_t(code_q6_k(b, e) - 32);
        codes += 256;
        const float d = fp16_to_f32(b.d_fp16);
        for (int c = 0; c < 8; ++c) chunks[8 * i + c] = CompatChunk{{b.scales[2 * c], b.scales[2 * c + 1]}, {1, 1}, d, 0.0f};
      }
      return;
    case TensorType::IQ4_NL:
      for (int64_t i = 0; i < nb; ++i, codes += 32) {
        const auto& b = static_cast<const BlockIQ4_NL*>(blocks)[i];
        for (int j = 0; j < 32; ++j) codes[j] = int8_t(iq4_code(b.qs, j));
        chunks[i] = plain(fp16_to_f32(b.d_fp16), 0.0f);
      }
      return;
    case TensorType::IQ4_XS:
      for (int64_t i = 0; i < nb; ++i) {
        const auto& b = static_cast<const BlockIQ4_XS*>(blocks)[i];
        const float d = fp16_to_f32(b.d_fp16);
        for (int s = 0; s < 8; ++s, codes += 32) {
          for (int j = 0; j < 32; ++j) codes[j] = int8_t(iq4_code(b.qs + 16 * s, j));
          chunks[8 * i + s] = plain(d * float(scale_iq4_xs(b, s) - 32), 0.0f);  // exact: 11 + 6 bits
        }
      }
      return;
    default:
      QAT_CHECK(is_iq_type(t), "unpack_row_compat: ", tensor_type_name(t), " is not a compat type");
      return unpack_row_iq(t, blocks, n, codes, chunks);
  }
}

}  // namespace qat
