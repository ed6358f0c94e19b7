// Sequence-classification examples (text -> class) from a CSV or JSONL file.
//
// Each row gives a text and a label:
//  - text: one column/key (text_field) or a template over the row's fields,
//    "Amount {amount} at {merchant} ({category})" (text_template.h);
//  - label: the column/key label_field. Class ids: with an explicit `classes`
//    list, a label's position in it (a label not in the list is a bad row);
//    otherwise derived from the distinct labels: integers 0..K-1 (all of
//    them present) are their own ids; other integer sets are numbered in
//    numeric order; anything else in byte order of the strings. Pass the
//    training set's classes when loading its validation/test files so they
//    share the mapping.
// CSV (csv.h) needs a header row; fields are found by header name. JSONL is
// one JSON object a line (blank lines ignored); numbers and bools become
// their JSON text ("3", "12.5", "true"), null becomes "".
//
// A malformed row (wrong field count, invalid JSON, not an object, missing
// field, empty label, label outside the explicit classes) throws
// qat::Error "file:line: problem"; with skip_bad_rows it is skipped and
// counted in stats (with the first few reasons).
//
// Tokens: encode(text, add_bos = true), truncated to the first max_seq
// tokens: <bos> and the head of the text. Cutting the token sequence (not the
// text) means the last kept token is exactly the token the full text has at
// that position, so a last-token-pooling model reads a real text token.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/table_rows.h"

namespace qat {

class Tokenizer;

struct ClassifyOptions {
  TableFormat format = TableFormat::Auto;  // (table_rows.h) Auto: from the file's extension
  std::string text_field;  // exactly one of text_field and text_template
  std::string text_template;
  std::string label_field;
  std::vector<std::string> classes;  // explicit class names (id = index); empty: derive from the labels
  int max_seq = 512;                 // tokens per example, <bos> included (>= 2)
  bool skip_bad_rows = false;
  bool progress = true;  // progress line while tokenizing
};

struct ClassifyExample {
  std::vector<int32_t> ids;  // (length) <bos> + text tokens, at most max_seq
  int32_t label = 0;         // index into ClassifyDataset::classes
  int64_t line = 0;          // 1-based line where the row starts in the file

  int32_t length() const { return int32_t(ids.size()); }
};

struct ClassifyStats {
  int64_t rows = 0;                       // data rows read (header and blank lines not counted)
  int64_t skipped = 0;                    // bad rows skipped (skip_bad_rows)
  int64_t truncated = 0;                  // examples cut to max_seq
  int64_t longest = 0;                    // longest example in tokens, before truncation
  std::vector<std::string> skip_reasons;  // the first few "file:line: problem"
};

struct ClassifyDataset {
  std::string source;                // the file it was read from
  std::vector<std::string> classes;  // class id -> name
  std::vector<ClassifyExample> examples;
  ClassifyStats stats;

  std::vector<int64_t> class_counts() const;  // (classes.size()) examples per class
};

ClassifyDataset load_classify_dataset(const std::string& path, const Tokenizer& tok, const ClassifyOptions& options);

// Deterministic train/validation split of one loaded file: round(val_fraction
// * n) examples (at least 1 and at most n-1 when val_fraction > 0), chosen by
// a shuffle with Rng(seed); both parts keep file order and the same classes,
// source and stats (the stats describe the file).
struct ClassifySplit {
  ClassifyDataset train, val;
};
ClassifySplit split_classify_dataset(const ClassifyDataset& all, double val_fraction, uint64_t seed);

}  // namespace qat
