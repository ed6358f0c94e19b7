#include "model/generate.h"

#include <algorithm>
#include <chrono>

#include "base/error.h"

namespace qat {

GenerationStats generate(Session& session, const std::vector<int32_t>& prompt, int n_predict,
                         Sampler& sampler, const std::vector<int32_t>& stop_ids,
                         const std::function<bool(int32_t)>& on_token) {
  using clock = std::chrono::steady_clock;
  QAT_CHECK(!prompt.empty(), "empty prompt");
  GenerationStats st;
  st.prompt_tokens = int(prompt.size());
  auto t0 = clock::now();
  const float* logits = session.forward(prompt.data(), int(prompt.size()));
  st.prompt_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  const int V = session.vocab_size();
  for (int i = 0; i < n_predict; ++i) {
    const int32_t tok = sampler.sample(logits, V);
    if (std::find(stop_ids.begin(), stop_ids.end(), tok) != stop_ids.end()) break;
    ++st.generated_tokens;
    if (!on_token(tok) || i + 1 == n_predict || session.n_past() >= session.max_context()) {
      st.unfed_token = tok;
      break;
    }
    auto t = clock::now();
    logits = session.forward(&tok, 1);
    st.generate_seconds += std::chrono::duration<double>(clock::now() - t).count();
    ++st.decode_steps;
  }
  return st;
}

}  // namespace qat
