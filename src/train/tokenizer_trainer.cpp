#include "train/tokenizer_trainer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>


#include "base/atomic_file.h"
#include "base/error.h"
#include "train/token_stream.h"

namespace qat {

namespace {

// Feeds SentencePiece pieces of running text: its trainer skips "sentences"
// longer than max_sentence_length, and a corpus such as one speech per line
// would be skipped whole. Lines are cut after sentence ends (". ", "? ",
// "! "), so each piece after the first starts with its space as in running
// text, and hard-cut at a space when a sentence is still too long.
class TextPieces : public sentencepiece::SentenceIterator {
 public:
  explicit TextPieces(const std::vector<std::string>& files) {
    for (const std::string& f : files) {
      const std::string text = read_text_file(f);
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        split_line(text.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  bool done() const override { return i_ >= pieces_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return pieces_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  static constexpr size_t kMax = 2048;
  void split_line(const std::string& line) {
    size_t from = 0;
    for (size_t i = 0; i + 1 < line.size(); ++i) {
      const bool sentence_end = (line[i] == '.' || line[i] == '?' || line[i] == '!') && line[i + 1] == ' ';
      if (sentence_end || i + 1 - from >= kMax) {
        size_t cut = i + 1;
        if (!sentence_end) {  // too long: back up to a space
          const size_t sp = line.rfind(' ', i);
          if (sp != std::string::npos && sp > from) cut = sp;
        }
        add(line.substr(from, cut - from));
        from = cut;
      }
    }
    add(line.substr(from));
  }
  void add(std::string piece) {
    if (piece.find_first_not_of(" \t\r") != std::string::npos) pieces_.push_back(std::move(piece));
  }
  std::vector<std::string> pieces_;
  size_t i_ = 0;
};

}  // namespace

void train_sentencepiece(const std::vector<std::string>& inputs, const std::string& out_path,
                         const TokenizerTrainOptions& o) {
  QAT_CHECK(o.vocab_size >= 300 && o.vocab_size <= 1 << 20, "tokenizer vocabulary size ", o.vocab_size,
            " must be in [300, 1048576] (256 byte pieces and the special tokens need room)");
  TextPieces pieces(list_text_files(inputs));
  QAT_CHECK(!pieces.done(), "no text to train a tokenizer on in the inputs");
  // No model_prefix: the trainer hands the model back in memory.
  std::string args = "--vocab_size=" + std::to_string(o.vocab_size) +
                     " --model_type=bpe --byte_fallback=true --split_digits=true"
                     " --normalization_rule_name=identity --add_dummy_prefix=false"
                     " --remove_extra_whitespaces=false --allow_whitespace_only_pieces=true"
                     " --character_coverage=0.9995 --max_sentence_length=4096"
                     " --pad_id=0 --eos_id=1 --bos_id=2 --unk_id=3"
                     " --pad_piece=<pad> --eos_piece=<eos> --bos_piece=<bos> --unk_piece=<unk>"
                     " --user_defined_symbols=<mask>,<start_of_turn>,<end_of_turn>"
                     " --num_threads=" + std::to_string(std::max(1, o.threads)) +
                     " --minloglevel=2";
  if (o.max_sentences > 0)
    args += " --input_sentence_size=" + std::to_string(o.max_sentences) + " --shuffle_input_sentence=true";
  // Sentence sampling is random: seed it so a rerun gives the same tokenizer.
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(o.seed));
  std::string model;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &pieces, &model);
  QAT_CHECK(status.ok(), "training the tokenizer failed: ", status.ToString());
  AtomicFile out(out_path);
  out.write(model.data(), model.size());
  out.commit();
}

}  // namespace qat
