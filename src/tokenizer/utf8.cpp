// Utf8Stream: generated tokens may end inside a character (byte-fallback
// tokens carry one byte each); hold the partial sequence back until it
// completes, and turn bytes that can never complete into U+FFFD at once.
#include <cstdint>

#include "tokenizer/tokenizer.h"

namespace qat {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";

// Expected length of a sequence from its lead byte, 0 if it cannot lead.
size_t seq_len(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;  // continuation byte, overlong lead (C0/C1) or > U+10FFFF (F5..FF)
}

// Whether `b` may follow at position k of a sequence led by `lead` (excludes
// overlongs, surrogates and > U+10FFFF, as a strict decoder does).
bool valid_next(uint8_t lead, size_t k, uint8_t b) {
  if ((b & 0xC0) != 0x80) return false;
  if (k != 1) return true;
  if (lead == 0xE0) return b >= 0xA0;
  if (lead == 0xED) return b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90;
  if (lead == 0xF4) return b <= 0x8F;
  return true;
}

// Moves every complete character (or U+FFFD for a broken one) from `in` to
// `out`; with `final`, an incomplete tail is broken too. Returns the number
// of bytes consumed.
size_t drain(const std::string& in, std::string& out, bool final) {
  size_t i = 0;
  while (i < in.size()) {
    const uint8_t lead = uint8_t(in[i]);
    const size_t n = seq_len(lead);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    while (k < n && i + k < in.size() && valid_next(lead, k, uint8_t(in[i + k]))) ++k;
    if (k == n) {
      out.append(in, i, n);
      i += n;
    } else if (i + k == in.size() && !final) {
      break;  // may still complete: wait for more bytes
    } else {
      out += kReplacement;  // the maximal valid prefix becomes one U+FFFD
      i += k;
    }
  }
  return i;
}

}  // namespace

std::string Utf8Stream::push(const std::string& bytes) {
  pending_ += bytes;
  std::string out;
  pending_.erase(0, drain(pending_, out, false));
  return out;
}

std::string Utf8Stream::flush() {
  std::string out;
  drain(pending_, out, true);
  pending_.clear();
  return out;
}

}  // namespace qat
