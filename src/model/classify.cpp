#include "model/classify.h"

#include <algorithm>

#include "base/error.h"
#include "kernels/matmul.h"

namespace qat {

std::vector<float> classify_sequence(Session& session, const int32_t* ids, int n) {
  const Model& m = session.model();
  const ModelConfig& c = m.config;
  QAT_CHECK(c.num_labels > 0 && m.weights.score.present(), m.source_path,
            ": the model has no classification head (train one with `qat train --task classify`)");
  QAT_CHECK(n >= 1, "classify: empty sequence");
  const int64_t H = c.hidden_size;
  session.reset();
  std::vector<float> pooled(static_cast<size_t>(H));
  if (c.classifier_pooling == "mean") {
    const float* h = session.forward_hidden(ids, n);  // (n, H) after the final norm
    std::vector<double> acc(size_t(H), 0.0);
    for (int t = 0; t < n; ++t)
      for (int64_t i = 0; i < H; ++i) acc[size_t(i)] += double(h[t * H + i]);
    for (int64_t i = 0; i < H; ++i) pooled[size_t(i)] = float(acc[size_t(i)] / double(n));
  } else {
    const float* h = session.forward_last_hidden(ids, n);  // (H) after the final norm
    std::copy(h, h + H, pooled.begin());
  }
  const Tensor& w = m.weights.score;  // (num_labels, H)
  std::vector<float> logits(size_t(c.num_labels));
  matmul(MatrixView{w.type, w.data, w.rows(), w.cols(), w.packed.get(), c.activation_quant}, pooled.data(),
         logits.data(), 1);
  return logits;
}

std::vector<float> classify_batch(const Model& model, const std::vector<std::vector<int32_t>>& sequences,
                                  const std::function<void(size_t)>& on_done) {
  size_t longest = 1;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  QAT_CHECK(longest <= size_t(model.config.max_position_embeddings), "classify: a sequence of ", longest,
            " tokens exceeds the model's ", model.config.max_position_embeddings, " positions");
  Session session(model, int(longest), int(std::min<size_t>(longest, 256)));
  const size_t C = size_t(std::max(model.config.num_labels, 0));
  std::vector<float> out(sequences.size() * C);
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto logits = classify_sequence(session, sequences[i].data(), int(sequences[i].size()));
    std::copy(logits.begin(), logits.end(), out.begin() + long(i * C));
    if (on_done) on_done(i + 1);
  }
  return out;
}

int32_t argmax_label(const float* logits, int num_labels) {
  int32_t best = 0;
  for (int i = 1; i < num_labels; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

}  // namespace qat
