// Ids -> text, as HF's decoder Sequence[Replace("▁", " "), ByteFallback, Fuse]:
// every token has "▁" replaced by a space; runs of byte tokens are joined and,
// if the run is valid UTF-8, kept, otherwise each byte becomes U+FFFD (one per
// byte, exactly as tokenizers' ByteFallback does); then all is concatenated.
#include "base/error.h"
#include "tokenizer/gemma_tokenizer.h"

namespace qat::tok {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

// Strict UTF-8 validation (as Rust's String::from_utf8): no overlongs, no
// surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = uint8_t(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const uint8_t cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return false;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

namespace {

void flush_bytes(std::string& bytes, std::string& out) {
  if (bytes.empty()) return;
  if (valid_utf8(bytes)) {
    out += bytes;
  } else {
    for (size_t i = 0; i < bytes.size(); ++i) out += kReplacement;
  }
  bytes.clear();
}

void append_unescaped(std::string_view piece, std::string& out) {
  size_t i = 0;
  while (true) {
    const size_t j = piece.find(kSpaceMark, i);
    if (j == std::string_view::npos) break;
    out.append(piece.substr(i, j - i));
    out.push_back(' ');
    i = j + kSpaceMark.size();
  }
  out.append(piece.substr(i));
}

}  // namespace

std::string GemmaTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out, bytes;
  const int32_t n = vocab_size();
  for (int32_t id : ids) {
    if (id < 0 || id >= n) continue;  // HF drops ids it does not know
    if (skip_special && data_.special[size_t(id)]) continue;
    uint8_t b;
    if (data_.kinds[size_t(id)] == Kind::Byte && is_byte_piece(piece(id), &b)) {
      bytes.push_back(char(b));
      continue;
    }
    flush_bytes(bytes, out);
    append_unescaped(piece(id), out);
  }
  flush_bytes(bytes, out);
  return out;
}

std::string GemmaTokenizer::token_bytes(int32_t id) const {
  QAT_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " is outside the vocabulary (",
            vocab_size(), " tokens)");
  uint8_t b;
  if (data_.kinds[size_t(id)] == Kind::Byte && is_byte_piece(piece(id), &b)) return std::string(1, char(b));
  std::string out;
  append_unescaped(piece(id), out);
  return out;
}

}  // namespace qat::tok
