// A text template over a row's fields: "Amount {amount} at {merchant}"
// replaces {name} by the row's field `name`; "{{" and "}}" are literal braces.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace qat {

struct TextTemplate {
  struct Part {
    std::string text;  // literal text, or the field name when is_field
    bool is_field = false;
  };
  std::vector<Part> parts;

  // Throws qat::Error for "{" without "}", a lone "}", and "{}".
  static TextTemplate parse(const std::string& pattern);
  // The template "{name}" (the text is one whole field), whatever the name holds.
  static TextTemplate field(const std::string& name);

  std::vector<std::string> fields() const;  // field names, in order of first use, no repeats
  // value(name) gives a field's text; it is called only for names in fields().
  std::string render(const std::function<const std::string&(const std::string&)>& value) const;
};

}  // namespace qat
