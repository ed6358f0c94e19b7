// Session's shortcuts against its plain path: prompt attention through the
// matmul against one query at a time, and last-row-only outputs against all
// rows. Tiny presets have a sliding window of 8, so prompts cross it.
#include <gtest/gtest.h>

#include <vector>

#include "model/forward.h"
#include "model/model.h"
#include "test_util.h"

namespace qat {
namespace {

using test::row_rel_error;

std::vector<int32_t> token_ids(int n) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(4 + (i * 37) % 500);
  return ids;
}

class SessionShortcuts : public ::testing::TestWithParam<Family> {};

TEST_P(SessionShortcuts, PromptAttentionMatchesOneQueryAtATime) {
  auto m = init_random_model(preset_config(GetParam(), "tiny"), 11);
  const int n = 30, V = m->config.vocab_size;
  const auto ids = token_ids(n);
  // 30 queries in chunks of 12 take the matmul path (a chunk that starts past
  // the window, one that wraps the sliding layers' ring buffer); one token at
  // a time takes the row path.
  Session prompt(*m, 64, 12), steps(*m, 64, 12);
  const float* all = prompt.forward(ids.data(), n, /*all_logits=*/true);
  const std::vector<float> got(all, all + size_t(n) * V);
  for (int t = 0; t < n; ++t) {
    const float* want = steps.forward(&ids[size_t(t)], 1);
    EXPECT_LT(row_rel_error(got.data() + size_t(t) * V, want, V), 5e-5) << "position " << t;  // sums in another order
  }
}

TEST_P(SessionShortcuts, LastRowOutputsMatchAllRows) {
  auto m = init_random_model(preset_config(GetParam(), "tiny"), 12);
  const int n = 21, V = m->config.vocab_size, H = m->config.hidden_size;
  const auto ids = token_ids(n + 1);
  Session a(*m, 64, 8), b(*m, 64, 8);
  const float* all = a.forward(ids.data(), n, true);
  const std::vector<float> last_of_all(all + size_t(n - 1) * V, all + size_t(n) * V);
  const float* last = b.forward(ids.data(), n, false);
  EXPECT_LT(row_rel_error(last, last_of_all.data(), V), 1e-5);
  EXPECT_EQ(b.n_past(), n);
  // The skipped rows still left their K/V: the next step agrees.
  const float* na = a.forward(&ids[size_t(n)], 1);
  const std::vector<float> want_next(na, na + V);
  const float* nb = b.forward(&ids[size_t(n)], 1);
  EXPECT_LT(row_rel_error(nb, want_next.data(), V), 1e-5);

  Session c(*m, 64, 8), d(*m, 64, 8);
  const float* h = c.forward_hidden(ids.data(), n);
  const std::vector<float> last_hidden(h + size_t(n - 1) * H, h + size_t(n) * H);
  const float* hl = d.forward_last_hidden(ids.data(), n);
  EXPECT_LT(row_rel_error(hl, last_hidden.data(), H), 1e-5);
  EXPECT_EQ(d.n_past(), n);
}

INSTANTIATE_TEST_SUITE_P(Families, SessionShortcuts, ::testing::Values(Family::Gemma3, Family::Gemma4),
                         [](const auto& info) { return info.param == Family::Gemma3 ? "Gemma3" : "Gemma4"; });

}  // namespace
}  // namespace qat
