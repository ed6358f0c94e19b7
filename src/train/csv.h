// RFC 4180 CSV: records of comma-separated fields; a field in double quotes
// may hold commas, line breaks and "" (one literal quote). Records end with
// CRLF or LF. Also tolerated: a UTF-8 byte-order mark, a missing final line
// break, and a quote inside an unquoted field (kept literally, as Python's
// csv module does). Lines that are completely empty are skipped.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qat {

struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line = 0;   // 1-based line where the record starts (records may span lines)
  std::string error;  // non-empty: why this record is malformed (without file:line; the parser
                      // resumed at the next line)
};

// Parses the whole text. `path` only names the file in errors. A quoted
// field still open at the end of the file throws qat::Error
// ("path:line: quoted field never closed"), since everything after it is
// swallowed; a character after a closing quote only marks that record bad.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& path);

}  // namespace qat
