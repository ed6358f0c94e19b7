// What a scoring model reads, stored in its GGUF (ModelConfig::score_input,
// key "qat.score.input") so that `qat score` turns one JSON record into
// exactly the text the model was trained on:
//   {"kind": "fraud"}                      a transaction with its history (fraud_features.h)
//   {"kind": "table", "features": {...}}   a tabular record (table_features.h)
//   {"kind": "text", "field": "text"}      a message: the string under `field`
// plus "positive": the class name a score is the probability of,
// "max_tokens": a record's tokens are cut to the length trained on, and for
// text "max_bytes": a message is cut to the bytes training kept of each one
// (before tokenizing, as training did).
#pragma once
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>

#include "finance/table_features.h"

namespace qat {

struct InputSpec {
  enum class Kind { Fraud, Table, Text };
  Kind kind = Kind::Text;
  std::string field = "text";  // Text
  TableFeatures table;         // Table
  std::string positive;        // class name of the score
  int max_tokens = 0;          // tokens the model was trained on per record (<bos> included; 0: no limit)
  int64_t max_bytes = 0;       // Text: bytes of a message kept before tokenizing (0: all)

  // The model's text for one record; qat::Error says what is wrong with it.
  std::string render(const nlohmann::json& record) const;

  std::string to_string() const;                            // JSON text
  static InputSpec parse(const std::string& json_text);     // qat::Error when malformed
};

}  // namespace qat
