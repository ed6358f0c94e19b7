#!/usr/bin/env bash
# Trains the project's small language model from scratch (issue 4's "a small
# model that has learned something", the QAT test bed):
#   1. a 4096-piece Gemma-style SentencePiece tokenizer on the text,
#   2. a gemma3 "small" model (5.6 M parameters) for STEPS steps of 16 x 128
#      tokens, validating every 100 steps against the unigram baseline.
# Usage: scripts/train_small_lm.sh [TEXT_FILE] [OUT_DIR] [STEPS]
# TEXT_FILE defaults to ../shared/data/text/sotu.txt (State of the Union
# addresses; in a fresh clone pass any large English text file).
set -euo pipefail
cd "$(dirname "$0")/.."
TEXT="${1:-../shared/data/text/sotu.txt}"
OUT="${2:-runs/small-lm}"
STEPS="${3:-700}"
[ -f "$TEXT" ] || { echo "error: $TEXT: no such text file (pass one as the first argument)" >&2; exit 1; }
[ -x build/qat ] || ./scripts/build.sh
mkdir -p "$OUT"
[ -f "$OUT/tokenizer.model" ] || build/qat tokenizer train "$TEXT" --vocab 4096 -o "$OUT/tokenizer.model"
RESUME=""
[ -f "$OUT/run/latest" ] && RESUME="--resume"
SECONDS=0
build/qat train --arch gemma3 --preset small --tokenizer "$OUT/tokenizer.model" \
  --data "$TEXT" --steps "$STEPS" --batch 16 --seq 128 --lr 3e-3 --warmup 50 \
  --eval-every 100 --eval-batches 40 --save-every 100 --out "$OUT/run" $RESUME 2> >(tee "$OUT/train.err" >&2)
echo "wall time: ${SECONDS} s (tokenizer already trained: not included)"
echo "loss curve (step, train loss, validation loss):"
awk -F, 'NR > 1 && $7 != "" { printf "  %5d  %.4f  %.4f\n", $1, $2, $7 }' "$OUT/run/train_log.csv"
