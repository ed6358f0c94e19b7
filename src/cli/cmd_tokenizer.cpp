// qat tokenizer train: a small Gemma-style SentencePiece tokenizer for a
// model trained from scratch (qat train --tokenizer tokenizer.model).
#include <chrono>
#include <cstdio>

#include "base/error.h"
#include "cli/commands.h"
#include "tokenizer/tokenizer.h"
#include "train/tokenizer_trainer.h"

namespace qat::cli {

void add_tokenizer(CLI::App& app) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string out;
    TokenizerTrainOptions train;
  };
  auto o = std::make_shared<Opts>();
  auto* tok = app.add_subcommand("tokenizer", "Tokenizer tools");
  tok->require_subcommand(1);
  auto* cmd = tok->add_subcommand("train", "Train a Gemma-style SentencePiece BPE tokenizer on text files");
  cmd->add_option("inputs", o->inputs, "Text files or directories of *.txt files")->required();
  cmd->add_option("-o,--output", o->out, "Output tokenizer.model")->required();
  cmd->add_option("--vocab", o->train.vocab_size, "Vocabulary size")->capture_default_str();
  cmd->add_option("--max-sentences", o->train.max_sentences, "Lines sampled for training (0: all)")
      ->capture_default_str();
  cmd->add_option("--seed", o->train.seed, "Seed for the line sample")->capture_default_str();
  cmd->add_option("-t,--threads", o->train.threads, "Threads")->capture_default_str();
  cmd->callback([o] {
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "training a %d-piece tokenizer (SentencePiece BPE)...\n", o->train.vocab_size);
    train_sentencepiece(o->inputs, o->out, o->train);
    auto t = Tokenizer::from_sentencepiece(o->out);  // proves it loads as a Gemma tokenizer
    std::printf("wrote %s: %d pieces in %.1f s\n", o->out.c_str(), t->vocab_size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  });
}

}  // namespace qat::cli
