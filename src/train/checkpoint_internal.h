// The optimizer.safetensors part of a checkpoint (checkpoint_state.h): written
// whole, read in two phases so a bad file changes nothing.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "train/adamw.h"
#include "train/parameters.h"

namespace qat::checkpoint_detail {

void write_optimizer_file(const std::string& path, const ParameterList& params,
                          const AdamW& optimizer);

// A checked optimizer file, ready to copy into the model and the optimizer.
struct OptimizerFile {
  std::unique_ptr<SafetensorsFile> file;
  int64_t step_count = 0;
  struct Entry {
    const StTensor* value = nullptr;  // checked: F32, the parameter's shape
    const StTensor* m = nullptr;      // null: the parameter has no optimizer state
    const StTensor* v = nullptr;
    int64_t step = 0;
  };
  std::vector<Entry> entries;  // one per parameter, in list order
};

// Throws qat::Error naming the file and the problem; changes nothing.
OptimizerFile read_optimizer_file(const std::string& path, const ParameterList& params,
                                  const AdamW& optimizer);
void apply_optimizer_file(const OptimizerFile& f, ParameterList& params, AdamW& optimizer);

}  // namespace qat::checkpoint_detail
