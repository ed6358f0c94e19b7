// Training checkpoints that lose nothing: resuming from one continues the run
// bit for bit (parameters, AdamW moments and steps, trainer state).
//
// <out>/checkpoint-00001000/      one directory per save (step, 8+ digits)
//     model.gguf                  written by the caller (deployable, maybe lossy)
//     optimizer.safetensors       F32 "param.<name>" (exact values), "adam_m.<name>",
//                                 "adam_v.<name>" (only for parameters that have
//                                 optimizer state); metadata: steps, config
//     trainer.json                TrainerState
// <out>/latest                    text: the name of the newest complete directory
//
// A save builds everything in "<name>.tmp-<pid>/", fsyncs each file and the
// directory, renames it into place, fsyncs <out>, and only then rewrites
// "latest" atomically. A crash at any point leaves "latest" naming a complete
// checkpoint (the previous one or the new one); leftover *.tmp-* entries are
// removed by the next save. One trainer writes to an <out> at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/parameters.h"

namespace qat {

// What the trainer needs besides parameters and optimizer to resume exactly.
struct TrainerState {
  int64_t step = 0;                                      // optimizer steps completed
  std::string rng_state;                                 // the trainer's RNG, serialised by it
  nlohmann::json data_cursor = nlohmann::json::object();  // where the data loader resumes
  nlohmann::json options = nlohmann::json::object();      // the run's options, as given
  std::vector<float> loss_history;                       // optional; NaN/inf kept as strings
};

nlohmann::json trainer_state_to_json(const TrainerState& state);
// where: the file it came from, for error messages.
TrainerState trainer_state_from_json(const nlohmann::json& j, const std::string& where);

struct CheckpointOptions {
  int keep_last = 2;  // checkpoints kept, the new one included; 0 keeps all
};

std::string checkpoint_dir_name(int64_t step);  // "checkpoint-00001000"

// Saves <out_dir>/checkpoint-<state.step>/ (replacing one of that name
// atomically), points <out_dir>/latest at it, then deletes the oldest
// checkpoints beyond keep_last (only those with a smaller step: a higher step
// left by an abandoned run is not this run's to delete). Returns its path.
// write_model must create the file at the path it is given.
std::string save_checkpoint(const std::string& out_dir, const ParameterList& params,
                            const AdamW& optimizer, const TrainerState& state,
                            const std::function<void(const std::string& path)>& write_model,
                            const CheckpointOptions& options = {});

// The directory "latest" names; without "latest" (a first save interrupted
// before writing it), the complete checkpoint with the highest step; nullopt
// when there is none. Throws if "latest" names something that is not there.
std::optional<std::string> find_latest_checkpoint(const std::string& out_dir);

// Restores parameter values, AdamW state and trainer state from a checkpoint
// directory. Everything is checked before anything is changed: every
// parameter must be in the file with its shape and F32, nothing else may be.
void load_checkpoint(const std::string& dir, ParameterList& params, AdamW& optimizer,
                     TrainerState& state);

}  // namespace qat
