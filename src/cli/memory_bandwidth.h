// The memory read bandwidth this machine gives `threads` threads now: the
// bound decode speed is measured against (bytes of weights per token divided
// by this). Streams a 512 MiB buffer (far beyond the last-level cache, in
// huge pages like the weights) with vectorized loads; reports the best of
// `reps` passes in GB/s.
#pragma once

namespace qat::cli {

double measure_read_bandwidth_gbps(int threads, int reps = 5);

}  // namespace qat::cli
