// One function per subcommand: registers its flags on the app and the action
// to run when it is chosen.
#pragma once
#include <cstdint>
#include <string>
#include <CLI/CLI.hpp>

namespace qat::cli {

void add_info(CLI::App& app);
void add_init(CLI::App& app);
void add_convert(CLI::App& app);
void add_quantize(CLI::App& app);
void add_run(CLI::App& app);
void add_chat(CLI::App& app);
void add_demo(CLI::App& app);
void add_score(CLI::App& app);  // cmd_score.cpp
void add_bench(CLI::App& app);
void add_eval(CLI::App& app);
void add_eval_compare(CLI::App& eval);  // `qat eval compare` (cmd_eval_compare.cpp)

// Bytes on disk of a file, or of all files in a checkpoint directory (cmd_quantize.cpp).
uint64_t disk_bytes(const std::string& path);
void add_train(CLI::App& app);
void add_qat(CLI::App& app);  // cmd_train.cpp
void add_tokenizer(CLI::App& app);

// Applies --threads (0 = all cores) to OpenMP.
void set_threads(int threads);

}  // namespace qat::cli
