#!/usr/bin/env bash
# The main job on a built-in default: install, build, run `qat demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
./scripts/build.sh
./build/qat demo "$@"
