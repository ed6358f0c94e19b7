#include "tokenizer/json_scan.h"

#include <cstring>

#include "base/error.h"

namespace qat::tok {

namespace {
constexpr int kMaxDepth = 256;  // nesting cap: raw_value() recursion stays bounded

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}
}  // namespace

void JsonScanner::fail(const std::string& what) const {
  throw Error(cat(path_, ": invalid JSON at byte ", pos_, ": ", what));
}

void JsonScanner::skip_ws() {
  while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t'))
    ++pos_;
}

char JsonScanner::peek() {
  skip_ws();
  return pos_ < s_.size() ? s_[pos_] : '\0';
}

bool JsonScanner::at_end() {
  skip_ws();
  return pos_ >= s_.size();
}

void JsonScanner::expect(char c, const char* context) {
  skip_ws();
  if (pos_ >= s_.size() || s_[pos_] != c)
    fail(cat("expected '", c, "' in ", context,
             pos_ >= s_.size() ? std::string(", found the end of the file")
                               : cat(", found '", s_[pos_], "'")));
  ++pos_;
}

bool JsonScanner::consume(char c) {
  skip_ws();
  if (pos_ < s_.size() && s_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

uint32_t JsonScanner::hex4(const char* context) {
  if (pos_ + 4 > s_.size()) fail(cat("truncated \\u escape in ", context));
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) {
    const char c = s_[pos_++];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
    else fail(cat("bad \\u escape in ", context));
  }
  return v;
}

std::string_view JsonScanner::string(std::string& scratch, const char* context) {
  expect('"', context);
  const size_t start = pos_;
  // Fast path: no escapes before the closing quote.
  while (pos_ < s_.size()) {
    const char c = s_[pos_];
    if (c == '"') return s_.substr(start, pos_++ - start);
    if (c == '\\') break;
    if (uint8_t(c) < 0x20) fail(cat("control character inside a string in ", context));
    ++pos_;
  }
  scratch.assign(s_.substr(start, pos_ - start));
  while (true) {
    if (pos_ >= s_.size()) fail(cat("unterminated string in ", context));
    const char c = s_[pos_++];
    if (c == '"') return scratch;
    if (uint8_t(c) < 0x20) fail(cat("control character inside a string in ", context));
    if (c != '\\') {
      scratch.push_back(c);
      continue;
    }
    if (pos_ >= s_.size()) fail(cat("unterminated string in ", context));
    const char e = s_[pos_++];
    switch (e) {
      case '"': scratch.push_back('"'); break;
      case '\\': scratch.push_back('\\'); break;
      case '/': scratch.push_back('/'); break;
      case 'b': scratch.push_back('\b'); break;
      case 'f': scratch.push_back('\f'); break;
      case 'n': scratch.push_back('\n'); break;
      case 'r': scratch.push_back('\r'); break;
      case 't': scratch.push_back('\t'); break;
      case 'u': {
        uint32_t cp = hex4(context);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate must be followed by a low one.
          if (pos_ + 2 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
            pos_ += 2;
            const uint32_t lo = hex4(context);
            if (lo < 0xDC00 || lo > 0xDFFF) fail(cat("unpaired surrogate in ", context));
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            fail(cat("unpaired surrogate in ", context));
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail(cat("unpaired surrogate in ", context));
        }
        append_utf8(scratch, cp);
        break;
      }
      default: fail(cat("bad escape '\\", e, "' in ", context));
    }
  }
}

int64_t JsonScanner::integer(const char* context) {
  skip_ws();
  const size_t start = pos_;
  bool neg = false;
  if (pos_ < s_.size() && s_[pos_] == '-') {
    neg = true;
    ++pos_;
  }
  int64_t v = 0;
  size_t digits = 0;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
    if (++digits > 15) fail(cat("integer too large in ", context));
    v = v * 10 + (s_[pos_++] - '0');
  }
  if (digits == 0 || (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))) {
    pos_ = start;
    fail(cat("expected an integer in ", context));
  }
  return neg ? -v : v;
}

std::string_view JsonScanner::raw_value(const char* context) {
  const char c = peek();
  const size_t start = pos_;
  std::string scratch;
  if (c == '"') {
    string(scratch, context);
  } else if (c == '{' || c == '[') {
    if (++depth_ > kMaxDepth) fail(cat("nesting deeper than ", kMaxDepth, " in ", context));
    const char close = c == '{' ? '}' : ']';
    ++pos_;
    if (!consume(close)) {
      do {
        if (c == '{') {
          string(scratch, context);
          expect(':', context);
        }
        raw_value(context);
      } while (consume(','));
      expect(close, context);
    }
    --depth_;
  } else {
    // true / false / null / number: up to the next delimiter.
    while (pos_ < s_.size() && !std::strchr(",]} \n\r\t", s_[pos_])) ++pos_;
    if (pos_ == start) fail(cat("expected a value in ", context));
  }
  return s_.substr(start, pos_ - start);
}

}  // namespace qat::tok
