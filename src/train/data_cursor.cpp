#include "train/data_cursor.h"

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace qat {

nlohmann::json data_cursor_to_json(const DataCursor& c) {
  return nlohmann::json{{"epoch", c.epoch}, {"index", c.index}};
}

DataCursor data_cursor_from_json(const nlohmann::json& j) {
  QAT_CHECK(j.is_object(), "data cursor: expected a JSON object {\"epoch\": N, \"index\": N}, got ", j.dump());
  DataCursor c;
  for (auto [key, field] : {std::pair{"epoch", &c.epoch}, std::pair{"index", &c.index}}) {
    auto it = j.find(key);
    QAT_CHECK(it != j.end() && it->is_number_unsigned(), "data cursor: field \"", key,
              "\" must be a non-negative integer, in ", j.dump());
    *field = it->get<uint64_t>();
  }
  return c;
}

}  // namespace qat
