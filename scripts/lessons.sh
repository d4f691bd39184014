#!/usr/bin/env bash
# Set up everything (packages, data, build), then run every lesson; extra flags (e.g. --quick) go to each lesson.
# Writes out/index.html, the course page (each lesson also has out/<lesson>/index.html and README.md).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
shopt -s nullglob
lessons=(build/lessons/lesson[0-9][0-9]_*)
if ((${#lessons[@]} == 0)); then
  echo "lessons: none built yet."
  exit 0
fi
echo "lessons available: ${lessons[*]##*/}"
status=0
for l in "${lessons[@]}"; do
  echo
  echo "== ${l##*/}"
  "$l" "$@" || { echo "lessons: ${l##*/} failed" >&2; status=1; }
done

# out/index.html: the course page, every lesson that has run with its figures, metrics and references.
build/lessons/course_page out || status=1
echo "lessons: open out/index.html in a browser (it reads from disk, no server needed)"
exit $status
