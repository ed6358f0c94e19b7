// The loss a model that ignores context would reach: the cross-entropy of the
// validation tokens under the training tokens' unigram frequencies (add-one
// smoothed over the vocabulary). A language model has learned something
// only when its validation loss is clearly below this.
#pragma once
#include <cstdint>
#include <vector>

namespace qat {

// tokens [0, split) train the unigram model, tokens [split, N) are scored;
// returns nats per token (0 when there is nothing to score).
double unigram_cross_entropy(const std::vector<int32_t>& tokens, int64_t split, int64_t vocab_size);

}  // namespace qat
