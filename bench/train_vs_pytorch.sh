#!/usr/bin/env bash
# Training throughput and peak memory: `qat train` against PyTorch eager (transformers'
# Gemma3ForCausalLM) on the CPU, the same model, threads, batch, sequence length and steps.
#
# One model is created with `qat init --arch gemma3 --preset small --seed 1` (HF directory);
# ours fine-tunes it with `qat train --model DIR`, PyTorch loads the same DIR in float32
# (bench/train_pytorch.py). Both run AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.1 on
# matrices), gradient clipping at 1.0, mean cross entropy over all B*T next-token targets.
# Tokens/s is the steady state: steps 1..WARMUP are left out (ours: from the elapsed_s
# column of DIR/train_log.csv; PyTorch: timed per step). Peak RSS is the process's
# getrusage ru_maxrss for both (ours as `qat train` prints it, which includes loading and
# tokenizing the data, the final evaluation and writing the checkpoint and model.gguf;
# PyTorch's includes `import torch` + transformers, shown separately as "RSS after build").
# Each (engine, threads) pair runs RUNS times, engines interleaved; the table gives the
# median tokens/s and the largest peak RSS.
#
# Issue 4's goal: ours >= 1.5x PyTorch's tokens/s and ours' peak RSS <= PyTorch's.
#
# Needs: build/qat (or --qat) and the reference venv .venv-ref (tools/reference/setup_venv.sh).
# The machine should be quiet: the load average before and after, and the cores other
# processes kept busy during each run, are printed (runs above 0.1 are named).
# Ours runs with --schedule constant --warmup 0 like the PyTorch loop (speed does not depend
# on it); ours reads the text given by --data, PyTorch random ids of the same (B, T) shape.
# The qat binary is copied into the work dir first, so a rebuild during the run is harmless.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREADS="1 2"
BATCH=8
SEQ=128
STEPS=20
RUNS=3
WARMUP=2
ATTN="default eager"
QAT="$REPO/build/qat"
VENV="$REPO/.venv-ref"
DATA=""
WORK=""
KEEP=0

usage() {
  cat <<EOF
Usage: bench/train_vs_pytorch.sh [options]
  --threads "1 2"       thread counts to run, each for both engines (default: "$THREADS")
  --batch N             sequences per step (default: $BATCH)
  --seq N               tokens per sequence (default: $SEQ)
  --steps N             optimizer steps per run (default: $STEPS)
  --warmup N            leading steps left out of tokens/s (default: $WARMUP)
  --runs N              runs per engine and thread count; the table shows the median (default: $RUNS)
  --attn "LIST"         PyTorch attn_implementation(s): default (what from_pretrained picks; sdpa
                        in transformers 5), eager, sdpa (default: "$ATTN"; the first is the headline)
  --qat PATH            qat binary (default: \$REPO/build/qat)
  --venv DIR            Python environment with torch + transformers (default: \$REPO/.venv-ref)
  --data FILE           training text for ours (default: a generated 1 MB text file)
  --workdir DIR         keep the model, data and run directories here (default: a temp dir, removed)
  -h, --help            this text
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --seq) SEQ="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --attn) ATTN="$2"; shift 2 ;;
    --qat) QAT="$2"; shift 2 ;;
    --venv) VENV="$2"; shift 2 ;;
    --data) DATA="$2"; shift 2 ;;
    --workdir) WORK="$2"; KEEP=1; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
  echo "error: the reference Python environment $VENV is missing (PyTorch, transformers)." >&2
  echo "create it with: tools/reference/setup_venv.sh (writes \$REPO/.venv-ref), or pass --venv DIR" >&2
  exit 1
fi
if [ ! -x "$QAT" ]; then
  echo "error: $QAT not found; build it (cmake --build build --target qat) or pass --qat PATH" >&2
  exit 1
fi
if [ "$STEPS" -le "$WARMUP" ]; then
  echo "error: --steps ($STEPS) must exceed --warmup ($WARMUP)" >&2
  exit 2
fi

if [ -z "$WORK" ]; then
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/train-vs-pytorch.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
else
  mkdir -p "$WORK"
fi
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE="$(load)"

# Other work during a run: the machine's busy CPU time (/proc/stat) minus the time of this
# script's children, per wall second = the cores others kept busy (0.00 = a quiet machine).
CLK="$(getconf CLK_TCK)"
busy_s() { awk -v clk="$CLK" '/^cpu /{ printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / clk }' /proc/stat; }
children_s() {  # CPU seconds of this shell's finished children (`times` must run in this shell, not a subshell)
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
QAT_SRC="$QAT"
QAT_INFO="$QAT_SRC ($(stat -c '%y' "$QAT_SRC" | cut -d. -f1), sha256 $(sha256sum "$QAT_SRC" | cut -c1-12))"
cp "$QAT_SRC" "$WORK/qat"
QAT="$WORK/qat"

# The one model both engines train.
"$QAT" init --arch gemma3 --preset small --seed 1 -o "$WORK/model" > /dev/null

# Training text for ours (PyTorch draws random ids: throughput does not depend on them).
if [ -z "$DATA" ]; then
  DATA="$WORK/data.txt"
  "$PY" - "$DATA" <<'EOF'
import random, sys
r = random.Random(1)
words = ("the of and to a in that is was he for it with as his on be at by this had not are but from or "
         "have an they which one you were her all she there would their we him been has when who will more "
         "no if out so said what up its about into than them can only other new some could time these two "
         "may then do first any my now such like our over man me even most made after also did many before "
         "must through back years where much your way well down should because each just those people how "
         "too little state good very make world still own see men work long get here between both life").split()
parts, n = [], 0
while n < 1_000_000:
    s = " ".join(r.choice(words) for _ in range(r.randint(5, 20))).capitalize() + ".\n"
    parts.append(s)
    n += len(s)
open(sys.argv[1], "w").write("".join(parts))
EOF
fi

# Peak RSS in MiB from qat's "peak RSS 316.0 MiB" (format_bytes: B, KiB, MiB or GiB).
qat_peak_mib() {
  sed -n 's/.*peak RSS \([0-9.]*\) \([KMG]*i*B\).*/\1 \2/p' "$1" | awk '
    { v = $1; u = $2; if (u == "GiB") v *= 1024; else if (u == "KiB") v /= 1024; else if (u == "B") v /= 1048576;
      printf "%.1f", v }'
}

run_ours() {  # threads run
  local t="$1" r="$2" dir="$WORK/ours-t$1-r$2" peak load1
  rm -rf "$dir"
  mark
  "$QAT" train --model "$WORK/model" --data "$DATA" --steps "$STEPS" --batch "$BATCH" --seq "$SEQ" \
    --threads "$t" --schedule constant --warmup 0 --out "$dir" -q --eval-batches 1 --val-fraction 0.01 \
    > "$dir.out" 2>&1 || { cat "$dir.out" >&2; echo "error: qat train failed" >&2; exit 1; }
  others > "$WORK/.others"; load1="$(cat "$WORK/.others")"
  peak="$(qat_peak_mib "$dir.out")"
  # Steady tokens/s from the cumulative elapsed_s column (step,loss,lr,grad_norm,tokens_per_s,elapsed_s,...).
  awk -F, -v w="$WARMUP" -v n="$STEPS" -v bt="$((BATCH * SEQ))" -v t="$t" -v r="$r" -v peak="$peak" -v load="$load1" '
    NR > 1 { e[$1] = $6 }
    END {
      e0 = (w > 0) ? e[w] : 0
      printf "{\"engine\":\"ours\",\"label\":\"ours (qat)\",\"threads\":%d,\"run\":%d,\"load\":%s,", t, r, load
      printf "\"tokens_per_s\":%.2f,", bt * (n - w) / (e[n] - e0)
      printf "\"tokens_per_s_all\":%.2f,\"step1_s\":%.3f,\"peak_rss_mib\":%s}\n", bt * n / e[n], e[1], peak
    }' "$dir/train_log.csv" >> "$RESULTS"
}

run_pytorch() {  # threads run attn
  local t="$1" r="$2" a="$3" out load1
  mark
  out="$(OMP_NUM_THREADS="$t" MKL_NUM_THREADS="$t" "$PY" "$REPO/bench/train_pytorch.py" --model "$WORK/model" \
    --threads "$t" --batch "$BATCH" --seq "$SEQ" --steps "$STEPS" --warmup "$WARMUP" --attn "$a" \
    2> "$WORK/pytorch-$a-t$t-r$r.err")" || { cat "$WORK/pytorch-$a-t$t-r$r.err" >&2; echo "error: train_pytorch.py failed" >&2; exit 1; }
  others > "$WORK/.others"; load1="$(cat "$WORK/.others")"
  "$PY" -c '
import json, sys
d = json.loads(sys.argv[1]); a = sys.argv[2]
d["label"] = "PyTorch eager, %s attention%s" % (d["attn"], " (HF default)" if a == "default" else "")
d["run"] = int(sys.argv[3]); d["requested_attn"] = a; d["load"] = float(sys.argv[4])
print(json.dumps(d))' "$out" "$a" "$r" "$load1" >> "$RESULTS"
}

echo "train_vs_pytorch: gemma3 small (qat init --seed 1), batch $BATCH x seq $SEQ, $STEPS steps" \
  "(tokens/s over steps $((WARMUP + 1))..$STEPS), $RUNS run(s), threads: $THREADS" >&2
for t in $THREADS; do
  for r in $(seq 1 "$RUNS"); do
    echo "  threads $t, run $r/$RUNS: ours" >&2
    run_ours "$t" "$r"
    for a in $ATTN; do
      echo "  threads $t, run $r/$RUNS: pytorch ($a)" >&2
      run_pytorch "$t" "$r" "$a"
    done
  done
done
LOAD_AFTER="$(load)"

"$PY" - "$RESULTS" "$BATCH" "$SEQ" "$STEPS" "$WARMUP" "$RUNS" "$LOAD_BEFORE" "$LOAD_AFTER" "$QAT_INFO" "$ATTN" <<'EOF'
import json, platform, statistics, sys
path, B, T, N, W, R, load0, load1, qat, attn = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
pt = next((r for r in rows if r["engine"] == "pytorch"), {})
loads = [r["load"] for r in rows if "load" in r]
print(f"CPU: {cpu}; load average before {load0}, after {load1}")
if loads:
    noisy = [f"{r['label'].split(',')[0]} t{r['threads']} run {r['run']}: {r['load']:.2f}" for r in rows if r["load"] > 0.1]
    print(f"cores kept busy by other processes during the runs: {min(loads):.2f}..{max(loads):.2f}"
          + (" (over 0.1: " + "; ".join(noisy) + ")" if noisy else ""))
print(f"ours: {qat}; PyTorch {pt.get('torch', '?')}, transformers {pt.get('transformers', '?')}")
print(f"model: gemma3 small, {pt.get('params', '?')} parameters, float32; batch {B} x seq {T}; {N} steps, "
      f"tokens/s over steps {int(W) + 1}..{N}, median of {R} run(s); peak RSS: max over the runs")
print()
print("| engine | threads | batch x seq | tokens/s | ms/step | tokens/s per run | tokens/s incl. warm-up "
      "| peak RSS MiB | RSS after import+build MiB | tokens/s ours/PyTorch | peak RSS ours/PyTorch |")
print("|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|")
threads = sorted({r["threads"] for r in rows})
labels = list(dict.fromkeys(r["label"] for r in rows))
summary = []
for t in threads:
    agg = {}
    for lab in labels:
        rs = [r for r in rows if r["threads"] == t and r["label"] == lab]
        if not rs:
            continue
        agg[lab] = dict(tok=statistics.median(r["tokens_per_s"] for r in rs),
                        tok_all=statistics.median(r["tokens_per_s_all"] for r in rs),
                        rss=max(r["peak_rss_mib"] for r in rs),
                        base=max(r.get("rss_after_build_mib", float("nan")) for r in rs),
                        runs=" ".join(f"{r['tokens_per_s']:.0f}" for r in rs),
                        engine=rs[0]["engine"], attn=rs[0].get("requested_attn"))
    ours = next((v for v in agg.values() if v["engine"] == "ours"), None)
    for lab, v in agg.items():
        tok_ratio = rss_ratio = ""
        if v["engine"] == "pytorch" and ours:
            tok_ratio = f"{ours['tok'] / v['tok']:.2f}x"
            rss_ratio = f"{ours['rss'] / v['rss']:.2f}x"
        base = "" if v["engine"] == "ours" else f"{v['base']:.0f}"
        ms = 1000.0 * int(B) * int(T) / v["tok"]
        print(f"| {lab} | {t} | {B} x {T} | {v['tok']:.0f} | {ms:.0f} | {v['runs']} | {v['tok_all']:.0f} | {v['rss']:.0f} | {base} "
              f"| {tok_ratio} | {rss_ratio} |")
    head = next((v for v in agg.values() if v["engine"] == "pytorch"), None)
    if ours and head:
        tr, mr = ours["tok"] / head["tok"], ours["rss"] / head["rss"]
        summary.append(f"threads {t}: {tr:.2f}x PyTorch's tokens/s ({'met' if tr >= 1.5 else 'not met'}), "
                       f"{mr:.2f}x its peak RSS ({'met' if mr <= 1.0 else 'not met'})")
print()
print(f"Issue 4 goal (>= 1.5x tokens/s, peak RSS <= PyTorch's), against the headline PyTorch row "
      f"(attention '{attn.split()[0]}'):")
for s in summary:
    print("  " + s)
EOF
