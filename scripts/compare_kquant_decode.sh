#!/usr/bin/env bash
# Decode speed of llama.cpp's K-quants at the AVX2 level (the code the
# AVX-512 level ran before kernels_compat_decode_avx512.cpp) against the
# AVX-512 level, one thread:
#   1. bench_compat_matmul, Q4_K / Q5_K / Q6_K on 32768 x 2560, n = 1 and 2,
#      both levels' repetitions randomly interleaved in one process (medians);
#   2. if a model file is given: `qat bench` tg32 at each level and, with
#      LLAMA_BENCH set, llama-bench, taking turns for ROUNDS rounds.
# Usage: scripts/compare_kquant_decode.sh [MODEL.gguf]   (ROUNDS=3, REPS=12, LLAMA_BENCH=path)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${REPS:-12}" ROUNDS="${ROUNDS:-3}"
build/bench/bench_compat_matmul \
  --benchmark_filter='type:(12|13|14)/rows:32768/cols:2560/n:[12]/thr:1/level:[12]/' \
  --benchmark_min_time=0.2 --benchmark_repetitions="$REPS" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E '_median' | sort
[ $# -ge 1 ] || exit 0
for r in $(seq "$ROUNDS"); do
  echo "round $r avx2:   $(QAT_CPU_LEVEL=avx2 build/qat bench -m "$1" -t 1 -p 1 -n 32 -r 3 --no-bandwidth 2>&1 | grep tg32)"
  echo "round $r avx512: $(QAT_CPU_LEVEL=avx512 build/qat bench -m "$1" -t 1 -p 1 -n 32 -r 3 --no-bandwidth 2>&1 | grep tg32)"
  if [ -n "${LLAMA_BENCH:-}" ]; then
    echo "round $r llama:  $("$LLAMA_BENCH" -m "$1" -t 1 -p 0 -n 32 -r 3 2>&1 | grep tg32)"
  fi
done
