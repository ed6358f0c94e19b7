#!/usr/bin/env bash
# A/B of bench_quant_matmul binaries on a shared, noisy machine: the binaries
# take turns, ROUNDS times, and each (benchmark, binary) gets the median and
# the best of its MAC/s figures.
#   bench/ab_quant_matmul.sh ROUNDS FILTER OLD_BINARY NEW_BINARY...
# e.g. bench/ab_quant_matmul.sh 9 'n:(48|64)/thr:1/level:2/a16:0' /tmp/bqm-old build/bench/bench_quant_matmul
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ROUNDS FILTER BINARY..." >&2; exit 2; }
rounds=$1 filter=$2
shift 2
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
for _ in $(seq "$rounds"); do
  for b in "$@"; do
    "$b" --benchmark_filter="$filter" --benchmark_min_time=0.2 2>/dev/null | grep 'MAC/s' | sed "s|^|$b |"
  done
done > "$raw"
python3 - "$raw" <<'PY'
import collections, re, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    binary, name = line.split()[:2]
    runs[(name.replace('BM_QuantMatmul/', ''), binary)].append(float(re.search(r'MAC/s=([0-9.]+)G', line).group(1)))
for (name, binary), v in sorted(runs.items()):
    print(f'{name:60s} {binary:40s} median {statistics.median(v):7.1f} G/s  best {max(v):7.1f}  runs {len(v)}')
PY
