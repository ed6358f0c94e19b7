// The memory read bandwidth this machine gives `threads` threads now: the
// bound decode speed is measured against (bytes of weights per token divided
// by this). Streams a 512 MiB buffer (far beyond the last-level cache, in
// huge pages like the weights) with vectorized loads, `reps` passes.
#pragma once

namespace qat::cli {

struct ReadBandwidth {
  double best_gbps = 0;    // the fastest pass: the bound "of bound" uses
  double median_gbps = 0;  // what the machine sustained over the passes (it moves with load)
};

ReadBandwidth measure_read_bandwidth(int threads, int reps = 5);

}  // namespace qat::cli
