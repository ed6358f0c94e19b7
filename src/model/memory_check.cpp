#include "model/memory_check.h"

#include "base/error.h"
#include "base/memory_info.h"
#include "model/forward.h"

namespace qat {

uint64_t weight_bytes(const Model& model) {
  uint64_t n = 0;
  ModelWeights& w = const_cast<ModelWeights&>(model.weights);  // slots are only read
  for (const TensorSlot& s : tensor_slots(model.config, w))
    if (s.tensor->present()) n += s.tensor->nbytes();
  return n;
}

void check_model_fits_in_memory(const Model& model, int max_context, int max_batch) {
  const MemoryInfo mem = read_memory_info();
  if (!mem.known) return;
  const uint64_t weights = weight_bytes(model);
  const uint64_t kv = Session::kv_cache_bytes_for(model, max_context, max_batch);
  const uint64_t needed = weights + kv + kScratchBytes;
  const uint64_t available = mem.available + mem.swap_free;
  if (needed <= available) return;
  throw Error(cat(model.source_path, ": needs about ", format_bytes(needed), " of memory (weights ",
                  format_bytes(weights), " + KV cache ", format_bytes(kv), " for ", max_context,
                  " tokens + ", format_bytes(kScratchBytes), " scratch) but only ", format_bytes(available),
                  " is available (MemAvailable ", format_bytes(mem.available), " + SwapFree ",
                  format_bytes(mem.swap_free), ")"),
              "lower --ctx to shrink the KV cache, or use a smaller quantization "
              "(`qat quantize MODEL OUT.gguf q4_0`)");
}

}  // namespace qat
