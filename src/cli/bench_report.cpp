#include "cli/bench_report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "eval/stats.h"

namespace qat::cli {

std::string BenchResult::test() const {
  return n_prompt > 0 ? "pp" + std::to_string(n_prompt) : "tg" + std::to_string(n_gen);
}
double BenchResult::avg_ts() const { return mean(samples_ts); }
double BenchResult::stddev_ts() const { return stddev(samples_ts); }
double BenchResult::gbps() const {
  return n_gen > 0 ? avg_ts() * double(weight_bytes_per_token) / 1e9 : 0;
}

double BenchResult::bound_fraction() const { return mem_read_gbps > 0 ? gbps() / mem_read_gbps : 0; }

namespace {

std::string fmt(const char* f, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

std::string size_str(uint64_t b) {
  return b >= (uint64_t(1) << 30) ? fmt("%.2f GiB", double(b) / double(1 << 30))
                                  : fmt("%.2f MiB", double(b) / double(1 << 20));
}

std::string params_str(uint64_t n) {
  return n >= 1000000000 ? fmt("%.2f B", double(n) / 1e9) : fmt("%.2f M", double(n) / 1e6);
}

// Characters as a terminal shows them: UTF-8 continuation bytes do not count
// ("±" is two bytes, one column).
int display_width(const std::string& s) {
  int n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// One table row, cells padded to the column widths.
std::string row(const std::vector<std::string>& cells, const std::vector<int>& widths,
                const std::vector<bool>& right) {
  std::string s = "|";
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string pad(size_t(std::max(0, widths[i] - display_width(cells[i]))), ' ');
    s += " " + (right[i] ? pad + cells[i] : cells[i] + pad) + " |";
  }
  return s + "\n";
}

}  // namespace

std::string bench_markdown(const std::vector<BenchResult>& results) {
  const std::vector<std::string> head = {"model", "size", "params", "threads", "test", "t/s", "GB/s", "of bound"};
  const std::vector<bool> right = {false, true, true, true, true, true, true, true};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results)
    rows.push_back({r.model_label, size_str(r.size_bytes), params_str(r.params),
                    std::to_string(r.threads), r.test(), fmt("%.2f ± %.2f", r.avg_ts(), r.stddev_ts()),
                    r.n_gen > 0 ? fmt("%.2f", r.gbps()) : "",
                    r.bound_fraction() > 0 ? fmt("%.0f %%", 100 * r.bound_fraction()) : ""});
  std::vector<int> w(head.size());
  for (size_t i = 0; i < head.size(); ++i) {
    w[i] = display_width(head[i]);
    for (const auto& r : rows) w[i] = std::max(w[i], display_width(r[i]));
  }
  std::string out = row(head, w, right);
  out += "|";
  for (size_t i = 0; i < w.size(); ++i) out += std::string(size_t(w[i]) + 1, '-') + (right[i] ? ":|" : "-|");
  out += "\n";
  for (const auto& r : rows) out += row(r, w, right);
  // The memory figures are per model, not per test: one line each below.
  out += "\n";
  for (const auto& r : results)
    if (r.mem_read_gbps > 0 && r.n_gen > 0 && &r == &*std::find_if(results.begin(), results.end(), [&](const BenchResult& x) {
          return x.threads == r.threads && x.mem_read_gbps > 0;
        }))
      out += "memory read bandwidth, " + std::to_string(r.threads) + " thread(s): " +
             fmt("%.1f GB/s", r.mem_read_gbps) + " (best of 5 passes over 512 MiB, median " +
             fmt("%.1f", r.mem_read_median_gbps) + "; \"of bound\" = GB/s / the best)\n";
  std::string last;
  for (const auto& r : results) {
    if (r.model_path == last) continue;
    last = r.model_path;
    uint64_t rss = 0;
    for (const auto& x : results)
      if (x.model_path == r.model_path) rss = std::max(rss, x.peak_rss_bytes);
    out += r.model_label + ": weights read per decoded token " +
           fmt("%.1f MB", double(r.weight_bytes_per_token) / 1e6) + ", peak RSS " + size_str(rss) +
           " (process high-water mark)\n";
  }
  return out;
}

std::string bench_json(const std::vector<BenchResult>& results) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();  // keys in llama-bench's order
  for (const auto& r : results) {
    a.push_back({{"model_filename", r.model_path},
                 {"model_type", r.type},
                 {"model_size", r.size_bytes},
                 {"model_n_params", r.params},
                 {"n_threads", r.threads},
                 {"test", r.test()},
                 {"n_prompt", r.n_prompt},
                 {"n_gen", r.n_gen},
                 {"avg_ts", r.avg_ts()},
                 {"stddev_ts", r.stddev_ts()},
                 {"samples_ts", r.samples_ts},
                 {"peak_rss_bytes", r.peak_rss_bytes},
                 {"weight_bytes_per_token", r.weight_bytes_per_token},
                 {"weight_gbps", r.gbps()},
                 {"mem_read_gbps", r.mem_read_gbps},
                 {"mem_read_median_gbps", r.mem_read_median_gbps},
                 {"bound_fraction", r.bound_fraction()}});
  }
  return a.dump(2) + "\n";
}

}  // namespace qat::cli
