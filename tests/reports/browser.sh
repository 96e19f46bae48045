#!/bin/sh
# The HTML report in a real browser (headless Chromium): it renders without
# console errors, the page requests no http(s) URL, and the screenshot is
# not blank.  A control page with a console.error and an <img> from the
# network, rendered the same way at the same time, must be caught by the same
# checks, so the test shows its detectors work.
# Usage: browser.sh XBAR SOURCE_DIR WORK_DIR.  Exit 77 (skipped) without chromium.
set -u
XBAR=$1 SRC=$2 W=$3
CHROMIUM=${XBAR_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium not installed (Debian package chromium); the browser check did not run"
    exit 77
fi
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
rm -rf "$W" && mkdir -p "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

# A collapsing configuration, so the report has the diagnosis too
# (XBAR_REPORT_HTML=FILE checks that file instead).
if [ -n "${XBAR_REPORT_HTML:-}" ]; then cp "$XBAR_REPORT_HTML" "$W/report.html" || exit 1; else
"$XBAR" run "$SRC/models/lenet5_mnist.onnx" --data "$SRC/datasets/samples/mnist/t10k-images-idx3-ubyte.gz" \
    --limit 40 --arch isaac --set adc.bits=3 --diagnose-images 20 --progress none \
    --html "$W/report.html" >"$W/run.txt" 2>&1 || { cat "$W/run.txt"; fail "xbar run --html"; }
fi
grep -q 'http' "$W/report.html" && fail "the report contains an http URL: $(grep -o 'http[^ "]*' "$W/report.html" | head -3)"
nsvg=$(grep -o '<svg' "$W/report.html" | wc -l)
[ "$nsvg" -ge 6 ] || fail "$nsvg inline SVG plots, expected at least 6"
grep -q 'id="diagnosis"' "$W/report.html" || fail "no diagnosis section"

printf '<!DOCTYPE html><html><body><p>control</p><script>console.error("xbar-control-error")</script><img src="http://control.invalid/x.png"></body></html>\n' >"$W/control.html"

# Browser housekeeping requests (update checks, sign-in probes, dictionaries)
# go to these hosts whatever the page is; anything else was asked by the page.
HOUSEKEEPING='//([a-z0-9.-]*\.)?(google\.com|googleapis\.com|gvt1\.com)/'
render() { # name
    timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
        --enable-logging=stderr --v=0 --host-resolver-rules="MAP * ~NOTFOUND" \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --no-first-run --disable-extensions --no-pings \
        --disable-features=OptimizationHints,OptimizationGuideModelDownloading,Translate,MediaRouter \
        --user-data-dir="$W/profile-$1" --log-net-log="$W/$1.netlog.json" \
        --window-size=1000,1600 --screenshot="$W/$1.png" "file://$W/$1.html" \
        >"$W/$1.out" 2>"$W/$1.log"
}
render report & p1=$!
render control & p2=$!
wait $p1 || fail "chromium failed on the report: $(tail -3 "$W/report.log")"
wait $p2 || fail "chromium failed on the control page: $(tail -3 "$W/control.log")"

console_errors() { grep ':CONSOLE' "$W/$1.log"; }
page_requests() { grep -o '"url":"https\{0,1\}://[^"]*"' "$W/$1.netlog.json" | grep -Ev "$HOUSEKEEPING" | sort -u; }

# the detectors see the control's faults
console_errors control | grep -q xbar-control-error || fail "console detector missed the control's error"
page_requests control | grep -q control.invalid || fail "request detector missed the control's http request"
# the report has none
if console_errors report; then fail "console messages while rendering the report"; fi
req=$(page_requests report)
[ -z "$req" ] || fail "the report requested: $req"
set -- $("$PY" "$SRC/tests/reports/png_stats.py" "$W/report.png") || fail "cannot decode the screenshot"
echo "screenshot $1x$2: non-white share $3, $4 distinct colours (sampled)"
"$PY" -c "import sys; sys.exit(0 if float('$3') > 0.02 and int('$4') >= 8 else 1)" ||
    fail "the screenshot looks blank"
echo "OK: report rendered in $CHROMIUM without console errors or network requests ($nsvg SVG plots)"
