#include "finance/arff.h"

#include <fstream>
#include <sstream>

#include "base/error.h"

namespace qat {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Splits on commas outside quotes; strips the quotes and surrounding spaces.
std::vector<std::string> split_values(const std::string& line, const std::string& where) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\' && i + 1 < line.size()) cur += line[++i];
      else if (c == quote) quote = 0;
      else cur += c;
    } else if (c == '\'' || c == '"') {
      if (!quoted && trim(cur).empty()) cur.clear();  // the spaces after a comma, before the quote
      quote = c;
      quoted = true;
    } else if (c == ',') {
      out.push_back(quoted ? cur : trim(cur));
      cur.clear();
      quoted = false;
    } else if (!(quoted && std::isspace(static_cast<unsigned char>(c)))) {
      cur += c;
    }
  }
  QAT_CHECK(!quote, where, ": quote never closed");
  out.push_back(quoted ? cur : trim(cur));
  return out;
}

}  // namespace

Table read_arff(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QAT_CHECK(in, path, ": cannot open");
  Table t;
  t.source = path;
  std::string line;
  bool data = false;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string s = trim(line);
    if (s.empty() || s[0] == '%') continue;
    const std::string where = path + ":" + std::to_string(n);
    if (!data) {
      const std::string head = lower(s.substr(0, s.find_first_of(" \t")));
      if (head == "@relation") continue;
      if (head == "@data") {
        QAT_CHECK(!t.columns.empty(), where, ": @data before any @attribute");
        data = true;
        continue;
      }
      QAT_CHECK(head == "@attribute", where, ": expected @relation, @attribute or @data, got '", s.substr(0, 40), "'");
      std::string rest = trim(s.substr(head.size()));
      std::string name;
      if (!rest.empty() && (rest[0] == '\'' || rest[0] == '"')) {
        const size_t close = rest.find(rest[0], 1);
        QAT_CHECK(close != std::string::npos, where, ": attribute name quote never closed");
        name = rest.substr(1, close - 1);
      } else {
        name = rest.substr(0, rest.find_first_of(" \t"));
      }
      QAT_CHECK(!name.empty(), where, ": @attribute without a name");
      QAT_CHECK(t.column(name) < 0, where, ": attribute '", name, "' declared twice");
      t.columns.push_back(name);
      continue;
    }
    QAT_CHECK(s[0] != '{', where, ": sparse ARFF rows are not supported");
    std::vector<std::string> v = split_values(s, where);
    QAT_CHECK(v.size() == t.columns.size(), where, ": ", v.size(), " values for ", t.columns.size(), " attributes");
    t.rows.push_back(std::move(v));
  }
  QAT_CHECK(data, path, ": no @data section (not an ARFF file?)");
  QAT_CHECK(!t.rows.empty(), path, ": no data rows");
  return t;
}

}  // namespace qat
