#include "train/tokenizer_trainer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "train/token_stream.h"

namespace qat {

void train_sentencepiece(const std::vector<std::string>& inputs, const std::string& out_path,
                         const TokenizerTrainOptions& o) {
  QAT_CHECK(o.vocab_size >= 300 && o.vocab_size <= 1 << 20, "tokenizer vocabulary size ", o.vocab_size,
            " must be in [300, 1048576] (256 byte pieces and the special tokens need room)");
  const std::vector<std::string> files = list_text_files(inputs);
  std::string input;
  for (const std::string& f : files) input += (input.empty() ? "" : ",") + f;
  QAT_CHECK(input.find(',') == std::string::npos || files.size() > 1, "a file name contains a comma: ", input);
  namespace fs = std::filesystem;
  // SentencePiece writes <prefix>.model and <prefix>.vocab; train beside the
  // output under a temporary prefix, then move the model into place.
  const std::string prefix = out_path + ".tmp-" + std::to_string(getpid());
  std::string args = "--input=" + input + " --model_prefix=" + prefix +
                     " --vocab_size=" + std::to_string(o.vocab_size) +
                     " --model_type=bpe --byte_fallback=true --split_digits=true"
                     " --normalization_rule_name=identity --add_dummy_prefix=false"
                     " --remove_extra_whitespaces=false --allow_whitespace_only_pieces=true"
                     " --character_coverage=0.9995 --max_sentence_length=16384"
                     " --pad_id=0 --eos_id=1 --bos_id=2 --unk_id=3"
                     " --user_defined_symbols=<mask>,<start_of_turn>,<end_of_turn>"
                     " --num_threads=" + std::to_string(std::max(1, o.threads)) +
                     " --minloglevel=2";
  if (o.max_sentences > 0)
    args += " --input_sentence_size=" + std::to_string(o.max_sentences) + " --shuffle_input_sentence=true";
  // Sentence sampling is random: seed it so a rerun gives the same tokenizer.
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(o.seed));
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  std::error_code ec;
  fs::remove(prefix + ".vocab", ec);
  if (!status.ok()) {
    fs::remove(prefix + ".model", ec);
    fail("training the tokenizer on ", input, " failed: ", status.ToString());
  }
  std::string bytes = read_text_file(prefix + ".model");
  fs::remove(prefix + ".model", ec);
  AtomicFile out(out_path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

}  // namespace qat
