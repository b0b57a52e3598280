#!/usr/bin/env bash
# gui-smoke.sh: the real climxai window under a virtual X server. It builds bin/climxai, writes
# 4 years of synthetic 2° SST, starts `climxai gui` on the random-weight 2° reference DenseNet
# (attribution/testdata/random2deg.toml) under Xvfb, waits for the window and the default cell's
# explanation, clicks a map cell with xdotool, waits for that cell's explanation, drags a box on
# the map and waits for the box's explanation, takes a screenshot and checks that the map and the
# lag chart have content (ImageMagick's standard deviation of each region above a small
# threshold), then presses Ctrl+Shift+C and checks that the clipboard holds a PNG image.
# Exit 0 on success, 1 on failure.
#
# Needs (Debian): xvfb xauth xdotool imagemagick xclip, plus ONNX Runtime as for the tests.
# Keeps the screenshot in $GUI_SMOKE_OUT (default bin/gui-smoke.png) for a look.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${GUI_SMOKE_OUT:-bin/gui-smoke.png}
for tool in xvfb-run xdotool import convert xclip; do
	command -v "$tool" >/dev/null || { echo "gui-smoke: $tool missing (apt-get install xvfb xauth xdotool imagemagick xclip)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
nice -n 15 go build -o bin/climxai .
./bin/climxai synth --out "$tmp/sst.nc" --years 4 --grid 2 --seed 7 >/dev/null 2>&1

# The part that runs inside the virtual display.
cat >"$tmp/inner.sh" <<'EOF'
set -euo pipefail
tmp=$1 out=$2
export LANG=en_US.UTF-8
./bin/climxai gui --card attribution/testdata/random2deg.toml --data "$tmp/sst.nc" --threads 2 \
	>"$tmp/gui.out" 2>"$tmp/gui.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

fail() { echo "gui-smoke: $*" >&2; sed 's/^/  gui: /' "$tmp/gui.log" >&2; exit 1; }

# waitlines N: wait until the log holds N "explained" lines (60 s at most).
waitlines() {
	for _ in $(seq 600); do
		[ "$(grep -c '^climxai gui: explained' "$tmp/gui.log" || true)" -ge "$1" ] && return 0
		grep -q 'failed' "$tmp/gui.log" && fail "the window reported a failure"
		kill -0 $pid 2>/dev/null || fail "climxai exited"
		sleep 0.1
	done
	fail "no explanation #$1 within 60 s"
}

wid=$(timeout 30 xdotool search --sync --name '^climxai' | head -1) || fail "no climxai window within 30 s"
waitlines 1
eval "$(xdotool getwindowgeometry --shell "$wid")" # X Y WIDTH HEIGHT
# A cell in the open North Atlantic: the map fills the left two thirds below the controls.
cx=$((WIDTH * 40 / 100)) cy=$((HEIGHT * 50 / 100))
xdotool mousemove --window "$wid" "$cx" "$cy" click 1
waitlines 2
# A drag over a few cells picks a box target (the area-weighted mean of its ocean cells).
xdotool mousemove --window "$wid" "$((cx - 40))" "$((cy - 30))" mousedown 1
for step in 1 2 3 4; do
	xdotool mousemove --window "$wid" "$((cx - 40 + 20 * step))" "$((cy - 30 + 15 * step))"
	sleep 0.05
done
xdotool mouseup 1
waitlines 3
grep -q '^climxai gui: explained: .* box ' "$tmp/gui.log" || fail "the dragged box was not explained"
sleep 0.5 # let the frame with the new heatmap reach the screen
import -window root "$out"

# Content checks: whole screen, the map region and the chart region of the window.
sd() { convert "$out" "$@" -format '%[fx:standard_deviation]' info:; }
all=$(sd)
map=$(sd -crop "$((WIDTH * 50 / 100))x$((HEIGHT * 55 / 100))+$((X + WIDTH * 8 / 100))+$((Y + HEIGHT * 20 / 100))")
chart=$(sd -crop "$((WIDTH * 25 / 100))x$((HEIGHT * 50 / 100))+$((X + WIDTH * 72 / 100))+$((Y + HEIGHT * 20 / 100))")
echo "gui-smoke: window ${WIDTH}x${HEIGHT} at $X,$Y; clicked ($cx, $cy); standard deviation: screen $all, map $map, chart $chart" >&2
grep '^climxai gui: explained' "$tmp/gui.log" | sed 's/^/gui-smoke: /' >&2
ok=1
for v in "screen $all" "map $map" "chart $chart"; do
	set -- $v
	awk -v s="$2" 'BEGIN { exit !(s > 0.02) }' || { echo "gui-smoke: the $1 looks blank (standard deviation $2)" >&2; ok=0; }
done
[ $ok = 1 ] || fail "blank screenshot regions (see $out)"

# Ctrl+Shift+C copies the figure to the clipboard as a PNG image (through xclip).
xdotool windowfocus --sync "$wid" 2>/dev/null || true
xdotool key --clearmodifiers ctrl+shift+c || fail "xdotool key failed"
for _ in $(seq 300); do
	grep -q '^climxai gui: copied' "$tmp/gui.log" && break
	sleep 0.1
done
grep -q '^climxai gui: copied' "$tmp/gui.log" || fail "Ctrl+Shift+C did not copy the figure within 30 s"
magic=$(timeout 10 xclip -selection clipboard -t image/png -o 2>&1 | head -c 4 | od -An -tx1 | tr -d ' ' || true)
[ "$magic" = 89504e47 ] || fail "the clipboard holds no PNG image (first bytes: $magic)"
echo "gui-smoke: the clipboard holds the figure as image/png" >&2
EOF

status=0
xvfb-run -a -s "-screen 0 1280x800x24" bash "$tmp/inner.sh" "$tmp" "$out" || status=1
echo "gui-smoke: $([ $status = 0 ] && echo ok || echo FAILED) in $(($(date +%s) - start)) s; screenshot $out" >&2
exit $status
