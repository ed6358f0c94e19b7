// Gemma's tokenizer: BPE over "▁"-for-space text with byte fallback
// (<0xNN> tokens), special tokens matched whole before BPE.
//
// Three sources give the same ids:
//  - HF tokenizer.json (model BPE, merges ranked by position),
//  - GGUF metadata tokenizer.ggml.* (as llama.cpp's converter writes it),
//  - SentencePiece tokenizer.model (through libsentencepiece).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qat {

class GgufFile;
class GgufWriter;

struct SpecialIds {
  int32_t bos = 2, eos = 1, pad = 0, unk = 3;
  int32_t start_of_turn = -1, end_of_turn = -1;  // -1 when the vocabulary has none
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Loaders. Each throws qat::Error naming the file and the problem.
  static std::unique_ptr<Tokenizer> from_tokenizer_json(const std::string& path);
  static std::unique_ptr<Tokenizer> from_sentencepiece(const std::string& path);
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& gguf);
  // A HF checkpoint directory: tokenizer.json if present, else tokenizer.model.
  static std::unique_ptr<Tokenizer> from_hf_dir(const std::string& dir);
  // A Gemma-style vocabulary with no merges: <pad> <eos> <bos> <unk> <mask>,
  // <start_of_turn> <end_of_turn>, the 256 byte tokens, then "▁" (a space)
  // and unused fillers up to vocab_size (>= 263). For random-weight demo and
  // test models.
  static std::unique_ptr<Tokenizer> byte_level(int vocab_size);
  // The byte-level vocabulary followed by whole-word symbols ("<c:grocery>",
  // ...), each matched in text before anything else and encoded as one token
  // (user-defined tokens, which GGUF and tokenizer.json keep): a word-level
  // vocabulary for models that read feature symbols (finance/). Its size is
  // kFirstSymbolId + symbols.size(); symbols must be distinct and non-empty.
  static std::unique_ptr<Tokenizer> with_symbols(const std::vector<std::string>& symbols);
  static constexpr int32_t kFirstSymbolId = 7 + 256 + 1;  // id of with_symbols' first symbol

  // Text -> ids. Special tokens written in the text (e.g. "<start_of_turn>")
  // become their ids, as HF tokenizers does. add_bos prepends <bos>.
  virtual std::vector<int32_t> encode(const std::string& text, bool add_bos) const = 0;
  // The first max_tokens ids of encode(text, add_bos), encoding no more of a
  // long text than those need (a scorer that reads the first 128 tokens of
  // an e-mail).
  virtual std::vector<int32_t> encode_prefix(const std::string& text, bool add_bos, size_t max_tokens) const = 0;
  // Ids -> text ("▁" -> " ", byte tokens fused into UTF-8). skip_special drops
  // control tokens such as <bos>, as HF's decode(skip_special_tokens=True).
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const = 0;
  // The raw bytes one token stands for (after ▁ -> space and byte fallback);
  // may be an incomplete UTF-8 sequence. Used to stream generated text.
  virtual std::string token_bytes(int32_t id) const = 0;

  virtual int32_t vocab_size() const = 0;
  // What the checkpoint's config says: prepend <bos> by default (true for Gemma).
  virtual bool add_bos_token() const = 0;
  // The checkpoint's chat template (jinja text), empty when it had none.
  virtual const std::string& chat_template() const = 0;
  virtual const SpecialIds& special() const = 0;
  virtual bool is_special(int32_t id) const = 0;

  // Writes tokenizer.ggml.* keys (model "llama", tokens, scores, token_type,
  // special ids, add_bos/add_eos) the way llama.cpp's converter does for Gemma.
  virtual void write_gguf(GgufWriter& w) const = 0;
  // The same, with the token list padded to n_vocab entries ("[PAD<i>]",
  // type unused) when the model's embedding has more rows than the tokenizer
  // has tokens (Gemma 3 checkpoints: 262,208 rows), as llama.cpp's converter
  // does: llama.cpp requires one token per embedding row.
  virtual void write_gguf_padded(GgufWriter& w, int32_t n_vocab) const = 0;
  // Writes tokenizer.json and tokenizer_config.json into a HF directory.
  virtual void write_hf(const std::string& dir) const = 0;
};

// Feeds token bytes and returns only complete UTF-8 characters, holding back
// a partial sequence until its last byte arrives (for streaming output).
class Utf8Stream {
 public:
  std::string push(const std::string& bytes);
  std::string flush();  // whatever is left (invalid bytes become U+FFFD)

 private:
  std::string pending_;
};

// Gemma's chat template: "<start_of_turn>user\n{text}<end_of_turn>\n" for each
// turn ("assistant" is spelled "model"), then "<start_of_turn>model\n" to
// prompt a reply. <bos> is added by encode(), not by the template.
struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" | "model"
  std::string content;
};
std::string apply_chat_template(const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt = true);

}  // namespace qat
