// Tokenizer::from_hf_dir (tokenizer.json preferred over tokenizer.model, as
// transformers does) and Tokenizer::byte_level (a merge-free Gemma-style
// vocabulary for random-weight demo and test models).
#include <filesystem>

#include "base/error.h"
#include "tokenizer/gemma_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace qat {

std::unique_ptr<Tokenizer> Tokenizer::from_hf_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path json = fs::path(dir) / "tokenizer.json";
  const fs::path model = fs::path(dir) / "tokenizer.model";
  if (fs::is_regular_file(json)) return from_tokenizer_json(json.string());
  if (fs::is_regular_file(model)) return from_sentencepiece(model.string());
  throw Error(cat(dir, ": no tokenizer.json or tokenizer.model in this directory"),
              "point at a Hugging Face checkpoint directory, e.g. one made by `huggingface-cli download`");
}

namespace {

tok::VocabData byte_level_vocab(int vocab_size, const std::vector<std::string>& symbols) {
  using tok::Kind;
  constexpr int kFixed = 7 + 256;
  QAT_CHECK(vocab_size >= kFixed, "byte-level tokenizer: vocab_size ", vocab_size, " is below ", kFixed,
            " (7 special tokens + 256 byte tokens)");
  tok::VocabData d;
  d.source = "byte-level tokenizer";
  const std::pair<const char*, Kind> head[] = {
      {"<pad>", Kind::Control},         {"<eos>", Kind::Control}, {"<bos>", Kind::Control},
      {"<unk>", Kind::Unknown},         {"<mask>", Kind::UserDefined},
      {"<start_of_turn>", Kind::Control}, {"<end_of_turn>", Kind::Control}};
  for (const auto& [text, kind] : head) {
    d.added.push_back({text, int32_t(d.pieces.size()), false});
    d.special.push_back(kind != Kind::UserDefined);
    d.pieces.push_back(text);
    d.kinds.push_back(kind);
  }
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    d.pieces.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    d.kinds.push_back(Kind::Byte);
    d.special.push_back(0);
  }
  // Then "▁" so that spaces (normalized to "▁") decode back to spaces
  // rather than to the three bytes of U+2581, then fillers.
  if (vocab_size > kFixed) {
    d.pieces.push_back(std::string(tok::kSpaceMark));
    d.kinds.push_back(Kind::Normal);
    d.special.push_back(0);
  }
  for (const std::string& sym : symbols) {
    QAT_CHECK(!sym.empty(), "symbol tokenizer: an empty symbol");
    for (const std::string& p : d.pieces) QAT_CHECK(p != sym, "symbol tokenizer: \"", sym, "\" appears twice");
    d.added.push_back({sym, int32_t(d.pieces.size()), false});
    d.pieces.push_back(sym);
    d.kinds.push_back(Kind::UserDefined);
    d.special.push_back(0);
  }
  for (int i = int(d.pieces.size()); i < vocab_size; ++i) {
    d.pieces.push_back(cat("<unused", i - kFixed - 1, ">"));
    d.kinds.push_back(Kind::Unused);
    d.special.push_back(0);
  }
  d.ids = SpecialIds{2, 1, 0, 3, 5, 6};
  return d;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::byte_level(int vocab_size) {
  return std::make_unique<tok::GemmaTokenizer>(byte_level_vocab(vocab_size, {}),
                                               std::vector<tok::GemmaTokenizer::MergeText>{});
}

std::unique_ptr<Tokenizer> Tokenizer::with_symbols(const std::vector<std::string>& symbols) {
  tok::VocabData d = byte_level_vocab(kFirstSymbolId + int(symbols.size()), symbols);
  d.source = "symbol tokenizer";
  return std::make_unique<tok::GemmaTokenizer>(std::move(d), std::vector<tok::GemmaTokenizer::MergeText>{});
}

}  // namespace qat
