#include "eval/chunks.h"

#include "base/error.h"

namespace qat {

ChunkPlan plan_chunks(size_t n_tokens, int ctx, int max_chunks) {
  QAT_CHECK(ctx >= 4, "--ctx must be at least 4 tokens, got ", ctx);
  ChunkPlan p;
  p.ctx = ctx;
  p.first = ctx / 2;
  const size_t available = n_tokens / size_t(ctx);
  QAT_CHECK(available >= 1, "the text has ", n_tokens, " tokens, fewer than one window of --ctx ",
            ctx);
  p.n_chunks = int(std::min<size_t>(available, 1u << 30));
  if (max_chunks > 0 && max_chunks < p.n_chunks) p.n_chunks = max_chunks;
  return p;
}

std::vector<int32_t> chunk_window(const std::vector<int32_t>& tokens, const ChunkPlan& plan,
                                  int i, int32_t bos) {
  QAT_CHECK(i >= 0 && i < plan.n_chunks, "internal: chunk ", i, " out of range");
  const size_t start = size_t(i) * size_t(plan.ctx);
  std::vector<int32_t> w(tokens.begin() + long(start), tokens.begin() + long(start + plan.ctx));
  w[0] = bos;
  return w;
}

void feed_context(Session& s, const std::vector<int32_t>& window, const ChunkPlan& plan) {
  s.reset();
  s.forward(window.data(), plan.first, false);
}

const float* feed_scored(Session& s, const std::vector<int32_t>& window, int row, int n) {
  QAT_CHECK(s.n_past() == row && row + n <= int(window.size()),
            "internal: scored rows must follow the context");
  return s.forward(window.data() + row, n, true);
}

}  // namespace qat
