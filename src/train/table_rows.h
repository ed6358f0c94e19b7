// Reads (text, label) pairs from the rows of a CSV or JSONL file, for
// classify_dataset. Bad rows go to a callback that throws or records them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/text_template.h"

namespace qat {

enum class TableFormat { Auto, Csv, Jsonl };  // Auto: .csv -> Csv; .jsonl .json-lines .ndjson -> Jsonl

// The format Auto stands for at this path; throws when the extension says nothing.
TableFormat table_format_for(const std::string& path, TableFormat requested);

struct TextLabelRow {
  int64_t line = 0;  // 1-based line where the row starts
  std::string text, label;
};

// bad(line, why) is called for each malformed row (which is then left out);
// it may throw. Whole-file problems throw qat::Error naming the file: cannot
// read it, no header, a template field or the label that is not a column
// (listing the columns), a column name the header has twice, an unclosed
// quote.
using BadRow = std::function<void(int64_t line, const std::string& why)>;
std::vector<TextLabelRow> read_text_label_rows(const std::string& path, TableFormat format, const TextTemplate& text,
                                               const std::string& label_field, const BadRow& bad);

}  // namespace qat
