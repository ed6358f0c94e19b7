// How a token stream is cut into evaluation windows, as llama-perplexity does:
// non-overlapping windows of ctx tokens, each starting with <bos> (the
// window's first token is replaced by it), and only the second half of each
// window scored. Every scored token thus has at least ctx/2 tokens of context,
// so the figure does not depend on how the first few tokens of a window fare
// with almost no context, and numbers are comparable with llama.cpp's.
//
// Logits row j (the model's output after reading window[0..j]) predicts
// window[j + 1]; the scored rows are j = first .. ctx - 2, with first = ctx / 2,
// which gives ctx - 1 - ctx/2 scored tokens per window.
#pragma once
#include <cstdint>
#include <vector>

#include "model/forward.h"

namespace qat {

struct ChunkPlan {
  int ctx = 0;
  int n_chunks = 0;
  int first = 0;  // first scored logits row
  int scored_per_chunk() const { return ctx - 1 - first; }
};

// n_chunks = n_tokens / ctx, capped by max_chunks when it is > 0. Throws
// qat::Error when ctx < 4 or the text does not fill one window.
ChunkPlan plan_chunks(size_t n_tokens, int ctx, int max_chunks);

// Window i: tokens[i*ctx, (i+1)*ctx) with its first token replaced by bos.
std::vector<int32_t> chunk_window(const std::vector<int32_t>& tokens, const ChunkPlan& plan,
                                  int i, int32_t bos);

// Starts a window on a reset session: feeds window[0, first), which needs no
// logits (only the last row's are computed).
void feed_context(Session& s, const std::vector<int32_t>& window, const ChunkPlan& plan);
// Feeds window[row, row + n) right after what the session holds and returns
// the (n, vocab) logits, valid until the session's next call.
const float* feed_scored(Session& s, const std::vector<int32_t>& window, int row, int n);

}  // namespace qat
