#include "train/csv.h"

#include "base/error.h"

namespace qat {

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& path) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> records;
  size_t i = 0;
  int64_t line = 1;
  const size_t n = text.size();
  auto at_record_end = [&](size_t p) {
    return p >= n || text[p] == '\n' || (text[p] == '\r' && p + 1 < n && text[p + 1] == '\n');
  };
  auto skip_record_end = [&] {  // at a line break or the end: step over it
    if (i < n && text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') ++i;
    ++line;
  };

  while (i < n) {
    if (at_record_end(i)) {  // an empty line: no record
      skip_record_end();
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    for (;;) {  // one field per iteration
      std::string field;
      if (text[i] == '"') {
        const int64_t opened = line;
        ++i;
        for (;;) {
          if (i >= n) fail(path, ":", opened, ": quoted field never closed (a \" without its closing \")");
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        if (i < n && text[i] != ',' && !at_record_end(i)) {
          rec.error = cat("unexpected character '", text[i],
                          "' after a closing quote (a quote inside a quoted field must be doubled: \"\")");
          while (i < n && text[i] != '\n') ++i;  // resume at the next line
        }
      } else {
        while (i < n && text[i] != ',' && !at_record_end(i)) field += text[i++];
      }
      rec.fields.push_back(std::move(field));
      if (!rec.error.empty() || at_record_end(i)) break;
      ++i;  // the comma; a comma at the end of a line is followed by one empty field
      if (at_record_end(i)) {
        rec.fields.emplace_back();
        break;
      }
    }
    records.push_back(std::move(rec));
    if (i < n) skip_record_end();
  }
  return records;
}

}  // namespace qat
