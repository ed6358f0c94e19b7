// A progress line on stderr with rate and ETA for work that takes more than a
// second: "convert  [#####.....]  52% 130/250 tensors  1.2 s, ETA 1.1 s".
// Silent for the first half second so quick jobs print nothing.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace qat {

class Progress {
 public:
  Progress(std::string label, uint64_t total, std::string unit = "");
  ~Progress();
  void add(uint64_t n = 1);
  void set(uint64_t done);
  void finish();
  // Global switch (e.g. --quiet, or tests).
  static void set_enabled(bool on);

 private:
  void draw(bool final_line);
  std::string label_, unit_;
  uint64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false, finished_ = false;
};

}  // namespace qat
