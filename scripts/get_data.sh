#!/usr/bin/env bash
# Fetches the real data `qat demo --task credit` reads on a fresh machine:
# German Credit (UCI Statlog, credit-g.arff) from Debian's weka package,
# downloaded with `apt-get download` (nothing is installed) and unpacked
# into data/. Idempotent. The fraud task needs no data (it is simulated);
# the scam task needs a SpamAssassin JSONL(.gz) passed with --data (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
if [ ! -s data/credit-g.arff ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download weka >/dev/null 2>&1 || { apt-get update -qq && apt-get download weka; })
  dpkg-deb -x "$tmp"/weka_*.deb "$tmp/x"
  cp "$tmp/x/usr/share/doc/weka/examples/credit-g.arff" data/credit-g.arff.tmp
  mv data/credit-g.arff.tmp data/credit-g.arff
  echo "wrote data/credit-g.arff ($(wc -l < data/credit-g.arff) lines, from Debian's weka package)"
fi
