#!/usr/bin/env bash
# Configures and builds qat (Release, this machine's CPU) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
ninja -C build -j "$JOBS"
