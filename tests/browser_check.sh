#!/usr/bin/env bash
# The course page as a person opens it: headless Chromium (Debian's `chromium`) loads index.html from disk, runs its
# scripts, and the DOM it leaves must show "models check: ok" (the JavaScript models against the C++ outputs) and
# every panel drawn (data-drawn="yes"), with alt text on every image and a label on every slider and every canvas
# (but an aria-hidden overlay). Then the same with lesson 11 missing (the drawing panel stays, its anomaly part
# replaced by a sentence naming the command) and with lesson 10 missing (its two panels replaced by sentences).
# Prints the page's size and time to interactive.
#   bash tests/browser_check.sh BUILD_DIR WORK_DIR
# WORK_DIR/<lesson>/ must hold runs of lessons 05, 10 and 11 (CTest's web_quick_runs makes them with --quick); any
# that is missing is run here with --quick.
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
browser=$(command -v chromium || true)
if [[ -z $browser ]]; then
  echo "browser_check: chromium not found: install Debian's package chromium (bash scripts/setup.sh does)" >&2
  exit 1
fi
lessons=(05_denoising 10_variational 11_anomaly_detection)
for l in "${lessons[@]}"; do
  if [[ ! -f $work/$l/page_models.js ]]; then
    echo "running lesson$l --quick"
    "$build/lessons/lesson$l" --quick --out "$work/$l" >"$work/$l.log" 2>&1 || { echo "browser_check: lesson$l failed, see $work/$l.log" >&2; exit 1; }
  fi
done

status=0
fail() {
  echo "browser_check: $*" >&2
  status=1
}

# Writes the course page of OUT_ROOT, opens it in Chromium and leaves the DOM after the scripts ran in OUT_ROOT/dom.html.
open_page() {
  "$build/lessons/course_page" "$1" >/dev/null
  "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/chromium-profile" --virtual-time-budget=10000 \
    --dump-dom "file://$1/index.html" >"$1/dom.html" 2>"$1/chromium.log" || fail "chromium failed on $1 (see $1/chromium.log)"
}

# Checks that hold on every page: the models check, no failed panel, labels and alt text.
common_checks() {
  local dom=$1/dom.html
  grep -q "models check: ok" "$dom" || fail "$1: no 'models check: ok' line: $(grep -o 'models check:[^<]*' "$dom" || echo 'none')"
  ! grep -q 'data-drawn="\(no\|error\)"' "$dom" || fail "$1: a panel did not draw: $(grep -o 'id="ae-[a-z]*" data-drawn="[a-z]*"' "$dom" | tr '\n' ' ')"
  ! grep -q 'This panel failed' "$dom" || fail "$1: $(grep -o 'This panel failed[^<]*' "$dom")"
  grep -q 'Panels interactive [0-9]* ms' "$dom" || fail "$1: the page did not finish its set-up"
  local bad
  bad=$(grep -o '<img [^>]*>' "$dom" | grep -vc ' alt="[^"]' || true)
  [[ $bad == 0 ]] || fail "$1: $bad images without alt text"
  bad=$(grep -o '<canvas [^>]*>' "$dom" | grep -v 'aria-hidden="true"' | grep -vc 'aria-label="[^"]' || true)
  [[ $bad == 0 ]] || fail "$1: $bad canvases without aria-label (and not aria-hidden, as a decorative overlay is)"
  bad=$(grep -o '<input [^>]*>' "$dom" | grep -vc 'aria-label="[^"]' || true)
  [[ $bad == 0 ]] || fail "$1: $bad inputs without aria-label"
}

drawn() {  # DOM PANEL_ID
  grep -q "id=\"$2\" data-drawn=\"yes\"" "$1" || fail "$1: panel $2 not drawn"
}

# 1. All three lessons.
open_page "$work"
common_checks "$work"
for p in ae-latent ae-interpolation ae-draw; do drawn "$work/dom.html" "$p"; done
grep -q 'class="ae-verdict ae-\(good\|bad\)"' "$work/dom.html" || fail "the drawing panel shows no verdict against lesson 11's threshold"
echo "all lessons: $(grep -o 'models check: [^<]*' "$work/dom.html")"
echo "all lessons: $(grep -o 'Panels interactive [^<]*' "$work/dom.html")"
size=$(cd "$work" && { echo index.html; ls web/*; ls ./*/page_models.js; grep -o '<img src="[^"]*"' index.html | sed 's/<img src="//; s/"$//'; } |
  sort -u | xargs du -cb | tail -1 | cut -f1)
models=$(cd "$work" && du -cb web/* ./*/page_models.js | tail -1 | cut -f1)
echo "page size: $size bytes (index.html, its scripts and every image it shows); scripts and models: $models bytes"

# The panels used as a person would (tests/web/interact.js: pointer, keys, sliders, buttons) on a copy of the page.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cp "$here/web/interact.js" "$work/interact.js"
sed 's#<script src="web/panels.js"></script>#&\n<script src="interact.js"></script>#' "$work/index.html" >"$work/interact.html"
"$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/chromium-profile" --virtual-time-budget=10000 \
  --dump-dom "file://$work/interact.html" >"$work/interact_dom.html" 2>"$work/chromium.log" || fail "chromium failed on interact.html"
interaction=$(sed -n '/<pre id="ae-interaction">/,/<\/pre>/p' "$work/interact_dom.html" | sed 's/<[^>]*>//g; s/&gt;/>/g; s/&lt;/</g; s/&amp;/\&/g')
grep -q '^interaction: ok' <<<"$interaction" || fail "the panels did not respond as expected:"$'\n'"${interaction:-(no result: the script did not run)}"
echo "$interaction" | grep -v '^passed: '

# 2. Lesson 11 missing: the drawing panel without its anomaly part, and the sentence that names the command.
no11=$work/without_11
rm -rf "$no11" && mkdir -p "$no11"
ln -s "$work/05_denoising" "$work/10_variational" "$no11/"
open_page "$no11"
common_checks "$no11"
for p in ae-latent ae-interpolation ae-draw; do drawn "$no11/dom.html" "$p"; done
grep -q 'once lesson 11 has run: <code>build/lessons/lesson11_anomaly_detection</code>' "$no11/dom.html" ||
  fail "without lesson 11: no sentence naming the command"
! grep -q 'ae-verdict' "$no11/dom.html" || fail "without lesson 11: the drawing panel still shows a verdict"

# 3. Lesson 10 missing: its two panels left out, a sentence for each.
no10=$work/without_10
rm -rf "$no10" && mkdir -p "$no10"
ln -s "$work/05_denoising" "$work/11_anomaly_detection" "$no10/"
open_page "$no10"
common_checks "$no10"
drawn "$no10/dom.html" ae-draw
! grep -q 'id="ae-latent"\|id="ae-interpolation"' "$no10/dom.html" || fail "without lesson 10: its panels are on the page"
[[ $(grep -o 'not available yet; run <code>build/lessons/lesson10_variational</code>' "$no10/dom.html" | wc -l) == 2 ]] ||
  fail "without lesson 10: the two sentences naming the command are missing"

[[ $status == 0 ]] && echo "browser_check: ok"
exit $status
