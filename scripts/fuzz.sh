#!/usr/bin/env bash
# Runs the file readers' fuzzers longer than the tests do: scripts/fuzz.sh [SECONDS per fuzzer, default 600].
# Builds build-check/ first (clang, sanitizers, libFuzzer); a finding is saved as ./fuzz_<reader>-crash-*.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-600}
[ -f build-check/CMakeCache.txt ] || cmake -S . -B build-check -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAE_FUZZ=ON -DAE_BUILD_BENCH=OFF >/dev/null
cmake --build build-check -j "$(nproc 2>/dev/null || echo 2)" --target fuzz_idx fuzz_npz
for reader in idx npz; do
  echo "fuzz: $reader for $seconds s"
  tests/fuzz/run_fuzzer.sh build-check/tests/fuzz/fuzz_$reader tests/fuzz/corpus/$reader "$seconds"
done
