#!/usr/bin/env bash
# Set up everything (packages, data, build), then run every lesson; extra flags go to each lesson.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
shopt -s nullglob
lessons=(build/lessons/lesson[0-9][0-9]_*)
if ((${#lessons[@]} == 0)); then
  echo "lessons: none built yet. The fourteen planned lessons are listed in README.md (see 'Lessons')."
  exit 0
fi
echo "lessons available: ${lessons[*]##*/}"
status=0
for l in "${lessons[@]}"; do
  echo "== ${l##*/}"
  "$l" "$@" || { echo "lessons: ${l##*/} failed" >&2; status=1; }
done
exit $status
