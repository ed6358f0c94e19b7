#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   1. the whole gtest suite (ctest) in a Release build,
#   2. the loader, kernel, model, training and CLI tests again under
#      AddressSanitizer + UBSan,
#   3. the kernel, quantizer and base tests cross-compiled for AArch64 and run
#      under qemu-aarch64 (NEON dot-product kernels against the scalar reference).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
JOBS="${JOBS:-$(nproc)}"

# Every test writes its scratch files under gtest's TempDir() (TEST_TMPDIR) or
# std::filesystem::temp_directory_path() (TMPDIR); point both at one folder of
# this run, removed when every stage passed and kept (its path printed) when
# one failed, so test runs do not pile files up in /tmp.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/qat-tests.XXXXXX")"
export TEST_TMPDIR="$scratch" TMPDIR="$scratch"
trap 'rc=$?; if [ $rc -eq 0 ]; then rm -rf "$scratch"; else echo "test scratch files kept in $scratch" >&2; fi' EXIT

echo "== Release build + full test suite =="
./scripts/build.sh
ctest --test-dir build --output-on-failure -j "$JOBS"

echo "== ASan/UBSan build: loaders, corrupt-file corpus, kernels, model, training, finance, CLI =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DQAT_SANITIZE=ON -DQAT_BENCH=OFF > /dev/null
ninja -C build-asan -j "$JOBS" qat test_formats test_kernels test_model test_cli test_train test_finance
# A sanitizer report exits with 86, never 1, so the corrupt-file tests (which
# expect exit code 1) cannot mistake a memory error for a clean rejection.
ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L "formats|kernels|model|cli|train|finance"

echo "== AArch64 cross build: kernel tests under qemu-aarch64 =="
cmake -S tests/cross -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake" > /dev/null
ninja -C build-aarch64 -j "$JOBS"
# QAT_EXPECT_LEVELS makes the suite fail if the NEON level was not exercised.
QAT_EXPECT_LEVELS=scalar,neon ctest --test-dir build-aarch64 --output-on-failure
