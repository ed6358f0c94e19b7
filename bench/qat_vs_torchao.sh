#!/usr/bin/env bash
# QAT quality side by side: how much of the W4A8 quantization loss `qat qat` wins back, and
# how much torchao's QAT wins back, on the same model, data and number of steps.
#
#   gap       = perplexity(model) - perplexity(FP32), on held-out text
#   recovered = (PTQ gap - QAT gap) / PTQ gap      (1 = QAT is as good as FP32, 0 = no better than PTQ)
#
# The model is an FP32 GGUF (default: runs/small-lm/run/model.gguf, the 5.6 M-parameter gemma3
# that scripts/train_small_lm.sh trains on the State of the Union text with its own 4096-piece
# tokenizer). Held-out text VAL = the last 4 % of the characters of --text, written to the work
# dir; both trainers train on the first 95 % of the text's tokens only (VAL lies in the held-out
# 5 %; the torchao side checks the token counts).
#
# Ours (W4A8: Q4_0 weights, tied embedding/output Q8_0, activations dynamically quantized to
# Q8_0 blocks of 32 at inference, like the kernels do):
#   PTQ  qat quantize FP32.gguf ptq.gguf q4_0
#   QAT  qat qat --model FP32.gguf --data TEXT --scheme w4a8 --steps S -b 16 --seq 128 --lr 3e-4
#        --warmup 10 --eval-batches 40   (distillation from the FP32 model: KD weight 1, T = 1)
#   ppl  qat eval ppl -m X --text VAL -c 256 [--chunks N]   for FP32, PTQ and QAT
# torchao (bench/qat_torchao.py; transformers Gemma3ForCausalLM on `qat convert FP32.gguf HFDIR`):
#   quantize_(model, QATConfig(Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4,
#   weight_granularity=PerGroup(32)), step="prepare"), filter_fn=<nn.Linear except lm_head>):
#   int4 symmetric weights per group of 32 + dynamic int8 per-token asymmetric activations on
#   every decoder linear layer; the tied embedding / lm_head stays FP32. PTQ = that prepared model
#   untrained (fake quant; the script checks its logits equal torchao's real quantize_ PTQ model);
#   QAT = the same after S steps of the same recipe as ours: batch 16 x 128-token windows from
#   the first 95 % of the token stream in a random order, AdamW lr 3e-4 betas (0.9, 0.95) eps 1e-8,
#   weight decay 0.1 on matrices/embedding, 10 warm-up steps then cosine to 0.1 lr, clip 1.0,
#   loss KL(FP32 teacher || student) at T = 1, mean over positions. Perplexity is computed as
#   `qat eval ppl` does it (windows of 256 starting with <bos>, second half scored): the two FP32
#   rows agree to the printed digits when the two evaluations match.
#
# Differences between the two recipes that remain (see the notes the script prints):
#   - weights: ours Q4_0 (scale d = the block's signed absmax / -8, fp16; codes -8..7, so the
#     absmax value is exact) vs torchao int4 symmetric (scale = absmax / 7.5, fp32; codes -8..7,
#     the positive extreme clips to 7 * scale);
#   - activations: ours symmetric absmax per block of 32 (fp16 scale) vs torchao asymmetric per
#     token (the whole row, scale + zero point);
#   - tied embedding / output: ours Q8_0 (with Q8_0 inputs to the output matmul) vs torchao FP32;
#   - the data order: both shuffle the same training windows, with different generators.
# QAT wall time is the training loop only (ours: train_log.csv's elapsed_s at the last step;
# torchao: the timed steps), both including the teacher's forward pass.
#
# The machine should be quiet for the wall times: the load average before and after is printed,
# and the cores other processes kept busy during each QAT phase.
# The qat binary is copied into the work dir first, so a rebuild during the run is harmless.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEPS=150
THREADS="$(nproc)"
QAT="$REPO/build/qat"
VENV="$REPO/.venv-ref"
MODEL="$REPO/runs/small-lm/run/model.gguf"
TEXT="$REPO/../shared/data/text/sotu.txt"
CHUNKS=0
CTX=256
WORK=""
SKIP_OURS=0
SKIP_TORCHAO=0
JSON=0

usage() {
  cat <<EOF
Usage: bench/qat_vs_torchao.sh [options]
  --steps N          QAT optimizer steps, both engines (default: $STEPS)
  --threads N        threads for both engines (default: nproc = $THREADS)
  --qat PATH         qat binary (default: \$REPO/build/qat)
  --venv DIR         Python environment with torch, transformers, torchao, tokenizers
                     (default: \$REPO/.venv-ref)
  --model GGUF       FP32 model (default: \$REPO/runs/small-lm/run/model.gguf; scripts/train_small_lm.sh)
  --text FILE        training text; its last 4 % of characters is the held-out text
                     (default: \$REPO/../shared/data/text/sotu.txt)
  --chunks N         evaluate at most N windows of $CTX tokens of the held-out text (default: 0 = all)
  --work DIR         keep the models, runs and logs here (default: a temp dir, removed)
  --skip-ours        run only the torchao side
  --skip-torchao     run only our side
  --json             print the results as one JSON object instead of the markdown table
  -h, --help         this text
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --qat) QAT="$2"; shift 2 ;;
    --venv) VENV="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    --text) TEXT="$2"; shift 2 ;;
    --chunks) CHUNKS="$2"; shift 2 ;;
    --work|--workdir) WORK="$2"; shift 2 ;;
    --skip-ours) SKIP_OURS=1; shift ;;
    --skip-torchao) SKIP_TORCHAO=1; shift ;;
    --json) JSON=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [ "$SKIP_OURS" = 1 ] && [ "$SKIP_TORCHAO" = 1 ]; then
  echo "error: --skip-ours and --skip-torchao leave nothing to run" >&2; exit 2
fi
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
  echo "error: the reference Python environment $VENV is missing (torch, transformers, torchao, tokenizers)." >&2
  echo "create it with: tools/reference/setup_venv.sh (writes \$REPO/.venv-ref), or pass --venv DIR" >&2
  exit 1
fi
if [ "$SKIP_TORCHAO" = 0 ] && ! "$PY" -c 'import torch, transformers, torchao, tokenizers' 2> /dev/null; then
  echo "error: $PY cannot import torch, transformers, torchao and tokenizers" >&2
  echo "install them into $VENV (tools/reference/setup_venv.sh; torchao==0.18.0 is the version this was written for), or pass --venv DIR / --skip-torchao" >&2
  exit 1
fi
if [ ! -x "$QAT" ]; then
  echo "error: $QAT not found; build it (cmake --build build --target qat) or pass --qat PATH" >&2
  exit 1
fi
if [ ! -f "$MODEL" ]; then
  echo "error: the FP32 model $MODEL is missing; train it with scripts/train_small_lm.sh or pass --model GGUF" >&2
  exit 1
fi
if [ ! -f "$TEXT" ]; then
  echo "error: the training text $TEXT is missing; pass --text FILE (the text the model was trained on)" >&2
  exit 1
fi
case "$STEPS$THREADS$CHUNKS" in *[!0-9]*) echo "error: --steps, --threads and --chunks take integers" >&2; exit 2 ;; esac
[ "$STEPS" -ge 1 ] || { echo "error: --steps must be >= 1" >&2; exit 2; }
[ "$THREADS" -ge 1 ] || { echo "error: --threads must be >= 1" >&2; exit 2; }

if [ -z "$WORK" ]; then
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/qat-vs-torchao.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
else
  mkdir -p "$WORK"
fi
MODEL="$(realpath "$MODEL")"
TEXT="$(realpath "$TEXT")"

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(load)"

# Other work during a phase: the machine's busy CPU time (/proc/stat) minus the time of this
# script's children, per wall second = the cores others kept busy (0.00 = a quiet machine).
CLK="$(getconf CLK_TCK)"
busy_s() { awk -v clk="$CLK" '/^cpu /{ printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / clk }' /proc/stat; }
children_s() {  # CPU seconds of this shell's finished children (`times` must run in this shell)
  times > "$WORK/.times"
  tail -1 "$WORK/.times" | awk '{ s = 0; for (i = 1; i <= 2; ++i) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.2f", s }'
}
now_s() { date +%s.%N; }
mark() { M_BUSY="$(busy_s)"; children_s > "$WORK/.child0"; M_T="$(now_s)"; }
others() {  # cores used by other processes since mark
  local b1 t1
  b1="$(busy_s)"; t1="$(now_s)"; children_s > "$WORK/.child1"
  awk -v b0="$M_BUSY" -v b1="$b1" -v c0="$(cat "$WORK/.child0")" -v c1="$(cat "$WORK/.child1")" -v t0="$M_T" -v t1="$t1" \
    'BEGIN { o = ((b1 - b0) - (c1 - c0)) / (t1 - t0); printf "%.2f", o < 0 ? 0 : o }'
}

# Run a private copy: a rebuild of build/qat during the benchmark must not mix versions.
QAT_INFO="$QAT ($(stat -c '%y' "$QAT" | cut -d. -f1), sha256 $(sha256sum "$QAT" | cut -c1-12))"
cp "$QAT" "$WORK/qat"
QAT="$WORK/qat"

# Held-out text: the last 4 % of the characters (UTF-8 aware).
VAL="$WORK/val.txt"
"$PY" - "$TEXT" "$VAL" <<'EOF'
import sys
t = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(t[len(t) - int(0.04 * len(t)):])
EOF

echo "qat_vs_torchao: $(basename "$MODEL") ($MODEL), $STEPS QAT steps of 16 x 128, $THREADS threads," \
  "held-out text $VAL ($(wc -c < "$VAL") bytes), chunks: $([ "$CHUNKS" = 0 ] && echo all || echo "$CHUNKS") of $CTX; work dir $WORK" >&2

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"

eval_ours() {  # label model -> $WORK/ours-ppl-LABEL.txt; sets PPL_V PPL_E WINDOWS SCORED
  local label="$1" m="$2" out="$WORK/ours-ppl-$1.txt"
  echo "  ours: qat eval ppl ($label)" >&2
  # Window lines [i/N] only every 50 windows and at the end.
  { "$QAT" eval ppl -m "$m" --text "$VAL" -c "$CTX" --chunks "$CHUNKS" -t "$THREADS" 2>&1 1> "$out" |
      awk -F'[][/]' '/^\[[0-9]+\/[0-9]+\]/ { if ($2 % 50 == 0 || $2 == $3) print "    " $0; next } { print "    " $0 }' >&2; } ||
    { echo "error: qat eval ppl failed on $m" >&2; exit 1; }
  # "PPL = 73.0182 ± 5.6690"; "text: VAL, 10 windows of 256 tokens, 1270 tokens scored (...)"
  read -r PPL_V PPL_E <<< "$(sed -n 's/^PPL = \([0-9.e+-]*\) ± \([0-9.e+-]*\).*/\1 \2/p' "$out")"
  read -r WINDOWS SCORED <<< "$(sed -n 's/^text: .*, \([0-9]*\) windows of [0-9]* tokens, \([0-9]*\) tokens scored.*/\1 \2/p' "$out")"
  [ -n "$PPL_V" ] && [ -n "$SCORED" ] || { cat "$out" >&2; echo "error: no perplexity in qat eval ppl's output ($out)" >&2; exit 1; }
}

if [ "$SKIP_OURS" = 0 ]; then
  echo "ours: PTQ (qat quantize q4_0)" >&2
  "$QAT" quantize "$MODEL" "$WORK/ptq.gguf" q4_0 > "$WORK/ours-quantize.log" 2>&1 ||
    { cat "$WORK/ours-quantize.log" >&2; echo "error: qat quantize failed" >&2; exit 1; }
  echo "ours: QAT (qat qat --scheme w4a8, $STEPS steps)" >&2
  rm -rf "$WORK/ours-qat"
  mark
  T0="$(now_s)"
  "$QAT" qat --model "$MODEL" --data "$TEXT" --scheme w4a8 --steps "$STEPS" -b 16 --seq 128 --lr 3e-4 \
    --warmup 10 --eval-batches 40 -t "$THREADS" -o "$WORK/ours-qat" 2>&1 | tee "$WORK/ours-qat.log" | sed 's/^/    /' >&2 ||
    { echo "error: qat qat failed (log: $WORK/ours-qat.log)" >&2; exit 1; }
  OURS_CMD_S="$(awk -v a="$T0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')"
  OURS_OTHERS="$(others)"
  eval_ours fp32 "$MODEL"; F32="$PPL_V"; F32E="$PPL_E"
  eval_ours ptq "$WORK/ptq.gguf"; PTQ="$PPL_V"; PTQE="$PPL_E"
  eval_ours qat "$WORK/ours-qat/model.gguf"; QATP="$PPL_V"; QATE="$PPL_E"
  # Training loop seconds and the median step from train_log.csv (step,...,elapsed_s is column 6).
  awk -F, -v f32="$F32" -v f32e="$F32E" -v ptq="$PTQ" -v ptqe="$PTQE" -v qat="$QATP" -v qate="$QATE" \
      -v cmd="$OURS_CMD_S" -v others="$OURS_OTHERS" -v t="$THREADS" -v win="$WINDOWS" -v scored="$SCORED" '
    NR > 1 { n++; e[n] = $6; if (n == 1) l0 = $2; l1 = $2 }
    END {
      m = 0; for (i = 1; i <= n; ++i) { d[i] = e[i] - (i > 1 ? e[i - 1] : 0) }
      # median of steps 2..n (step 1 includes start-up), or step 1 alone
      k = 0; for (i = (n > 1 ? 2 : 1); i <= n; ++i) s[++k] = d[i]
      for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (s[j] < s[i]) { x = s[i]; s[i] = s[j]; s[j] = x }
      med = (k % 2) ? s[(k + 1) / 2] : (s[k / 2] + s[k / 2 + 1]) / 2
      printf "{\"engine\":\"ours\",\"threads\":%d,\"fp32\":{\"ppl\":%s,\"ppl_err\":%s},\"ptq\":{\"ppl\":%s,\"ppl_err\":%s},", t, f32, f32e, ptq, ptqe
      printf "\"qat\":{\"ppl\":%s,\"ppl_err\":%s},\"train_s\":%.2f,\"step_s_median\":%.3f,\"command_s\":%s,", qat, qate, e[n], med, cmd
      printf "\"loss_first\":%s,\"loss_last\":%s,\"steps\":%d,\"others_cores\":%s,\"chunks\":%d,\"scored\":%d}\n", l0, l1, n, others, win, scored
    }' "$WORK/ours-qat/train_log.csv" >> "$RESULTS"
fi

if [ "$SKIP_TORCHAO" = 0 ]; then
  echo "torchao: qat convert to a HF directory" >&2
  rm -rf "$WORK/hf"
  "$QAT" convert "$MODEL" "$WORK/hf" > "$WORK/convert.log" 2>&1 ||
    { cat "$WORK/convert.log" >&2; echo "error: qat convert failed" >&2; exit 1; }
  [ -f "$WORK/hf/tokenizer.json" ] ||
    { echo "error: qat convert wrote no tokenizer.json ($MODEL has no tokenizer?)" >&2; exit 1; }
  CMP=()
  [ -f "$WORK/ours-qat/tokens.cache" ] && CMP=(--compare-tokens "$WORK/ours-qat/tokens.cache")
  mark
  T0="$(now_s)"
  OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" "$PY" "$REPO/bench/qat_torchao.py" --model "$WORK/hf" \
    --data "$TEXT" --val "$VAL" --steps "$STEPS" --batch 16 --seq 128 --lr 3e-4 --warmup 10 --ctx "$CTX" \
    --chunks "$CHUNKS" --threads "$THREADS" "${CMP[@]}" > "$WORK/torchao.json" 2> "$WORK/torchao.err" &
  PID=$!
  tail -n +1 -f --pid="$PID" "$WORK/torchao.err" | grep --line-buffered -v 'register_constant\|^W[0-9]' | sed 's/^/    /' >&2 || true
  wait "$PID" || { echo "error: bench/qat_torchao.py failed (log: $WORK/torchao.err)" >&2; tail -20 "$WORK/torchao.err" >&2; exit 1; }
  TAO_CMD_S="$(awk -v a="$T0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')"
  "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1])); d["command_s"] = float(sys.argv[2]); d["others_cores"] = float(sys.argv[3])
print(json.dumps(d))' "$WORK/torchao.json" "$TAO_CMD_S" "$(others)" >> "$RESULTS"
fi
LOAD_AFTER="$(load)"

"$PY" - "$RESULTS" "$JSON" "$LOAD_BEFORE" "$LOAD_AFTER" "$QAT_INFO" "$MODEL" "$TEXT" "$VAL" "$STEPS" "$THREADS" <<'EOF'
import json, platform, sys
path, as_json, load0, load1, qat, model, text, val, steps, threads = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
for r in rows:
    f, p, q = r["fp32"]["ppl"], r["ptq"]["ppl"], r["qat"]["ppl"]
    r["ptq_gap"] = p - f
    r["qat_gap"] = q - f
    r["recovered"] = (r["ptq_gap"] - r["qat_gap"]) / r["ptq_gap"] if r["ptq_gap"] > 0 else None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
meta = {"cpu": cpu, "load_before": load0, "load_after": load1, "qat_binary": qat, "model": model, "text": text,
        "val": val, "steps": int(steps), "threads": int(threads), "batch": 16, "seq": 128, "ctx": 256}
if as_json == "1":
    print(json.dumps({"meta": meta, "results": rows}, indent=1))
    sys.exit()

tao = next((r for r in rows if r["engine"] == "torchao"), None)
ours = next((r for r in rows if r["engine"] == "ours"), None)
print(f"CPU: {cpu}; {threads} threads; load average before {load0}, after {load1}; cores kept busy by other "
      "processes during QAT: " + ", ".join(f"{r['engine']} {r['others_cores']:.2f}" for r in rows))
print(f"model: {model}; held-out text: last 4 % of {text}")
if ours:
    print(f"ours: {qat}")
if tao:
    print(f"torchao {tao['torchao']}, torch {tao['torch']}, transformers {tao['transformers']}: {tao['config']}")
for r in rows:
    r.setdefault("scored", r["qat"].get("tokens"))
print(f"{steps} QAT steps of 16 x 128 tokens; perplexity over "
      + ", ".join(f"{r['engine']} {r['chunks']} windows of 256 ({r['scored']} tokens scored, second halves)" for r in rows))
print()
print("| engine | FP32 ppl | PTQ ppl | QAT ppl | PTQ gap | QAT gap | recovered | QAT wall time |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
names = {"ours": "ours (qat qat, W4A8: Q4_0 weights, Q8_0 activations)",
         "torchao": "torchao (int4 g32 weights, int8 per-token activations)"}
for r in rows:
    rec = "n/a" if r["recovered"] is None else f"{100 * r['recovered']:.1f} %"
    print(f"| {names[r['engine']]} | {r['fp32']['ppl']:.4f} | {r['ptq']['ppl']:.4f} | {r['qat']['ppl']:.4f} "
          f"| {r['ptq_gap']:+.4f} | {r['qat_gap']:+.4f} | {rec} | {r['train_s']:.0f} s |")
print()
for r in rows:
    whole = ("qat qat command (tokenizing, training, validation, export)" if r["engine"] == "ours"
             else "bench/qat_torchao.py (tokenizing, training, the 3 evaluations)")
    print(f"{r['engine']}: {r['step_s_median']:.2f} s/step (median of steps 2..), training loop {r['train_s']:.1f} s; "
          f"{whole} {r['command_s']:.0f} s; distillation loss {r['loss_first']:.4f} -> {r['loss_last']:.4f}")
print(f"perplexity ± (standard error over the scored tokens): FP32 "
      + ", ".join(f"{r['engine']} {r['fp32']['ppl_err']:.2f}" for r in rows)
      + "; the gaps compare the same tokens, so their error is far smaller")
if ours and tao:
    d = abs(ours["fp32"]["ppl"] - tao["fp32"]["ppl"])
    print(f"FP32 perplexity, ours vs PyTorch: {ours['fp32']['ppl']:.4f} vs {tao['fp32']['ppl']:.4f} "
          f"({'the evaluations agree' if d < 1e-3 else 'MISMATCH: the evaluations differ'})")
if tao:
    if tao.get("token_stream_same_as_ours") is not None:
        print(f"torchao's training token stream identical to ours: {tao['token_stream_same_as_ours']}")
    print(f"torchao fake quant vs its real quantize_ model, largest |logit| difference on one window: "
          f"PTQ {tao['ptq']['fake_vs_real_max_abs_logit_diff']:.3g}, QAT {tao['qat']['fake_vs_real_max_abs_logit_diff']:.3g}")
print("recipe differences: weights Q4_0 (scale = signed absmax / -8, fp16) vs int4 symmetric (absmax / 7.5, fp32);"
      " activations symmetric per block of 32 vs asymmetric per token; tied embedding/output Q8_0 (ours) vs FP32"
      " (torchao); the same training windows in different random orders")
EOF
