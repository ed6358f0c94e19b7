// Perplexity of a model over a token stream, windowed as in chunks.h.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "eval/chunks.h"
#include "model/model.h"

namespace qat {

// Running sums of per-token negative log-likelihoods.
class NllAccumulator {
 public:
  void add(double nll) { sum_ += nll, sum2_ += nll * nll, ++count_; }
  int64_t count() const { return count_; }
  double mean_nll() const { return count_ ? sum_ / double(count_) : 0; }
  double ppl() const;
  // llama-perplexity's uncertainty: the standard error of the mean NLL
  // carried through exp(): ppl * sqrt(var(nll) / (n - 1)), var the
  // population variance. 0 for fewer than two tokens.
  double ppl_error() const;

 private:
  double sum_ = 0, sum2_ = 0;
  int64_t count_ = 0;
};

struct EvalOptions {
  int ctx = 512;        // window length in tokens
  int max_chunks = 0;   // 0 = every whole window in the text
  int batch = 128;      // tokens per forward step while scoring
};


// Throws qat::Error unless the options fit the model (ctx within its
// positions, batch >= 1) and every token id is inside its vocabulary.
void check_eval_inputs(const Model& model, const std::vector<int32_t>& tokens,
                       const EvalOptions& opts);

// tokens: the text as the model's tokenizer encodes it, <bos> first.
NllAccumulator evaluate_perplexity(const Model& model, const std::vector<int32_t>& tokens,
                                   const EvalOptions& opts,
                                   const std::function<void(int chunk, const ChunkPlan&,
                                                            const NllAccumulator&)>& on_chunk = {});

}  // namespace qat
