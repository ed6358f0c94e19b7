// `qat eval compare`: one table of several models (PTQ / QAT variants of one
// model, labelled e.g. ptq-w4a8, qat-w4a8) against their FP32 base: scheme,
// size, perplexity, mean KLD and top-1 agreement with the base on a text,
// task accuracy on a classification set, and for every qat-X with a ptq-X how
// much of PTQ's degradation QAT recovered:
//   recovered = (gap(ptq-X) - gap(qat-X)) / gap(ptq-X)
//   gap = PPL(model) - PPL(base)   (perplexity)
//   gap = acc(base) - acc(model)   (accuracy)
// undefined (absent) when PTQ did not degrade (gap <= 0).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace qat {

struct CompareRow {
  std::string label, path;
  bool is_base = false;
  std::string scheme;   // "W4A8", "W4A16", "W4/W8A8", or the float type of an unquantized model
  std::string weights;  // "Q4_0, embd Q8_0": matrix types (share of parameters when mixed), embedding
  uint64_t file_bytes = 0;
  // Text (perplexity windows): the model's perplexity and, against the base,
  // mean KLD (nats) and the fraction of tokens whose top-1 token agrees.
  std::optional<double> ppl, ppl_error, kld, kld_error, same_top, same_top_error;
  // Classification: accuracy over `examples` examples.
  std::optional<double> accuracy;
  int64_t examples = 0;
  // qat-X rows with a ptq-X row (compute_recovered).
  std::optional<double> recovered_ppl, recovered_accuracy;
};

// "W4A8" etc. and the weight-type summary of a loaded model.
std::string scheme_of(const Model& m);
std::string weight_types_of(const Model& m);

// Checks a model label: 1..64 characters of [A-Za-z0-9._+-]; qat::Error otherwise.
void check_compare_label(const std::string& label);

// Fills recovered_* of every "qat-X" row that has a "ptq-X" row; the base
// row is the one with is_base.
void compute_recovered(std::vector<CompareRow>& rows);

// The table (markdown) and the same as JSON. The text / accuracy / recovered
// columns appear when some row has them.
std::string compare_markdown(const std::vector<CompareRow>& rows);
nlohmann::json compare_json(const std::vector<CompareRow>& rows);

}  // namespace qat
