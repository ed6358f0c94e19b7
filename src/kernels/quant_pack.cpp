#include "kernels/quant_pack.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/large_alloc.h"
#include "base/mapped_file.h"
#include "quant/quant_types.h"

namespace qat {

int64_t packed_group_block_bytes(TensorType type) {
  if (type == TensorType::Q8_0) return kPackRows * int64_t(sizeof(BlockQ8_0));
  if (type == TensorType::Q4_0) return kPackRows * int64_t(sizeof(BlockQ4_0));
  fail("repacking: unsupported type ", tensor_type_name(type), " (expected Q8_0 or Q4_0)");
}

int64_t packed_bytes(TensorType type, int64_t rows, int64_t cols) {
  const int64_t groups = (rows + kPackRows - 1) / kPackRows;
  return groups * (cols / kQuantBlock) * packed_group_block_bytes(type);
}

namespace {

// One group-block from up to 8 source blocks (null: padding row).
template <typename Block>
void pack_block(const Block* const src[kPackRows], uint8_t* out) {
  constexpr int kQs = sizeof(Block::qs);  // 32 (Q8_0) or 16 (Q4_0)
  auto* d = reinterpret_cast<uint16_t*>(out);
  uint8_t* qs = out + 2 * kPackRows;
  for (int j = 0; j < kPackRows; ++j) d[j] = src[j] ? src[j]->d_fp16 : 0;
  for (int c = 0; c < kQs / 4; ++c)
    for (int j = 0; j < kPackRows; ++j)
      for (int m = 0; m < 4; ++m) {
        // Padding rows: code 0 (Q8_0) or the nibble pair 8|8 (Q4_0 zero).
        const uint8_t zero = kQs == 32 ? 0 : 0x88;
        qs[(c * kPackRows + j) * 4 + m] = src[j] ? uint8_t(src[j]->qs[4 * c + m]) : zero;
      }
}

template <typename Block>
void pack(const Block* src, int64_t rows, int64_t nb, uint8_t* out) {
  const int64_t groups = (rows + kPackRows - 1) / kPackRows;
  constexpr int64_t gb = kPackRows * int64_t(sizeof(Block));
#pragma omp parallel for schedule(static) if (rows * nb >= (1 << 14))
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      const Block* blocks[kPackRows];
      for (int j = 0; j < kPackRows; ++j) {
        const int64_t r = g * kPackRows + j;
        blocks[j] = r < rows ? src + r * nb + b : nullptr;
      }
      pack_block(blocks, out + (g * nb + b) * gb);
    }
  }
}

}  // namespace

void pack_quant_r8(TensorType type, const void* src, int64_t rows, int64_t cols, uint8_t* out) {
  QAT_CHECK(rows >= 0 && cols >= 0 && cols % kQuantBlock == 0, "repacking: cols ", cols,
            " must be a multiple of ", kQuantBlock);
  const int64_t nb = cols / kQuantBlock;
  if (type == TensorType::Q8_0)
    pack(static_cast<const BlockQ8_0*>(src), rows, nb, out);
  else if (type == TensorType::Q4_0)
    pack(static_cast<const BlockQ4_0*>(src), rows, nb, out);
  else
    fail("repacking: unsupported type ", tensor_type_name(type), " (expected Q8_0 or Q4_0)");
}

PackedMatrix make_packed_matrix(TensorType type, const void* src, int64_t rows, int64_t cols,
                                bool release_source) {
  return make_packed_matrix_in(allocate_large(size_t(packed_bytes(type, rows, cols))), type, src, rows, cols,
                               release_source);
}

PackedMatrix make_packed_matrix_in(std::shared_ptr<uint8_t> out, TensorType type, const void* src, int64_t rows,
                                   int64_t cols, bool release_source) {
  PackedMatrix m{type, rows, cols, std::move(out)};
  if (!release_source) {
    pack_quant_r8(type, src, rows, cols, m.data.get());
    return m;
  }
  // Slabs of whole 8-row groups, about 4 MiB of source each.
  const int64_t row_bytes = int64_t(tensor_bytes(uint32_t(type), uint64_t(cols)));
  const int64_t slab_rows = std::max<int64_t>(kPackRows, (int64_t(4) << 20) / std::max<int64_t>(row_bytes, 1) / kPackRows * kPackRows);
  const int64_t group_bytes = (cols / kQuantBlock) * packed_group_block_bytes(type);
  const auto* s = static_cast<const uint8_t*>(src);
  for (int64_t r0 = 0; r0 < rows; r0 += slab_rows) {
    const int64_t n = std::min(slab_rows, rows - r0);
    pack_quant_r8(type, s + r0 * row_bytes, n, cols, m.data.get() + (r0 / kPackRows) * group_bytes);
    release_mapped_pages(s + r0 * row_bytes, size_t(n * row_bytes));
  }
  return m;
}

}  // namespace qat
