// Runs the qat binary in a shell and captures exit status, stdout, stderr.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace qat::test {

struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal (a crash)
  int signal = 0;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// env ("NAME=value ", may be empty) goes before the binary; args are appended
// to the binary path verbatim (quote them yourself).
inline CommandResult run_qat_env(const std::string& env, const std::string& args,
                                 const std::string& stdin_text = "") {
  static int counter = 0;
  const std::string base = std::filesystem::temp_directory_path().string() + "/qat_cli_" +
                           std::to_string(::getpid()) + "_" + std::to_string(counter++);
  std::string cmd = env + std::string(QAT_BINARY) + " " + args + " > " + base + ".out 2> " + base + ".err";
  if (!stdin_text.empty()) {
    std::ofstream(base + ".in") << stdin_text;
    cmd += " < " + base + ".in";
  } else {
    cmd += " < /dev/null";
  }
  const int status = std::system(cmd.c_str());
  CommandResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code > 128) r.signal = r.exit_code - 128, r.exit_code = -1;  // shell-reported signal
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  std::filesystem::remove(base + ".in");
  return r;
}

inline CommandResult run_qat(const std::string& args, const std::string& stdin_text = "") {
  return run_qat_env("", args, stdin_text);
}

}  // namespace qat::test
