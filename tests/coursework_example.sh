#!/usr/bin/env bash
# The out-of-tree coursework example, as a student builds it: install the libraries into a temporary prefix, build
# examples/coursework with find_package against it (and once against the build folder), run it for a few batches.
#   tests/coursework_example.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for how in install build-tree; do
  if [ "$how" = install ]; then found=(-DCMAKE_PREFIX_PATH="$tmp/prefix"); else found=(-Dautoencoders_cpp_DIR="$build"); fi
  cmake -S "$src/examples/coursework" -B "$tmp/$how" "${found[@]}" >"$tmp/$how.log" 2>&1 || { cat "$tmp/$how.log"; exit 1; }
  cmake --build "$tmp/$how" >>"$tmp/$how.log" 2>&1 || { cat "$tmp/$how.log"; exit 1; }
done
# Run from a folder without data: the program finds it through $AE_DATA_DIR, ./data or the source tree's data/.
mkdir "$tmp/student" && cd "$tmp/student"
"$tmp/install/orthogonal_ae" --quick --threads 1
for f in metrics.json orthogonality.png encoder_rows.png orthogonal_ae.npz README.md; do
  [ -s "out/orthogonal_ae/$f" ] || { echo "coursework example: out/orthogonal_ae/$f is missing" >&2; exit 1; }
done
grep -q '"test_mse_orthogonal"' out/orthogonal_ae/metrics.json
"$tmp/build-tree/orthogonal_ae" --quick --threads 1 --out "$tmp/student/out2" >/dev/null
echo "coursework example: built against the install and the build folder, ran, wrote its outputs"
