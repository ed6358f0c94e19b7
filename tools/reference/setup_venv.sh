#!/usr/bin/env bash
# The oracles' Python environment (git-ignored .venv-ref/), separate from the
# product: only tools/reference/ scripts use it, to regenerate golden fixtures.
# The test suite never needs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv-ref/bin/python ] || python3 -m venv .venv-ref
.venv-ref/bin/pip install -q -r tools/reference/requirements.txt
