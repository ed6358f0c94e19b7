// Where a sampler stands: epoch number and position inside that epoch's
// shuffled order. Saved in checkpoints so a resumed run draws exactly the
// batches an uninterrupted run would have drawn.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

namespace qat {

struct DataCursor {
  uint64_t epoch = 0;  // epochs completed
  uint64_t index = 0;  // items of this epoch's order already drawn (< items per epoch)

  bool operator==(const DataCursor&) const = default;
};

// {"epoch": 3, "index": 17}. from_json throws qat::Error on a missing or
// non-integer field.
nlohmann::json data_cursor_to_json(const DataCursor& c);
DataCursor data_cursor_from_json(const nlohmann::json& j);

}  // namespace qat
