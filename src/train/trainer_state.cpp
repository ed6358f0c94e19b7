// trainer.json: TrainerState as JSON. Floats go through JSON as the doubles
// they convert to exactly, which print and parse back to the same bits; JSON
// has no NaN or infinity, so losses that are not finite are stored as the
// strings "nan", "inf" and "-inf".
#include <cmath>
#include <limits>

#include "base/error.h"
#include "train/checkpoint_state.h"

namespace qat {

namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "qat.trainer_state";
constexpr int kVersion = 1;

json loss_to_json(float x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

float loss_from_json(const json& j, const std::string& where, size_t i) {
  if (j.is_number()) return j.get<float>();
  if (j == "nan") return std::numeric_limits<float>::quiet_NaN();
  if (j == "inf") return std::numeric_limits<float>::infinity();
  if (j == "-inf") return -std::numeric_limits<float>::infinity();
  fail(where, ": loss_history[", i, "] must be a number, \"nan\", \"inf\" or \"-inf\"");
}

const json& field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) fail(where, ": missing field '", key, "'");
  return *it;
}

}  // namespace

json trainer_state_to_json(const TrainerState& s) {
  json losses = json::array();
  for (float x : s.loss_history) losses.push_back(loss_to_json(x));
  return {{"format", kFormat},       {"version", kVersion},
          {"step", s.step},          {"rng_state", s.rng_state},
          {"data_cursor", s.data_cursor}, {"options", s.options},
          {"loss_history", losses}};
}

TrainerState trainer_state_from_json(const json& j, const std::string& where) {
  QAT_CHECK(j.is_object(), where, ": expected a JSON object");
  const json& format = field(j, "format", where);
  QAT_CHECK(format == kFormat, where, ": format is ", format.dump(), ", expected \"", kFormat,
            "\"");
  const json& version = field(j, "version", where);
  QAT_CHECK(version == kVersion, where, ": version ", version.dump(),
            " is not one this build reads (", kVersion, ")");
  TrainerState s;
  const json& step = field(j, "step", where);
  QAT_CHECK(step.is_number_integer() && step.get<int64_t>() >= 0, where,
            ": field 'step' must be an integer >= 0, found ", step.dump());
  s.step = step.get<int64_t>();
  const json& rng = field(j, "rng_state", where);
  QAT_CHECK(rng.is_string(), where, ": field 'rng_state' must be a string");
  s.rng_state = rng.get<std::string>();
  s.data_cursor = field(j, "data_cursor", where);
  s.options = field(j, "options", where);
  if (auto it = j.find("loss_history"); it != j.end()) {
    QAT_CHECK(it->is_array(), where, ": field 'loss_history' must be an array");
    for (size_t i = 0; i < it->size(); ++i) s.loss_history.push_back(loss_from_json((*it)[i], where, i));
  }
  return s;
}

}  // namespace qat
