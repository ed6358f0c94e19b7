// Results of `qat bench` and their two renderings: a markdown table like
// llama-bench's and a JSON array with every sample.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qat::cli {

struct BenchResult {
  std::string model_path;
  std::string model_label;   // "g3-270m-q8.gguf (gemma3 Q8_0)"
  std::string type;          // general.file_type's name ("Q4_K - Medium"), else the type holding most bytes
  uint64_t size_bytes = 0;   // all weights
  uint64_t params = 0;
  uint64_t weight_bytes_per_token = 0;
  uint64_t peak_rss_bytes = 0;  // process high-water mark after this test
  double mem_read_gbps = 0;     // measured read bandwidth for these threads (tg; 0 = not measured)
  double mem_read_median_gbps = 0;  // the median pass of the same probe (mem_read_gbps is the best)
  int threads = 0;
  int n_prompt = 0, n_gen = 0;  // one of them is 0
  std::vector<double> samples_ts;  // tokens/s of each timed repetition

  std::string test() const;  // "pp64" / "tg128"
  double avg_ts() const;
  double stddev_ts() const;
  // Weights streamed per second during decode (tg tests; 0 for pp).
  double gbps() const;
  // gbps() / mem_read_gbps: the fraction of the bandwidth bound (0 if unknown).
  double bound_fraction() const;
};

std::string bench_markdown(const std::vector<BenchResult>& results);
std::string bench_json(const std::vector<BenchResult>& results);

}  // namespace qat::cli
