// GemmaTokenizer construction: the piece index, byte-fallback table, merge
// table (from ranks or from scores) and the added-token matchers.
#include "tokenizer/gemma_tokenizer.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "tokenizer/added_matcher.h"

namespace qat::tok {

bool is_byte_piece(std::string_view p, uint8_t* value) {
  // Exactly what HF's ByteFallback decoder accepts: "<0x" two hex digits ">".
  if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return false;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int hi = hex(p[3]), lo = hex(p[4]);
  if (hi < 0 || lo < 0) return false;
  if (value) *value = uint8_t(hi * 16 + lo);
  return true;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    const size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(s.substr(i, j - i));
    out.append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

void guess_special_ids(VocabData& d) {
  auto find = [&](std::string_view name) -> int32_t {
    for (size_t i = 0; i < d.pieces.size(); ++i)
      if (d.pieces[i] == name) return int32_t(i);
    return -1;
  };
  d.ids.start_of_turn = find("<start_of_turn>");
  d.ids.end_of_turn = find("<end_of_turn>");
}

GemmaTokenizer::GemmaTokenizer(VocabData data, const std::vector<MergeText>& merges)
    : data_(std::move(data)) {
  init_common();
  // Rank mode: the pair table is the merge list. A merge whose result is not
  // a piece is an error in HF too (MergeTokenOutOfVocabulary). The lookups
  // miss the cache (a 262k-entry index, a 515k-entry table), so the entries
  // a few merges ahead are prefetched: loading Gemma 3 is memory bound.
  const int32_t n_model = data_.n_model >= 0 ? data_.n_model : vocab_size();
  pairs_.reserve(merges.size());
  merge_order_.reserve(merges.size());
  std::string joined, ahead;
  std::vector<int32_t> merged;  // result id per merge
  merged.reserve(merges.size());
  constexpr size_t kAhead = 8;
  for (size_t r = 0; r < merges.size(); ++r) {
    if (r + kAhead < merges.size()) {
      const MergeText& m = merges[r + kAhead];
      index_.prefetch(m.first);
      index_.prefetch(m.second);
      ahead.assign(m.first);
      ahead.append(m.second);
      index_.prefetch(ahead);
    }
    const auto& [ta, tb] = merges[r];
    const int32_t a = piece_id(ta), b = piece_id(tb);
    QAT_CHECK(a >= 0 && b >= 0 && a < n_model && b < n_model, data_.source, ": ", data_.merges_field,
              ": entry ", r, " (\"", ta, "\" \"", tb, "\") names a piece that is not in the vocabulary");
    joined.assign(ta);
    joined.append(tb);
    const int32_t id = piece_id(joined);
    QAT_CHECK(id >= 0, data_.source, ": ", data_.merges_field, ": entry ", r, " (\"", ta, "\" \"", tb,
              "\"): the merged piece \"", joined, "\" is not in the vocabulary");
    merge_order_.emplace_back(a, b);
    merged.push_back(id);
  }
  for (size_t r = 0; r < merges.size(); ++r) {
    if (r + kAhead < merges.size()) pairs_.prefetch(merge_order_[r + kAhead].first, merge_order_[r + kAhead].second);
    // A repeated pair keeps its first (lowest) rank.
    pairs_.insert(merge_order_[r].first, merge_order_[r].second, {uint32_t(r), merged[r]});
  }
  init_word_split();
}

GemmaTokenizer::GemmaTokenizer(VocabData data) : data_(std::move(data)) {
  from_scores_ = true;
  QAT_CHECK(data_.scores.size() == data_.pieces.size(), data_.source,
            ": one score per token expected, found ", data_.scores.size(), " scores for ",
            data_.pieces.size(), " tokens");
  init_common();
  build_score_merges();
  init_word_split();
}

GemmaTokenizer::~GemmaTokenizer() = default;

void GemmaTokenizer::use_sentencepiece(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp) {
  sp_ = std::move(sp);
}

int32_t GemmaTokenizer::piece_id(std::string_view text) const {
  return index_.find(text, [this](int32_t id) { return piece(id); });
}

bool GemmaTokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < data_.special.size() && data_.special[size_t(id)];
}

void GemmaTokenizer::init_common() {
  VocabData& d = data_;
  const size_t n = d.pieces.size();
  QAT_CHECK(n > 0 && n < (1u << 30), d.source, ": vocabulary has ", n, " tokens");
  QAT_CHECK(d.kinds.size() == n && d.special.size() == n, d.source,
            ": internal: token kinds/special flags do not match the vocabulary");
  index_.build(int32_t(n), [this](int32_t id) { return piece(id); });
  byte_id_.fill(-1);
  for (size_t i = 0; i < n; ++i) {
    uint8_t b;
    if (d.kinds[i] == Kind::Byte && is_byte_piece(d.pieces[i], &b) && byte_id_[b] < 0)
      byte_id_[b] = int32_t(i);
  }
  for (int c = 0; c < 128; ++c) {
    const char ch = char(c);
    ascii_id_[size_t(c)] = piece_id(std::string_view(&ch, 1));
  }
  auto check_id = [&](int32_t id, const char* what) {
    QAT_CHECK(id >= -1 && id < int32_t(n), d.source, ": ", what, " token id ", id,
              " is outside the vocabulary (", n, " tokens)");
  };
  check_id(d.ids.bos, "bos");
  check_id(d.ids.eos, "eos");
  check_id(d.ids.pad, "padding");
  check_id(d.ids.unk, "unknown");
  check_id(d.ids.start_of_turn, "<start_of_turn>");
  check_id(d.ids.end_of_turn, "<end_of_turn>");
  raw_matcher_ = std::make_unique<Matcher>();
  norm_matcher_ = std::make_unique<Matcher>();
  for (const AddedToken& t : d.added) {
    QAT_CHECK(t.id >= 0 && t.id < int32_t(n), d.source, ": added token \"", t.text, "\" has id ",
              t.id, ", outside the vocabulary (", n, " tokens)");
    if (t.text.empty()) continue;  // HF ignores empty added tokens
    if (t.normalized)
      norm_matcher_->add(replace_all(t.text, " ", kSpaceMark), t.id);
    else
      raw_matcher_->add(t.text, t.id);
  }
}

// Score mode: every split of a piece into two pieces is a merge, ranked by the
// piece's score (higher first; equal scores share a rank, and the heap then
// takes the leftmost pair, as SentencePiece and llama.cpp's SPM tokenizer do).
// Enumerating splits up front turns "is left+right a piece?" into one lookup.
void GemmaTokenizer::build_score_merges() {
  const VocabData& d = data_;
  const size_t n = d.pieces.size();
  std::vector<int32_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    QAT_CHECK(std::isfinite(d.scores[i]), d.source, ": token ", i, " has a non-finite score");
    order[i] = int32_t(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return d.scores[size_t(a)] > d.scores[size_t(b)]; });
  std::vector<uint32_t> rank(n);
  uint32_t r = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && d.scores[size_t(order[i])] != d.scores[size_t(order[i - 1])]) ++r;
    rank[size_t(order[i])] = r;
  }
  pairs_.reserve(n * 2);
  for (size_t t = 0; t < n; ++t) {
    // Byte tokens are never merge results: their text is a name, not bytes.
    if (d.kinds[t] == Kind::Byte) continue;
    const std::string_view s = d.pieces[t];
    for (size_t k = 1; k < s.size(); ++k) {
      if ((uint8_t(s[k]) & 0xC0) == 0x80) continue;  // split only between characters
      const int32_t a = piece_id(s.substr(0, k));
      if (a < 0 || d.kinds[size_t(a)] == Kind::Byte) continue;
      const int32_t b = piece_id(s.substr(k));
      if (b < 0 || d.kinds[size_t(b)] == Kind::Byte) continue;
      pairs_.insert(a, b, {rank[t], int32_t(t)});
    }
  }
}

// A cut before "▁" is safe when the character c before it never appears as
// "c▁" inside a piece: every merge result is a piece, so no merge can join
// the two sides, and BPE on each side alone gives the same tokens. Gemma 3
// has one such piece (">▁</"), so ">" keeps its following "▁".
void GemmaTokenizer::init_word_split() {
  word_split_ = true;
  // In rank mode a merge could involve byte tokens, whose text says nothing
  // about the bytes around them; then never cut.
  for (const auto& [a, b] : merge_order_)
    if (data_.kinds[size_t(a)] == Kind::Byte || data_.kinds[size_t(b)] == Kind::Byte) word_split_ = false;
  for (size_t i = 0; i < data_.pieces.size(); ++i) {
    if (data_.kinds[i] == Kind::Byte) continue;
    const std::string_view p = data_.pieces[i];
    for (size_t k = p.find(kSpaceMark, 1); k != std::string_view::npos; k = p.find(kSpaceMark, k + 1)) {
      size_t c = k - 1;
      while (c > 0 && (uint8_t(p[c]) & 0xC0) == 0x80) --c;
      const std::string_view ch = p.substr(c, k - c);
      if (ch == kSpaceMark) continue;
      if (std::find(glue_before_space_.begin(), glue_before_space_.end(), ch) == glue_before_space_.end())
        glue_before_space_.emplace_back(ch);
    }
  }
}

std::vector<std::pair<int32_t, int32_t>> GemmaTokenizer::merge_list() const {
  if (!from_scores_) return merge_order_;
  // Score mode: list every pair by (rank, merged piece id, left id).
  struct Entry {
    uint32_t rank;
    int32_t id, a, b;
  };
  std::vector<Entry> all;
  const size_t n = data_.pieces.size();
  for (size_t t = 0; t < n; ++t) {
    if (data_.kinds[t] == Kind::Byte) continue;
    const std::string_view s = data_.pieces[t];
    for (size_t k = 1; k < s.size(); ++k) {
      if ((uint8_t(s[k]) & 0xC0) == 0x80) continue;
      const int32_t a = piece_id(s.substr(0, k)), b = piece_id(s.substr(k));
      if (a < 0 || b < 0) continue;
      const PairTable::Value* v = pairs_.find(a, b);
      if (v && v->id == int32_t(t)) all.push_back({v->rank, int32_t(t), a, b});
    }
  }
  std::sort(all.begin(), all.end(), [](const Entry& x, const Entry& y) {
    if (x.rank != y.rank) return x.rank < y.rank;
    if (x.id != y.id) return x.id < y.id;
    return x.a < y.a;
  });
  std::vector<std::pair<int32_t, int32_t>> out;
  out.reserve(all.size());
  for (const Entry& e : all) out.emplace_back(e.a, e.b);
  return out;
}

std::vector<float> GemmaTokenizer::gguf_scores() const {
  if (from_scores_) return data_.scores;
  // Rank mode: a token's score is minus the rank of the first merge that
  // makes it, so "highest score first" visits results in merge-rank order.
  // Tokens no merge makes (characters, bytes, added tokens) never take part
  // in a merge as results: 0, or -1000 for added tokens as llama.cpp writes.
  std::vector<float> s(data_.pieces.size(), 0.0f);
  for (size_t i = 0; i < s.size(); ++i)
    if (data_.kinds[i] == Kind::Control || data_.kinds[i] == Kind::UserDefined ||
        data_.kinds[i] == Kind::Unknown)
      s[i] = -1000.0f;
  std::vector<uint8_t> seen(s.size(), 0);
  for (size_t r = 0; r < merge_order_.size(); ++r) {
    const PairTable::Value* v = pairs_.find(merge_order_[r].first, merge_order_[r].second);
    if (v && !seen[size_t(v->id)]) {
      seen[size_t(v->id)] = 1;
      s[size_t(v->id)] = -float(r);  // exact: ranks < 2^24
    }
  }
  return s;
}

}  // namespace qat::tok
