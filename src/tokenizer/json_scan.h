// A small pull parser for the big parts of tokenizer.json (262k-entry vocab,
// 515k merges): a DOM parse with nlohmann::json takes ~0.8 s and ~1 GB on
// that file; scanning in place takes a fraction of that. Small sections are
// handed to nlohmann as raw text (raw_value()).
//
// Every error names the file, the byte offset and what was expected.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace qat::tok {

class JsonScanner {
 public:
  JsonScanner(std::string_view text, std::string path) : s_(text), path_(std::move(path)) {}

  // Skips whitespace, then requires / tests for one character.
  void expect(char c, const char* context);
  bool consume(char c);
  char peek();  // next non-whitespace character, 0 at the end
  // A string value. The view points into the text when it has no escapes,
  // else into `scratch`.
  std::string_view string(std::string& scratch, const char* context);
  int64_t integer(const char* context);
  // Skips one value of any type and returns its raw text.
  std::string_view raw_value(const char* context);
  bool at_end();
  size_t offset() const { return pos_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void skip_ws();
  uint32_t hex4(const char* context);
  std::string_view s_;
  std::string path_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace qat::tok
