// Small helpers shared by the GGUF and safetensors loaders (not a public API).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qat::fmt_detail {

// Returns the byte index of the first invalid UTF-8 sequence, or npos when the
// whole string is valid. Rejects overlong forms, surrogates and code points
// above U+10FFFF, as RFC 3629 requires.
inline size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (n - i < len) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

inline bool valid_utf8(std::string_view s) { return find_invalid_utf8(s) == std::string_view::npos; }

// A name or key from an untrusted file, made safe to print inside quotes in an
// error message: control bytes and invalid UTF-8 are escaped, long strings cut.
inline std::string printable(std::string_view s, size_t max_chars = 80) {
  const bool utf8 = valid_utf8(s);
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (out.size() >= max_chars && (c & 0xC0) != 0x80) {  // never cut a UTF-8 sequence
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && !utf8)) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out;
}

inline uint64_t align_up(uint64_t x, uint64_t alignment) {
  // Callers guarantee alignment is a power of two and x is at most the file size.
  return (x + alignment - 1) & ~(alignment - 1);
}

}  // namespace qat::fmt_detail
