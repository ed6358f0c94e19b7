// Load-time repacking of Q8_0 / Q4_0 weight matrices into row groups of 8
// ("R8"), the layout the SIMD kernels read: for every group of 8 rows and
// every block column b, the 8 rows' fp16 scales side by side, then their
// codes interleaved in 4-byte chunks, so one 32-byte load holds the same 4
// columns of all 8 rows and an integer dot-product instruction (maddubs+madd,
// VNNI vpdpbusd, NEON sdot) sums each row in its own 32-bit lane.
//
//   Q8_0 R8 group-block (272 B = 8 x 34): d[8] fp16 | qs[c][row][m], c = 0..7, m = 0..3
//       qs byte = row's q[4c + m]
//   Q4_0 R8 group-block (144 B = 8 x 18): d[8] fp16 | qs[g][row][m], g = 0..3, m = 0..3
//       qs byte = row's packed byte 4g + m (low nibble: q[4g+m], high: q[16+4g+m])
//
// Group-blocks of one group are stored b = 0..nb-1, groups one after another.
// The last group is padded with zero rows (scale 0). Sizes equal the GGUF
// sizes rounded up to whole groups, so repacking costs no extra memory once
// the mapped original pages are released.
#pragma once
#include <cstdint>
#include <memory>

#include "formats/tensor_type.h"

namespace qat {

inline constexpr int kPackRows = 8;

// Bytes of one R8 group-block.
int64_t packed_group_block_bytes(TensorType type);
// Bytes of a whole packed matrix.
int64_t packed_bytes(TensorType type, int64_t rows, int64_t cols);

// Packs GGUF-layout Q8_0 / Q4_0 rows (rows, cols) into out (packed_bytes).
// Parallel over groups.
void pack_quant_r8(TensorType type, const void* src, int64_t rows, int64_t cols, uint8_t* out);

// A packed weight matrix, 64-byte aligned.
struct PackedMatrix {
  TensorType type;
  int64_t rows, cols;
  std::shared_ptr<uint8_t> data;
};
// release_source: src is part of a read-only file mapping whose pages can be
// dropped (base/mapped_file.h) as soon as they are packed; done slab by slab
// so resident memory never holds both copies of a large matrix.
PackedMatrix make_packed_matrix(TensorType type, const void* src, int64_t rows, int64_t cols,
                                bool release_source = false);
// Same, into memory the caller provides (packed_bytes long, 64-byte aligned),
// e.g. a slice of one arena holding every matrix of a model.
PackedMatrix make_packed_matrix_in(std::shared_ptr<uint8_t> out, TensorType type, const void* src, int64_t rows,
                                   int64_t cols, bool release_source);

}  // namespace qat
