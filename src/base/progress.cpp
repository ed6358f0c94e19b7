#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

namespace qat {

namespace {
bool g_enabled = true;
double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

void Progress::set_enabled(bool on) { g_enabled = on; }

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::add(uint64_t n) { set(done_ + n); }

void Progress::set(uint64_t done) {
  done_ = done;
  if (!g_enabled) return;
  auto now = std::chrono::steady_clock::now();
  const bool tty = ::isatty(2);
  // On a terminal redraw 10x a second; in a log, a line every 5 seconds.
  const double every = tty ? 0.1 : 5.0;
  if (seconds(now - start_) < 0.5 || seconds(now - last_draw_) < every) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (g_enabled && drawn_) draw(true);
}

void Progress::draw(bool final_line) {
  drawn_ = true;
  const double elapsed = seconds(std::chrono::steady_clock::now() - start_);
  const double frac = total_ ? double(done_) / double(total_) : 0.0;
  char bar[21];
  int filled = int(frac * 20 + 0.5);
  for (int i = 0; i < 20; ++i) bar[i] = i < filled ? '#' : '.';
  bar[20] = 0;
  char eta[32] = "";
  if (!final_line && done_ > 0 && frac < 1.0)
    std::snprintf(eta, sizeof eta, ", ETA %.1f s", elapsed / frac - elapsed);
  std::fprintf(stderr, "%s%-10s [%s] %3d%% %llu/%llu %s  %.1f s%s%s", ::isatty(2) ? "\r" : "",
               label_.c_str(), bar, int(frac * 100), (unsigned long long)done_,
               (unsigned long long)total_, unit_.c_str(), elapsed, eta,
               (final_line || !::isatty(2)) ? "\n" : "   ");
  std::fflush(stderr);
}

}  // namespace qat
