#include "train/table_rows.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "base/atomic_file.h"
#include "base/error.h"
#include "train/csv.h"

namespace qat {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::vector<TextLabelRow> read_csv_rows(const std::string& path, const std::string& text_bytes,
                                        const TextTemplate& text, const std::string& label_field, const BadRow& bad) {
  const std::vector<CsvRecord> records = parse_csv(text_bytes, path);
  QAT_CHECK(!records.empty(), path, ": no header row (the file is empty); a CSV needs a header naming its columns");
  const CsvRecord& header = records[0];
  QAT_CHECK(header.error.empty(), path, ":", header.line, ": bad header row: ", header.error);

  // Column of every name the rows need; a name present twice is ambiguous.
  std::unordered_map<std::string, size_t> column;
  auto find_column = [&](const std::string& name, const char* role) {
    size_t found = SIZE_MAX;
    for (size_t c = 0; c < header.fields.size(); ++c)
      if (header.fields[c] == name) {
        QAT_CHECK(found == SIZE_MAX, path, ":", header.line, ": column \"", name, "\" appears twice in the header");
        found = c;
      }
    QAT_CHECK(found != SIZE_MAX, path, ": ", role, " \"", name, "\" is not a column; columns: ", joined(header.fields));
    column[name] = found;
  };
  for (const auto& name : text.fields()) find_column(name, "text template field");
  find_column(label_field, "label column");
  const size_t label_col = column[label_field];

  std::vector<TextLabelRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    if (!rec.error.empty()) {
      bad(rec.line, rec.error);
      continue;
    }
    if (rec.fields.size() != header.fields.size()) {
      bad(rec.line, cat(rec.fields.size(), " fields, the header has ", header.fields.size()));
      continue;
    }
    if (rec.fields[label_col].empty()) {
      bad(rec.line, cat("empty label in column \"", label_field, "\""));
      continue;
    }
    rows.push_back({rec.line, text.render([&](const std::string& name) -> const std::string& {
                      return rec.fields[column.at(name)];
                    }),
                    rec.fields[label_col]});
  }
  return rows;
}

// JSON scalars as text: strings as they are, numbers and bools as JSON
// writes them, null as "", arrays/objects as compact JSON.
std::string json_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::vector<TextLabelRow> read_jsonl_rows(const std::string& bytes, const TextTemplate& text,
                                          const std::string& label_field, const BadRow& bad) {
  std::vector<std::string> needed = text.fields();
  std::vector<TextLabelRow> rows;
  int64_t line = 0;
  size_t pos = bytes.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string_view s(bytes.data() + pos, end - pos);
    pos = end + 1;
    ++line;
    if (std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) continue;

    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(s);
    } catch (const nlohmann::json::exception& e) {
      std::string why = e.what();  // "[json.exception.parse_error.101] parse error at ..."
      if (auto p = why.find("] "); p != std::string::npos) why = why.substr(p + 2);
      bad(line, "invalid JSON: " + why);
      continue;
    }
    if (!obj.is_object()) {
      bad(line, cat("expected a JSON object, got ", obj.type_name()));
      continue;
    }
    auto keys = [&] {
      std::vector<std::string> k;
      for (auto it = obj.begin(); it != obj.end(); ++it) k.push_back(it.key());
      return joined(k);
    };
    std::string missing;
    for (const auto& name : needed)
      if (!obj.contains(name)) {
        missing = name;
        break;
      }
    if (!missing.empty()) {
      bad(line, cat("no field \"", missing, "\" (used by the text template); this object has: ", keys()));
      continue;
    }
    if (!obj.contains(label_field)) {
      bad(line, cat("no label field \"", label_field, "\"; this object has: ", keys()));
      continue;
    }
    std::string label = json_text(obj[label_field]);
    if (label.empty()) {
      bad(line, cat("empty label in field \"", label_field, "\""));
      continue;
    }
    std::unordered_map<std::string, std::string> values;
    for (const auto& name : needed) values[name] = json_text(obj[name]);
    rows.push_back({line, text.render([&](const std::string& name) -> const std::string& { return values.at(name); }),
                    std::move(label)});
  }
  return rows;
}

}  // namespace

TableFormat table_format_for(const std::string& path, TableFormat requested) {
  if (requested != TableFormat::Auto) return requested;
  std::string lower = path;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  auto ends_with = [&](const std::string& ext) {
    return lower.size() >= ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends_with(".csv")) return TableFormat::Csv;
  if (ends_with(".jsonl") || ends_with(".json-lines") || ends_with(".ndjson")) return TableFormat::Jsonl;
  fail(path,
       ": cannot tell the table format from the file name; expected .csv, .jsonl or .json-lines "
       "(or say the format explicitly)");
}

std::vector<TextLabelRow> read_text_label_rows(const std::string& path, TableFormat format, const TextTemplate& text,
                                               const std::string& label_field, const BadRow& bad) {
  QAT_CHECK(!label_field.empty(), path, ": no label field given");
  format = table_format_for(path, format);
  const std::string bytes = read_text_file(path);
  return format == TableFormat::Csv ? read_csv_rows(path, bytes, text, label_field, bad)
                                    : read_jsonl_rows(bytes, text, label_field, bad);
}

}  // namespace qat
