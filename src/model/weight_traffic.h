// How many bytes of weights one decoded token reads: the number that bounds
// decode speed on a memory-bound CPU (tokens/s <= bandwidth / this).
#pragma once
#include <cstdint>

#include "model/model.h"

namespace qat {

// Every matrix of every layer, norms and layer scalars, the output projection
// (with tied embeddings the whole embedding table, which the output
// projection reads), plus one row of the token embedding and, for Gemma 4,
// one row of the per-layer embedding table.
uint64_t weight_bytes_per_token(const Model& model);

}  // namespace qat
