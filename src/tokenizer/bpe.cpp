// Text -> ids: added-token split, normalization, word cut and the BPE merge
// loop (HF tokenizers' models/bpe/word.rs semantics, reimplemented).
#include <sentencepiece_processor.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "base/error.h"
#include "tokenizer/added_matcher.h"
#include "tokenizer/gemma_tokenizer.h"

namespace qat::tok {

// Within one encode() call the same word is usually seen many times ("▁the"):
// its ids are remembered as a span of the output. Keys point into the
// normalized buffer, which is reserved up front so it never moves.
struct WordCache {
  struct Span {
    uint32_t begin, size;
  };
  std::unordered_map<std::string_view, Span> map;
};

namespace {

size_t utf8_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;  // stray continuation or invalid lead byte: a character of its own
}

// Length of the character at s[i], treating malformed sequences as single
// bytes (they then fall back to <0xNN> tokens and decode to U+FFFD).
size_t char_len_at(std::string_view s, size_t i) {
  const size_t n = utf8_len(uint8_t(s[i]));
  if (n == 1 || i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k)
    if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return 1;
  return n;
}

struct Symbol {
  int32_t id;
  int32_t prev, next;
  uint32_t len;  // bytes; 0 once merged into its left neighbour
};

struct Candidate {
  uint32_t rank;
  int32_t pos;
  int32_t id;
  // std::push_heap builds a max-heap: "greater" means lower rank, then lower pos.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

}  // namespace

int32_t GemmaTokenizer::char_id(std::string_view ch) const {
  if (ch.size() == 1 && uint8_t(ch[0]) < 128) return ascii_id_[uint8_t(ch[0])];
  return piece_id(ch);
}

std::vector<int32_t> GemmaTokenizer::encode(const std::string& text, bool add_bos) const {
  return encode_prefix(text, add_bos, std::numeric_limits<size_t>::max());
}

std::vector<int32_t> GemmaTokenizer::encode_prefix(const std::string& text, bool add_bos, size_t max_tokens) const {
  std::vector<int32_t> out;
  out.reserve(std::min(text.size() / 3 + 4, max_tokens));
  if (add_bos && data_.ids.bos >= 0) out.push_back(data_.ids.bos);
  std::string norm;
  norm.reserve(text.size() * 3 + 16);  // " " -> "▁" at most triples the size
  WordCache cache;
  raw_matcher_->split(
      text,
      [&](std::string_view seg) {
        if (out.size() < max_tokens) encode_segment(seg, norm, out, cache, max_tokens);
      },
      [&](int32_t id) { out.push_back(id); });
  if (out.size() > max_tokens) out.resize(max_tokens);
  return out;
}

void GemmaTokenizer::encode_segment(std::string_view raw, std::string& norm, std::vector<int32_t>& out,
                                    WordCache& cache, size_t limit) const {
  if (sp_) {
    // SentencePiece normalizes and merges itself.
    std::vector<int> ids;
    const auto status = sp_->Encode(raw, &ids);
    QAT_CHECK(status.ok(), data_.source, ": sentencepiece: ", status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
    return;
  }
  if (data_.split_newline_runs) {
    // llama.cpp's gemma4 pre-tokenizer: "[^\n]+|[\n]+", and a newline run
    // that is a token as a whole is that token.
    size_t i = 0;
    while (i < raw.size() && out.size() < limit) {
      const bool nl = raw[i] == '\n';
      size_t j = i;
      while (j < raw.size() && (raw[j] == '\n') == nl) ++j;
      const std::string_view part = raw.substr(i, j - i);
      const int32_t whole = nl ? piece_id(part) : -1;
      if (whole >= 0) {
        out.push_back(whole);
      } else {
        const size_t at = norm.size();
        norm.append(replace_all(part, " ", kSpaceMark));
        encode_normalized(std::string_view(norm).substr(at), out, cache, limit);
      }
      i = j;
    }
    return;
  }
  // Normalizer Replace(" ", "▁"), appended to the shared buffer so cache
  // keys stay valid for the whole call.
  const size_t at = norm.size();
  for (char c : raw) {
    if (c == ' ')
      norm.append(kSpaceMark);
    else
      norm.push_back(c);
  }
  const std::string_view seg = std::string_view(norm).substr(at);
  // Added tokens marked "normalized" are matched in the normalized text.
  norm_matcher_->split(
      seg,
      [&](std::string_view s) {
        if (out.size() < limit) encode_normalized(s, out, cache, limit);
      },
      [&](int32_t id) { out.push_back(id); });
}

void GemmaTokenizer::encode_normalized(std::string_view s, std::vector<int32_t>& out, WordCache& cache,
                                       size_t limit) const {
  auto emit_word = [&](std::string_view w) {
    if (w.size() > 256) {  // long words are rare: no point caching them
      bpe_word(w, out);
      return;
    }
    auto it = cache.map.find(w);
    if (it != cache.map.end()) {
      const auto span = it->second;
      for (uint32_t k = 0; k < span.size; ++k) {
        const int32_t id = out[span.begin + k];
        out.push_back(id);
      }
      return;
    }
    const size_t begin = out.size();
    bpe_word(w, out);
    cache.map.emplace(w, WordCache::Span{uint32_t(begin), uint32_t(out.size() - begin)});
  };
  if (!word_split_) {
    bpe_word(s, out);
    return;
  }
  // Cut before each "▁" whose previous character is not "▁" and not glue.
  size_t start = 0;
  size_t pos = s.find(kSpaceMark, 1);
  while (pos != std::string_view::npos) {
    size_t c = pos - 1;
    while (c > start && (uint8_t(s[c]) & 0xC0) == 0x80) --c;
    const std::string_view prev = s.substr(c, pos - c);
    bool cut = prev != kSpaceMark;
    for (const std::string& g : glue_before_space_)
      if (prev == g) cut = false;
    if (cut && pos > start) {
      emit_word(s.substr(start, pos - start));
      start = pos;
      if (out.size() >= limit) return;  // each word's ids depend on that word only
    }
    pos = s.find(kSpaceMark, pos + 3);
  }
  if (start < s.size()) emit_word(s.substr(start));
}

void GemmaTokenizer::bpe_word(std::string_view w, std::vector<int32_t>& out) const {
  // 1. One symbol per character; unknown characters become byte tokens
  //    (byte_fallback) or one <unk> (consecutive <unk>s fused).
  thread_local std::vector<Symbol> sym;
  sym.clear();
  bool last_unk = false;
  for (size_t i = 0; i < w.size();) {
    const size_t n = char_len_at(w, i);
    const int32_t id = char_id(w.substr(i, n));
    if (id >= 0) {
      sym.push_back({id, 0, 0, uint32_t(n)});
      last_unk = false;
    } else {
      bool bytes_ok = data_.byte_fallback;
      for (size_t k = 0; k < n && bytes_ok; ++k) bytes_ok = byte_id_[uint8_t(w[i + k])] >= 0;
      if (bytes_ok) {
        for (size_t k = 0; k < n; ++k) sym.push_back({byte_id_[uint8_t(w[i + k])], 0, 0, 1});
        last_unk = false;
      } else {
        QAT_CHECK(data_.ids.unk >= 0, data_.source, ": character at byte ", i,
                  " is not in the vocabulary and there is no <unk> token");
        if (last_unk && data_.fuse_unk)
          sym.back().len += uint32_t(n);
        else
          sym.push_back({data_.ids.unk, 0, 0, uint32_t(n)});
        last_unk = true;
      }
    }
    i += n;
  }
  const int32_t count = int32_t(sym.size());
  for (int32_t i = 0; i < count; ++i) {
    sym[size_t(i)].prev = i - 1;
    sym[size_t(i)].next = i + 1 < count ? i + 1 : -1;
  }

  // 2. Merge the lowest-rank adjacent pair, leftmost first, until none is
  //    left. Stale heap entries (a side already merged) are skipped: a pair
  //    whose merged id still matches is unchanged, because a changed pair
  //    would spell a longer text and so a different piece.
  thread_local std::vector<Candidate> heap;
  heap.clear();
  auto push = [&](int32_t left) {
    const int32_t right = sym[size_t(left)].next;
    if (right < 0) return;
    if (const PairTable::Value* m = pairs_.find(sym[size_t(left)].id, sym[size_t(right)].id)) {
      heap.push_back({m->rank, left, m->id});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (int32_t i = 0; i + 1 < count; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = sym[size_t(top.pos)];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = sym[size_t(left.next)];
    const PairTable::Value* m = pairs_.find(left.id, right.id);
    if (!m || m->id != top.id) continue;
    left.id = top.id;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) sym[size_t(left.next)].prev = top.pos;
    if (left.prev >= 0) push(left.prev);
    push(top.pos);
  }
  for (int32_t i = 0; i >= 0 && i < count; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
}

}  // namespace qat::tok
