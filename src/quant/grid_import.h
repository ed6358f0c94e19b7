// Quantizing weights that already lie on a Q8_0 / Q4_0 grid without moving
// them: models QAT-trained elsewhere (Google's "qat-q4_0-unquantized" Gemma
// checkpoints, BF16) or by our own QAT with learned scales (LSQ) and then
// stored as F32 / F16 / BF16. A block trained on a grid holds code * fp16(d)
// for a scale d that need not be the block maximum's (with LSQ the largest
// code is often 5 or 6, not -8), so the reference quantizer, which derives d
// from the maximum, would put the block on another grid and lose training.
//
// Per block of 32, keep_grid looks for an fp16 scale d such that the block
// quantized by the reference routine with that scale (quantize_row_X_scaled)
// dequantizes to the stored values: for an F32 source code * d == x exactly
// (as dequantize computes it), for F16 / BF16 rounding code * d to the
// source type gives the stored value. Values compare as numbers (+0 == -0).
//
// The rule, in order (deterministic; the first that applies decides):
//  1. The reference scale (block maximum), when it reproduces the block:
//     the block is byte-identical to plain quantization. All-zero blocks
//     always end here.
//  2. Otherwise the finest grid that reproduces the block: the largest |code|
//     for the largest element (so the smallest |d|); among neighbouring fp16
//     scales that give the same code (a BF16 source keeps too few bits to
//     tell them apart) the one whose values are nearest the stored ones
//     (least squares), then the smaller. Candidates: for each code c the
//     smallest nonzero element can have (|c| up to 8 for Q4_0, 127 for Q8_0,
//     bounded by the largest element's code range), every fp16 value whose
//     multiple by c rounds to that element in the source type (one value
//     for F32, a few ulps for BF16), checked on the whole block.
//  3. Between d and -d (same values, codes negated; for Q4_0 possible only
//     without code -8): the one whose zeros get the stored signs of zero
//     (0 * d is -0 for d < 0), then the reference's sign convention (Q8_0
//     d > 0; Q4_0 the largest element gets a negative code, d = max / -8).
//  4. No candidate reproduces the block: the reference quantizer (a block of
//     an ordinary, not QAT-trained model essentially always ends here).
// Consequences: every kept block dequantizes exactly to the stored values,
// but its bytes can differ from the trained ones when the values do not
// determine them: a block whose doubled codes still fit (|code| <= 3 for
// Q4_0, 63 for Q8_0: a learned scale over twice the reference's) is also on
// the grid of d/2, which rule 1 or 2 takes (same values; the matmul results
// are the same too, halving d being exact), while a block whose codes are all
// even keeps d, not 2d; a BF16 source
// keeps only 8 of the 14 (Q4_0) or 18 (Q8_0) significant bits of code * d,
// so neighbouring fp16 scales often reproduce the stored block as well as the
// trained one; nothing in the values tells which was trained (measured on
// random trained blocks: the trained bytes come back for 41 % of Q4_0 blocks,
// whose 8 distinct |codes| constrain d less, and 94 % of Q8_0; the rest are
// within 4 ulps of d, with the same codes but for rare Q8_0 codes near
// +-127). From F32 and F16 every such block comes back, but for the sign of d
// in Q4_0 blocks without code -8 or zeros whose largest |code| occurs with
// both signs (rule 3 then guesses). The emitted block always comes from
// quantize_row_X_scaled and is checked with dequantize_row_X before it is kept.
// Cost: necessary conditions (an F32 grid value has at most 18 significant
// bits; a Q4_0 block's smallest nonzero value is at least 1/8 of its largest;
// codes of the smallest values nearly fix d) reject an ordinary block before
// any candidate is tried, in most cases.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"

namespace qat {

struct GridStats {
  int64_t blocks = 0;     // blocks quantized
  int64_t reference = 0;  // kept with the reference scale (rule 1, incl. all-zero blocks)
  int64_t detected = 0;   // kept with another scale (rules 2-3)
  int64_t kept() const { return reference + detected; }
  int64_t fallback() const { return blocks - kept(); }  // re-derived from the block maximum
  GridStats& operator+=(const GridStats& o) {
    blocks += o.blocks, reference += o.reference, detected += o.detected;
    return *this;
  }
};

// True for the conversions keep_grid handles: F32 / F16 / BF16 to Q8_0 / Q4_0.
bool keep_grid_supported(TensorType to, TensorType source);

// Quantizes n values (n a multiple of 32) to `to` (Q8_0 or Q4_0) into
// out_blocks (n/32 BlockQ8_0 or BlockQ4_0), keeping a grid the values lie on
// (rules above). x holds the values as stored in `source` (F32, F16 or BF16),
// converted to float. NaN/inf throw like the reference quantizer.
GridStats quantize_row_keep_grid(TensorType to, TensorType source, const float* x, void* out_blocks,
                                 int64_t n);

}  // namespace qat
