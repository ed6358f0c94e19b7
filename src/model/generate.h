// Prompt -> streamed continuation, with timings for the prompt (prefill) and
// the generated tokens (decode).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "model/forward.h"
#include "model/sampler.h"

namespace qat {

struct GenerationStats {
  int prompt_tokens = 0, generated_tokens = 0;
  int decode_steps = 0;
  int32_t unfed_token = -1;     // last generated token not yet in the KV cache (-1: none)         // single-token forward passes timed in generate_seconds
  double prompt_seconds = 0, generate_seconds = 0;
  double prompt_tps() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double generate_tps() const { return generate_seconds > 0 ? decode_steps / generate_seconds : 0; }
};

// Feeds `prompt` (appended to whatever the session already holds), then
// samples up to n_predict tokens, calling on_token for each; stops early at a
// token in stop_ids (not passed to on_token) or when on_token returns false.
GenerationStats generate(Session& session, const std::vector<int32_t>& prompt, int n_predict,
                         Sampler& sampler, const std::vector<int32_t>& stop_ids,
                         const std::function<bool(int32_t)>& on_token);

}  // namespace qat
