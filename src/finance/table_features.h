// Tabular records (a loan application) as feature symbols for a classifier:
// numeric columns become their quantile bin on the training rows
// ("<income:q3>", "<income:na>" when missing), categorical columns their
// value ("<purpose=car>", "<purpose=other>" for a value not seen in
// training). One symbol per column, in column order, each one token of the
// symbol vocabulary (Tokenizer::with_symbols) — and one-hot features for
// the logistic-regression baseline.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qat {

// Rows of strings under named columns (from CSV or ARFF); "" or "?" is missing.
struct Table {
  std::string source;  // file, for messages
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // (rows, columns)

  int column(const std::string& name) const;  // index, or -1
};

// A column name or value as a symbol writes it: '<' -> "lt", '>' -> "gt",
// spaces and quotes -> '_', at most 48 bytes. TableColumnSpec::name is the
// column's name so written; render_row and InputSpec::render find a column
// by either form.
std::string table_symbol_text(const std::string& s);

// How render reads a cell: missing ("", "?", "NA", "na"), or, for a numeric
// column, a finite number (spaces and a leading '+' allowed); any other text
// in a numeric column renders as missing too.
bool table_value_is_missing(const std::string& v);
bool table_value_is_number(const std::string& v);

struct TableColumnSpec {
  std::string name;
  bool numeric = false;
  std::vector<double> edges;            // numeric: ascending bin edges (bin = edges below the value)
  std::vector<std::string> categories;  // categorical: values seen in training (sanitized)
};

struct TableFeatures {
  std::vector<TableColumnSpec> columns;

  // A column is numeric when every non-missing training value parses as a
  // number and it has more than max_categories distinct values; its edges
  // are the quantiles 1/bins .. (bins-1)/bins (duplicates dropped).
  static TableFeatures fit(const Table& train, const std::vector<std::string>& feature_columns, int bins = 8,
                           int max_categories = 12);

  // value(name) gives a column's raw text, or null when the record lacks it
  // (treated as missing).
  std::string render(const std::function<const std::string*(const std::string&)>& value) const;
  std::string render_row(const Table& t, size_t row) const;  // columns found by name in t
  std::vector<std::string> vocabulary() const;                 // every symbol render can write

  nlohmann::json to_json() const;
  static TableFeatures from_json(const nlohmann::json& j);  // qat::Error when malformed
};

}  // namespace qat
