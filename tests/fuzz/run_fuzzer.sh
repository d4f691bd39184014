#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SEED_CORPUS SECONDS: fuzzes for SECONDS on a copy of the seed corpus (the source tree stays
# as it is) with 512 MB of memory at most; exits non-zero on a finding, whose input is kept in the working folder.
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds" "$work/corpus"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16:malloc_context_size=10" "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -print_final_stats=1 \
          -artifact_prefix="$PWD/$(basename "$fuzzer")-" "$work/corpus" 2>&1 | tail -n 15
