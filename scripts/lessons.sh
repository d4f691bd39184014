#!/usr/bin/env bash
# Set up everything (packages, data, build), then run every lesson; extra flags (e.g. --quick) go to each lesson.
# Writes out/README.md, linking every lesson's folder with one thumbnail each.
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

# out/README.md: one entry per lesson folder, with the first figure of its README as the thumbnail.
mkdir -p out
{
  echo "# Lesson outputs"
  echo
  echo "Made by \`bash scripts/lessons.sh\`; each folder has its figures, CSVs, metrics.json and a README."
  echo
  for d in out/[0-9][0-9]_*/; do
    name=$(basename "$d")
    [ -f "$d/README.md" ] || continue
    title=$(head -n 1 "$d/README.md" | sed 's/^# //')
    thumb=$(grep -o '!\[[^]]*\]([^)]*)' "$d/README.md" | head -n 1 | sed 's/.*(\(.*\))/\1/')
    echo "## [$title]($name/README.md)"
    echo
    [ -n "$thumb" ] && echo "[<img src=\"$name/$thumb\" width=\"420\">]($name/README.md)" && echo
  done
} > out/README.md
echo
echo "lessons: wrote out/README.md"
exit $status
