#!/usr/bin/env bash
# Runs the lessons that export the course page's models (05, 10, 11) with --quick into OUT/<lesson>/, afresh:
#   bash tests/web/quick_runs.sh BUILD_DIR OUT
# (CTest's web_quick_runs: the fixture of web_models_node and web_browser_check.)
set -euo pipefail
build=$1 out=$2
rm -rf "$out"
mkdir -p "$out"
for l in 05_denoising 10_variational 11_anomaly_detection; do
  "$build/lessons/lesson$l" --quick --out "$out/$l" >"$out/$l.log" 2>&1 || { echo "lesson$l --quick failed: see $out/$l.log" >&2; exit 1; }
  [[ -f $out/$l/page_models.js ]] || { echo "lesson$l wrote no page_models.js" >&2; exit 1; }
done
echo "quick runs of lessons 05, 10 and 11 in $out"
