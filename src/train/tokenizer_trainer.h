// Trains a small Gemma-style SentencePiece tokenizer (libsentencepiece's
// trainer) for models trained from scratch: BPE with byte fallback, digits
// split, no normalization, and Gemma's special ids (<pad>=0 <eos>=1 <bos>=2
// <unk>=3) plus <start_of_turn> / <end_of_turn>, so the result loads through
// Tokenizer::from_sentencepiece and exports to GGUF like Gemma's own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

struct TokenizerTrainOptions {
  int vocab_size = 4096;
  // Lines sampled from the input (SentencePiece's input_sentence_size); 0 = all.
  int64_t max_sentences = 300000;
  int threads = 2;
  uint64_t seed = 0;
};

// Writes out_path (a tokenizer.model) atomically; inputs are text files or
// directories of *.txt files. Throws qat::Error naming the problem.
void train_sentencepiece(const std::vector<std::string>& inputs, const std::string& out_path,
                         const TokenizerTrainOptions& options);

}  // namespace qat
