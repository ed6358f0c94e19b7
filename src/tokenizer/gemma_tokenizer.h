// The one Tokenizer implementation behind all three loaders (tokenizer.json,
// GGUF, tokenizer.model). They differ only in how the vocabulary, the merge
// table and the added tokens are read; encode/decode are shared so the three
// sources cannot drift apart.
//
// Encoding, as HF `tokenizers` does it for Gemma:
//   1. added tokens (<bos>, <start_of_turn>, "\n", "<table>", ...) are cut out
//      of the raw text whole, leftmost-longest;
//   2. each remaining segment is normalized (" " -> "▁");
//   3. BPE: start from one symbol per character (a character missing from the
//      vocabulary becomes its <0xNN> byte tokens), then repeatedly merge the
//      adjacent pair of lowest rank (leftmost on ties) until none is left.
// With a SentencePiece model loaded, step 3 is libsentencepiece's.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/flat_hash.h"
#include "tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace qat::tok {

// GGUF tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class Kind : uint8_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

inline constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // "▁" U+2581

// A token matched whole in the raw text before BPE.
struct AddedToken {
  std::string text;
  int32_t id = -1;
  bool normalized = false;  // HF "normalized": matched in the normalized text instead
};

// What a loader fills in.
struct VocabData {
  std::string source;                // file path, for error messages
  std::vector<std::string> pieces;   // id -> text, HF form ("▁" for a space)
  std::vector<Kind> kinds;           // id -> kind
  std::vector<uint8_t> special;      // id -> HF "special" (dropped by decode(skip_special))
  std::vector<float> scores;         // id -> score, or empty (merge ranks are then given)
  std::vector<AddedToken> added;
  int32_t n_model = -1;              // ids below this are the BPE model's vocab (-1: all)
  SpecialIds ids;
  bool add_bos = true, add_eos = false;
  std::string chat_template;         // jinja text from the checkpoint, may be empty
  // HF BPE model options.
  bool byte_fallback = true;
  bool fuse_unk = true;
  // Why this tokenizer cannot be written as tokenizer.json / GGUF (a
  // SentencePiece model with a normalizer they cannot express), or empty.
  std::string export_blocker;
  // Where the merges came from, for messages ("field 'model.merges'").
  std::string merges_field = "merges";
  // llama.cpp's "gemma4" pre-tokenizer: runs of '\n' are looked up whole.
  bool split_newline_runs = false;
};

struct WordCache;  // per-call memo of word -> ids (bpe.cpp)

class GemmaTokenizer final : public Tokenizer {
 public:
  // Merge-rank BPE: merges[i] = (left piece, right piece) has rank i. The
  // views need only live until the constructor returns.
  using MergeText = std::pair<std::string_view, std::string_view>;
  GemmaTokenizer(VocabData data, const std::vector<MergeText>& merges);
  // Score BPE (SentencePiece / GGUF "llama"): the adjacent pair whose
  // concatenation is the highest-scoring piece merges first.
  explicit GemmaTokenizer(VocabData data);
  ~GemmaTokenizer() override;

  // Segments between added tokens go through this SentencePiece processor.
  void use_sentencepiece(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp);

  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override;
  std::vector<int32_t> encode_prefix(const std::string& text, bool add_bos, size_t max_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const override;
  std::string token_bytes(int32_t id) const override;
  int32_t vocab_size() const override { return int32_t(data_.pieces.size()); }
  const SpecialIds& special() const override { return data_.ids; }
  bool is_special(int32_t id) const override;
  void write_gguf(GgufWriter& w) const override;
  void write_gguf_padded(GgufWriter& w, int32_t n_vocab) const override;
  void write_hf(const std::string& dir) const override;
  bool add_bos_token() const override { return data_.add_bos; }
  const std::string& chat_template() const override { return data_.chat_template; }

  // For the writers and tests.
  const VocabData& data() const { return data_; }
  std::string_view piece(int32_t id) const { return data_.pieces[size_t(id)]; }
  int32_t piece_id(std::string_view text) const;
  // Merges in rank order (score mode: ties share a rank; listed by rank).
  std::vector<std::pair<int32_t, int32_t>> merge_list() const;
  // Score per token as a GGUF "llama" vocabulary needs it: the original
  // scores, or in rank mode -(rank of the first merge making the token).
  std::vector<float> gguf_scores() const;

 private:
  struct Matcher;  // added-token trie
  void init_common();
  void build_score_merges();
  void init_word_split();
  // Both stop early once `out` holds `limit` ids where the ids so far cannot
  // change any more (between words; a segment SentencePiece or whole-segment
  // BPE encodes is finished first).
  void encode_segment(std::string_view raw, std::string& norm, std::vector<int32_t>& out, WordCache& cache,
                      size_t limit) const;
  void encode_normalized(std::string_view norm, std::vector<int32_t>& out, WordCache& cache, size_t limit) const;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  int32_t char_id(std::string_view ch) const;

  VocabData data_;
  bool from_scores_ = false;
  PieceIndex index_;
  PairTable pairs_;
  std::vector<std::pair<int32_t, int32_t>> merge_order_;  // rank order (rank mode)
  std::array<int32_t, 256> byte_id_{};
  std::array<int32_t, 128> ascii_id_{};
  std::unique_ptr<Matcher> raw_matcher_, norm_matcher_;
  // Word split: a normalized segment may be cut before a "▁" whose previous
  // character never precedes "▁" inside any piece, since no merge can then
  // cross the cut (see init_word_split).
  bool word_split_ = false;
  std::vector<std::string> glue_before_space_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

// Shared helpers for loaders.
bool is_byte_piece(std::string_view piece, uint8_t* value = nullptr);  // "<0xNN>"
bool valid_utf8(std::string_view s);  // strict, as Rust's String::from_utf8
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// The Gemma 3 chat template (jinja), written when a checkpoint has none.
extern const char* const kGemmaChatTemplate;
// Special ids from the vocabulary by name (<bos>, <eos>, ...), for loaders
// whose file does not say.
void guess_special_ids(VocabData& d);
// Reads <dir>/tokenizer_config.json if present: bos/eos/pad/unk by name
// (resolved with id_of), add_bos_token / add_eos_token, chat_template.
void apply_tokenizer_config(VocabData& d, const std::string& dir,
                            const std::function<int32_t(const std::string&)>& id_of);

}  // namespace qat::tok
