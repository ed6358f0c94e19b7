// Checkpoint directories: the crash-safe save protocol, "latest", retention
// and load. The file formats are in checkpoint_optimizer.cpp (optimizer
// state) and trainer_state.cpp (trainer.json).
#include "train/checkpoint_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/error.h"
#include "train/checkpoint_internal.h"

namespace qat {

namespace {

namespace fs = std::filesystem;

constexpr const char* kPrefix = "checkpoint-";
constexpr const char* kLatest = "latest";
constexpr const char* kModelFile = "model.gguf";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kTrainerFile = "trainer.json";

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The step of a complete checkpoint's directory name, or -1 for any other name.
int64_t checkpoint_step(const std::string& name) {
  const std::string prefix = kPrefix;
  if (name.rfind(prefix, 0) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() < 8 || digits.size() > 18 || !all_digits(digits)) return -1;
  return std::stoll(digits);
}

// "<anything>.tmp-<pid>": what an interrupted save leaves behind.
bool is_temporary(const std::string& name) {
  const size_t at = name.rfind(".tmp-");
  return at != std::string::npos && all_digits(name.substr(at + 5)) &&
         (name.rfind(kPrefix, 0) == 0 || name.rfind(kLatest, 0) == 0);
}

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) fail(path.string(), ": cannot open to fsync: ", std::strerror(errno));
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path.string(), ": fsync failed: ", std::strerror(err));
  }
  ::close(fd);
}

void remove_tree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) fail(path.string(), ": cannot remove: ", ec.message());
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const fs::path& out) {
  std::vector<std::pair<int64_t, std::string>> found;
  for (const fs::directory_entry& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    const int64_t step = checkpoint_step(name);
    if (step >= 0 && e.is_directory()) found.emplace_back(step, name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

void remove_stale_temporaries(const fs::path& out) {
  for (const fs::directory_entry& e : fs::directory_iterator(out))
    if (is_temporary(e.path().filename().string())) remove_tree(e.path());
}

// Moves the finished temporary directory to its final name. An existing
// directory of that name is swapped out atomically (renameat2 EXCHANGE), so
// the name always holds a complete checkpoint; the old one then sits under
// the temporary name and is deleted.
void publish(const fs::path& tmp, const fs::path& final_dir) {
  if (!fs::exists(final_dir)) {
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0)
      fail(final_dir.string(), ": cannot rename from ", tmp.string(), ": ", std::strerror(errno));
    return;
  }
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0)
    fail(final_dir.string(), ": exists and cannot be replaced atomically: ", std::strerror(errno));
  remove_tree(tmp);
}

// Deletes the oldest checkpoints below new_step so keep_last remain. Each is
// first renamed to a temporary name, so a crash mid-delete leaves something
// the next save removes, never a partial directory with a checkpoint's name.
void prune(const fs::path& out, int64_t new_step, int keep_last) {
  if (keep_last <= 0) return;
  std::vector<std::pair<int64_t, std::string>> older;
  for (const auto& c : list_checkpoints(out))
    if (c.first < new_step) older.push_back(c);
  const size_t keep_older = size_t(keep_last - 1);
  if (older.size() <= keep_older) return;
  for (size_t i = 0; i < older.size() - keep_older; ++i) {
    const fs::path from = out / older[i].second;
    const fs::path doomed = out / cat(older[i].second, ".tmp-", ::getpid());
    if (::rename(from.c_str(), doomed.c_str()) != 0)
      fail(from.string(), ": cannot rename for deletion: ", std::strerror(errno));
    remove_tree(doomed);
  }
}

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
}

}  // namespace

std::string checkpoint_dir_name(int64_t step) {
  QAT_CHECK(step >= 0, "checkpoint step must be >= 0, got ", step);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%08lld", kPrefix, static_cast<long long>(step));
  return buf;
}

std::string save_checkpoint(const std::string& out_dir, const ParameterList& params,
                            const AdamW& optimizer, const TrainerState& state,
                            const std::function<void(const std::string& path)>& write_model,
                            const CheckpointOptions& options) {
  QAT_CHECK(options.keep_last >= 0, "checkpoint: keep_last must be >= 0, got ", options.keep_last);
  const fs::path out(out_dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) fail(out_dir, ": cannot create the checkpoint directory: ", ec.message());
  remove_stale_temporaries(out);

  const std::string name = checkpoint_dir_name(state.step);
  const fs::path final_dir = out / name;
  const fs::path tmp = out / cat(name, ".tmp-", ::getpid());
  if (!fs::create_directory(tmp, ec) || ec)
    fail(tmp.string(), ": cannot create: ", ec ? ec.message() : "it already exists");
  try {
    const fs::path model = tmp / kModelFile;
    write_model(model.string());
    QAT_CHECK(fs::is_regular_file(model), model.string(),
              ": the model writer returned without creating the file");
    checkpoint_detail::write_optimizer_file((tmp / kOptimizerFile).string(), params, optimizer);
    write_file_atomic((tmp / kTrainerFile).string(), trainer_state_to_json(state).dump(1) + "\n");
    // The writers above rename their own temporaries; fsync every file (the
    // model writer is not ours) and the directory that names them.
    for (const char* file : {kModelFile, kOptimizerFile, kTrainerFile}) fsync_path(tmp / file, false);
    fsync_path(tmp, true);
    publish(tmp, final_dir);
    fsync_path(out, true);
    write_file_atomic((out / kLatest).string(), name + "\n");
    fsync_path(out, true);
  } catch (...) {
    fs::remove_all(tmp, ec);  // best effort: the next save removes it anyway
    throw;
  }
  prune(out, state.step, options.keep_last);
  return final_dir.string();
}

std::optional<std::string> find_latest_checkpoint(const std::string& out_dir) {
  const fs::path out(out_dir);
  if (!fs::is_directory(out)) return std::nullopt;
  const fs::path latest = out / kLatest;
  if (!fs::exists(latest)) {
    const auto all = list_checkpoints(out);
    if (all.empty()) return std::nullopt;
    return (out / all.back().second).string();
  }
  std::string name = read_text_file(latest.string());
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  QAT_CHECK(checkpoint_step(name) >= 0, latest.string(), ": expected a checkpoint directory name (",
            kPrefix, "<step>), found '", name.substr(0, 100), "'");
  const fs::path dir = out / name;
  QAT_CHECK(fs::is_directory(dir), latest.string(), ": names ", name,
            ", which does not exist in ", out_dir);
  return dir.string();
}

void load_checkpoint(const std::string& dir, ParameterList& params, AdamW& optimizer,
                     TrainerState& state) {
  const fs::path d(dir);
  QAT_CHECK(fs::is_directory(d), dir, ": no such checkpoint directory");
  for (const char* file : {kModelFile, kOptimizerFile, kTrainerFile})
    QAT_CHECK(fs::is_regular_file(d / file), (d / file).string(),
              ": missing (not a complete checkpoint)");
  const std::string trainer_path = (d / kTrainerFile).string();
  TrainerState loaded = trainer_state_from_json(read_json_file(trainer_path), trainer_path);
  const checkpoint_detail::OptimizerFile opt =
      checkpoint_detail::read_optimizer_file((d / kOptimizerFile).string(), params, optimizer);
  // Everything checked: now change the model, the optimizer and the state.
  checkpoint_detail::apply_optimizer_file(opt, params, optimizer);
  state = std::move(loaded);
}

}  // namespace qat
