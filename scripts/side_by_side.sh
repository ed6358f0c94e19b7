#!/usr/bin/env bash
# Our `qat bench` beside llama.cpp's `llama-bench` on the same GGUF files, same
# flags, the two tools taking turns file by file for ROUNDS rounds; then one
# line per file, test and thread count: each round's t/s of both tools and the
# ratio of their sums (qat / llama.cpp). llama.cpp is not part of this project:
# point LLAMA_BENCH at a llama-bench you built.
#   LLAMA_BENCH=/path/to/llama-bench scripts/side_by_side.sh [-t 1,2] [-p 64,512] [-n 32] [-r 3] FILE.gguf...
# Environment: ROUNDS (2), QAT (build/qat).
set -euo pipefail
cd "$(dirname "$0")/.."
QAT="${QAT:-build/qat}" ROUNDS="${ROUNDS:-2}"
: "${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary}"
threads=1,2 prompt=64 gen=32 reps=3
while getopts "t:p:n:r:" o; do
  case "$o" in
    t) threads="$OPTARG" ;; p) prompt="$OPTARG" ;; n) gen="$OPTARG" ;; r) reps="$OPTARG" ;;
    *) echo "usage: LLAMA_BENCH=... $0 [-t 1,2] [-p 64,512] [-n 32] [-r 3] FILE.gguf..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "$0: no GGUF files given" >&2; exit 2; }
for f in "$@"; do [ -f "$f" ] || { echo "$0: $f: no such file" >&2; exit 1; }; done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$ROUNDS"); do
  for f in "$@"; do
    echo "round $round/$ROUNDS: $f" >&2
    # Markdown rows: qat | model | size | params | threads | test | t/s ± sd | ...
    "$QAT" bench -m "$f" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" --no-bandwidth 2>/dev/null |
      awk -F'|' -v f="$f" '$6 ~ /(pp|tg)[0-9]/ { gsub(/ /, "", $5); gsub(/ /, "", $6); split($7, v, "±"); print "qat", f, $5, $6, v[1] + 0 }' >> "$log"
    # llama-bench rows: | model | size | params | backend | threads | test | t/s |
    "$LLAMA_BENCH" -m "$f" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" 2>/dev/null |
      awk -F'|' -v f="$f" '$7 ~ /(pp|tg)[0-9]/ { gsub(/ /, "", $6); gsub(/ /, "", $7); split($8, v, "±"); print "llama", f, $6, $7, v[1] + 0 }' >> "$log"
  done
done
echo "| file | test | threads | qat t/s (per round) | llama.cpp t/s (per round) | ratio |"
echo "|---|---|---|---|---|---|"
awk '{ key = $2 " " $4 " " $3; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
       runs[$1, key] = runs[$1, key] (runs[$1, key] == "" ? "" : " / ") $5; sum[$1, key] += $5 }
     END { for (i = 1; i <= n; ++i) { k = order[i]; split(k, p, " ")
             ratio = sum["llama", k] > 0 ? sprintf("%.2f", sum["qat", k] / sum["llama", k]) : "-"
             printf "| %s | %s | %s | %s | %s | %s |\n", p[1], p[2], p[3], runs["qat", k], runs["llama", k], ratio } }' "$log"
