// Up-front check that a model and its KV cache fit in memory, so a model too
// big for the machine fails with a clear message instead of an OOM kill.
#pragma once
#include <cstdint>

#include "model/model.h"

namespace qat {

// Scratch allowance on top of weights and KV cache (activations, RoPE tables,
// logits, tokenizer): the budget DESIGN/README promise for decoding.
constexpr uint64_t kScratchBytes = uint64_t(64) << 20;

// Bytes of all weight tensors (mapped views and owned copies alike): every
// byte is read per token, so all of it must be resident to decode at speed.
uint64_t weight_bytes(const Model& model);

// Throws qat::Error naming the model when weights + KV cache for
// `max_context` positions + kScratchBytes exceed MemAvailable + SwapFree
// (base/memory_info.h; QAT_MEM_AVAILABLE_OVERRIDE=bytes replaces them).
// Does nothing when /proc/meminfo cannot be read.
void check_model_fits_in_memory(const Model& model, int max_context, int max_batch = 256);

}  // namespace qat
