#!/usr/bin/env bash
# Quality of llama.cpp-written quantized files, scored by both engines on the
# same windows: our `qat eval kld` against llama.cpp's
# `llama-perplexity --kl-divergence`, each file against the same FP32 base.
# Agreement of the two columns says our reading of the file's types (and our
# kernels) computes what llama.cpp computes.
#
# Usage: LLAMA_PERPLEXITY=/path/to/llama-perplexity \
#          scripts/compare_llamacpp_quality.sh BASE.gguf TEXT QUANT.gguf...
# Env: CTX (256), CHUNKS (40), THREADS (1), WORK (a temporary folder).
# Prints one markdown row per file: mean KLD, same top token, PPL, qat / llama.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: $0 BASE.gguf TEXT QUANT.gguf..." >&2; exit 2; }
BASE="$1" TEXT="$2"
shift 2
LP="${LLAMA_PERPLEXITY:?set LLAMA_PERPLEXITY to the llama-perplexity binary of llama.cpp}"
CTX="${CTX:-256}" CHUNKS="${CHUNKS:-40}" THREADS="${THREADS:-1}"
for f in "$BASE" "$TEXT" "$@"; do [ -f "$f" ] || { echo "error: $f: no such file" >&2; exit 1; }; done
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
QAT=build/qat
[ -x "$QAT" ] || ./scripts/build.sh

# llama-perplexity writes the base logits once; every file is scored against them.
"$LP" -m "$BASE" -f "$TEXT" -c "$CTX" --chunks "$CHUNKS" -t "$THREADS" \
  --kl-divergence-base "$WORK/base.kld" > "$WORK/base.llama.txt" 2>&1

field() {  # field FILE PATTERN: the first number after PATTERN
  grep -m1 -E "$2" "$1" | sed -E "s/.*$2[^0-9-]*([-0-9.e+]+).*/\1/"
}

echo "| file | tensor types | mean KLD qat / llama.cpp | same top token qat / llama.cpp | PPL qat / llama.cpp |"
echo "|---|---|---|---|---|"
n=0
for q in "$@"; do
  n=$((n + 1))
  echo "[$n/$#] $q" >&2
  ours="$WORK/$n.qat.txt" theirs="$WORK/$n.llama.txt"
  "$QAT" eval kld -m "$q" --base "$BASE" --text "$TEXT" --ctx "$CTX" --chunks "$CHUNKS" -t "$THREADS" > "$ours" 2>&1
  "$LP" -m "$q" -f "$TEXT" -c "$CTX" --chunks "$CHUNKS" -t "$THREADS" \
    --kl-divergence-base "$WORK/base.kld" --kl-divergence > "$theirs" 2>&1
  types=$("$QAT" info "$q" | sed -nE 's/^  ([A-Z0-9_]+) +tensors:.*/\1/p' | paste -sd, -)
  printf '| %s | %s | %s / %s | %s / %s %% | %s / %s |\n' "$(basename "$q")" "$types" \
    "$(field "$ours" 'Mean +KLD:')" "$(field "$theirs" 'Mean +KLD:')" \
    "$(field "$ours" 'Same top p *:')" "$(field "$theirs" 'Same top p *:')" \
    "$(field "$ours" 'PPL\(model\) *:')" "$(field "$theirs" 'Mean +PPL\(Q\) *:')"
done
echo "(work files in $WORK)" >&2
