// Q/K/V projections kept back to back in one allocation, so the training
// step multiplies by them in one GEMM (gemma_train.cpp for the weights and
// gradients, fake_quant_state.cpp for the fake-quantized copies).
#pragma once
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include "model/weights.h"

namespace qat {

// Moves the present tensors of `group` into one allocation, back to back in
// order, so a layer's Q/K/V projections are one matrix: one GEMM instead of
// three narrow ones (K and V are 1-2 heads wide), forward and backward.
inline void make_adjacent(std::initializer_list<Tensor*> group) {
  uint64_t total = 0;
  for (Tensor* t : group)
    if (t->present()) total += t->nbytes();
  auto storage = std::make_shared<std::vector<uint8_t>>(total);
  uint64_t off = 0;
  for (Tensor* t : group) {
    if (!t->present()) continue;
    std::memcpy(storage->data() + off, t->data, t->nbytes());
    t->owned = storage;
    t->data = storage->data() + off;
    off += t->nbytes();
  }
}

}  // namespace qat
