#include "train/text_template.h"

#include <algorithm>

#include "base/error.h"

namespace qat {

TextTemplate TextTemplate::parse(const std::string& pattern) {
  TextTemplate t;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.parts.push_back({std::move(literal), false});
    literal.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      literal += c;  // "{{" or "}}"
      ++i;
    } else if (c == '{') {
      const size_t close = pattern.find('}', i + 1);
      QAT_CHECK(close != std::string::npos, "text template \"", pattern, "\": '{' at position ", i,
                " has no closing '}' (write {{ for a literal brace)");
      const std::string name = pattern.substr(i + 1, close - i - 1);
      QAT_CHECK(!name.empty(), "text template \"", pattern, "\": empty field name {} at position ", i);
      QAT_CHECK(name.find('{') == std::string::npos, "text template \"", pattern,
                "\": '{' inside the field name at position ", i);
      flush();
      t.parts.push_back({name, true});
      i = close;
    } else if (c == '}') {
      fail("text template \"", pattern, "\": '}' at position ", i, " closes nothing (write }} for a literal brace)");
    } else {
      literal += c;
    }
  }
  flush();
  return t;
}

TextTemplate TextTemplate::field(const std::string& name) {
  TextTemplate t;
  t.parts.push_back({name, true});
  return t;
}

std::vector<std::string> TextTemplate::fields() const {
  std::vector<std::string> names;
  for (const auto& p : parts)
    if (p.is_field && std::find(names.begin(), names.end(), p.text) == names.end()) names.push_back(p.text);
  return names;
}

std::string TextTemplate::render(const std::function<const std::string&(const std::string&)>& value) const {
  std::string out;
  for (const auto& p : parts) out += p.is_field ? value(p.text) : p.text;
  return out;
}

}  // namespace qat
