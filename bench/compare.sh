#!/usr/bin/env bash
# Runs each training benchmark and the PyTorch reference (../shared/reference/torch_reference.py, Debian's
# python3-torch) one after the other in the same environment, and prints both times per epoch and their ratio.
#   bash bench/compare.sh [--epochs N] [--threads N] [--torch-threads N] [--repeats R]
# Each runs at its fastest setting here by default: ours with 2 threads (the library's own pool, OpenBLAS
# single-threaded inside), PyTorch with 1 (on this 2-core machine PyTorch 1.13 is 2.5x slower with 2 threads).
# Compare only numbers from one run: OPENBLAS_CORETYPE (if set) changes which BLAS kernels run for both.
# --repeats R runs ours and PyTorch alternately R times per model and reports the medians, and the range of the
# R pairwise ratios: on a shared machine one pair's ratio moves by ±0.05 as the load beside it changes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
epochs=5
threads=2
torch_threads=1
repeats=1
while (($#)); do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --torch-threads) torch_threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    *) echo "compare.sh: unknown flag '$1'; usage: bash bench/compare.sh [--epochs N] [--threads N] [--torch-threads N] [--repeats R]" >&2; exit 2 ;;
  esac
done
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --repeats needs a positive whole number, not '$repeats'" >&2; exit 2; }
reference="$root/../shared/reference/torch_reference.py"
[ -f "$reference" ] || { echo "compare.sh: missing $reference" >&2; exit 1; }

bash "$root/scripts/setup.sh"
if ! /usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1; then
  echo "compare.sh: installing python3-torch and python3-numpy"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi

echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; ours: $threads thread(s); PyTorch: $torch_threads thread(s); $epochs epochs, Fashion-MNIST (60,000 images); $repeats pair(s) per model; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
last_json() { grep '^{' | tail -n 1; }
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# medians of ours and theirs, their ratio, the range of the pairwise ratios, and the ratio of the best times:
# "o t ratio lo hi best"
summary() { /usr/bin/python3 -c "
import statistics as s, sys
o = [float(v) for v in sys.argv[1].split()]; t = [float(v) for v in sys.argv[2].split()]
r = [a / b for a, b in zip(o, t)]
print('%.3f %.3f %.2f %.2f %.2f %.2f' % (s.median(o), s.median(t), s.median(o) / s.median(t), min(r), max(r), min(o) / min(t)))" "$1" "$2"; }

# Where OpenBLAS falls back to its generic Prescott kernels on a CPU it does not know, our library picks the ones
# the CPU allows (autodiff/blas_kernels.cpp); PyTorch's OpenBLAS is then given the same through OPENBLAS_CORETYPE,
# so both sides multiply with the same kernels.
torch_env=()
chosen=$(field "$("$root/build/bench/bench_autodiff" --reps 1 --mlp-batch 32 --threads 1 | last_json)" blas | sed -n 's/.*the library chose \([A-Za-z]*\).*/\1/p')
if [ -n "$chosen" ]; then
  torch_env=("OPENBLAS_CORETYPE=$chosen")
  echo "OpenBLAS took this CPU for a Prescott: our library chose $chosen kernels, and PyTorch runs with OPENBLAS_CORETYPE=$chosen"
fi

rows=()
for spec in "mlp 32" "mlp 128" "mlp 512" "vae 128" "conv 128"; do
  set -- $spec
  model=$1 batch=$2
  os="" ts="" rss=0 trips="" near_ratios=""
  for ((r = 1; r <= repeats; ++r)); do
    echo "== $model, batch $batch ($r/$repeats)" >&2
    ours=$(AE_NUM_THREADS=$threads \
           "$root/build/bench/bench_$model" --batch "$batch" --epochs "$epochs" --threads "$threads" | last_json)
    theirs=$(cd "$root" && env "${torch_env[@]}" OPENBLAS_NUM_THREADS=$torch_threads OMP_NUM_THREADS=$torch_threads \
             /usr/bin/python3 "$reference" "$model" --batch "$batch" --epochs "$epochs" --threads "$torch_threads" \
             --data fashion --mnist-dir "$root/data/mnist" | last_json)
    os+=" $(field "$ours" sec_per_epoch)"
    ts+=" $(field "$theirs" sec_per_epoch_median)"
    pair_trips=$(field "$ours" core_round_trip_ns | tr -d '[],')
    trips+=" $pair_trips"
    # a pair taken with the two CPUs on one L3 all along (every round trip under 150 ns)
    near_ratios+=$(/usr/bin/python3 -c "
import sys
v = [float(x) for x in sys.argv[1].split()]
if v and all(0 < x < 150 for x in v): print(' %.4f' % (float(sys.argv[2]) / float(sys.argv[3])), end='')" \
                   "$pair_trips" "$(field "$ours" sec_per_epoch)" "$(field "$theirs" sec_per_epoch_median)")
    echo "   ours $(field "$ours" sec_per_epoch) s/epoch, PyTorch $(field "$theirs" sec_per_epoch_median) s/epoch; CPU 0-1 round trips (ns) around our epochs: $pair_trips" >&2
    rss=$(field "$ours" peak_rss_mb)
    blas=$(field "$ours" blas)
  done
  read -r o t ratio lo hi best <<<"$(summary "$os" "$ts")"
  range="-"; ((repeats > 1)) && range="$lo-$hi"
  # The MLP's GEMM-only bound (bench_autodiff: its 11 products per step as raw GEMM calls on our threads) over
  # PyTorch's epoch: the ratio no implementation calling these BLAS kernels can go below.
  floor="-"
  if [ "$model" = mlp ]; then
    gemm_ms=$(field "$("$root/build/bench/bench_autodiff" --mlp-batch "$batch" --threads "$threads" | last_json)" mlp_gemm_ms)
    floor=$(/usr/bin/python3 -c "import math; print('%.2f' % ($gemm_ms / 1000 * math.ceil(60000 / $batch) / $t))")
  fi
  # the round trips measured around our epochs: lowest-highest, and the share of them at 150 ns or more (the two
  # CPUs on different dies; bench/core_probe.hpp); the median ratio of the pairs taken with the CPUs on one L3
  far=$(/usr/bin/python3 -c "
import sys
v = [float(x) for x in sys.argv[1].split() if float(x) > 0]
print('%.0f-%.0f/%d%%' % (min(v), max(v), round(100 * sum(x >= 150 for x in v) / len(v))) if v else '-')" "$trips")
  near=$(/usr/bin/python3 -c "
import statistics as s, sys
v = [float(x) for x in sys.argv[1].split()]
print('%.2f(%d)' % (s.median(v), len(v)) if v else '-')" "$near_ratios")
  rows+=("$(printf '%-6s %6s %10s %11s %6s %11s %5s %7s %6s %8.0f %14s' "$model" "$batch" "$o" "$t" "$ratio" "$range" "$best" "$near" "$floor" "$rss" "$far")")
done
echo
echo "BLAS: $blas"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %6s %10s %11s %6s %11s %5s %7s %6s %8s %14s\n' model batch "ours s/ep" "torch s/ep" ratio "pair ratios" best near floor "RSS MB" "rt ns/far"
for r in "${rows[@]}"; do echo "$r"; done
echo "ratio: of the medians; pair ratios: their range over the pairs; best: of the fastest runs; near: the median ratio of the"
echo "pairs whose round trips all stayed under 150 ns (how many); floor: the MLP's GEMM-only bound / PyTorch"
echo "rt ns/far: cache-line round trip between CPUs 0 and 1 around our epochs, lowest-highest, and the share at 150 ns or more"
echo "(the host had moved the two virtual CPUs apart: our two threads then run up to 2x slower; docs/PERFORMANCE.md)"
