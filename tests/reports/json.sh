#!/bin/sh
# Scriptable output: with --json - stdout is exactly one JSON document (the
# text report goes to stderr) for run and compile, and it carries the
# provenance block; xbar --version names the commit; a sweep CSV gives
# plots and an HTML report; plots come from a saved JSON too.
# Usage: json.sh XBAR SOURCE_DIR WORK_DIR
set -u
XBAR=$1 SRC=$2 W=$3
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
rm -rf "$W" && mkdir -p "$W" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
DATA="$SRC/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
MODEL="$SRC/models/lenet5_mnist.onnx"

check_json() { # file what keys...
    f=$1 what=$2
    shift 2
    "$PY" - "$f" "$MODEL" "$@" <<'PYEOF' || fail "$what: stdout is not the JSON report"
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
p = d["provenance"]
for k in ("xbar_version", "git_commit", "model", "model_sha256", "command_line", "date_utc"):
    assert p.get(k), k
assert p["model_sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest(), "sha256"
for k in sys.argv[3:]:
    assert k in d or k in p, k
PYEOF
}

"$XBAR" run "$MODEL" --data "$DATA" --limit 30 --arch isaac --set adc.bits=3 --diagnose-images 10 \
    --progress none --json - >"$W/run.json" 2>"$W/run.txt" || { cat "$W/run.txt"; fail "xbar run"; }
check_json "$W/run.json" run float int8 analog layers diagnosis arch threads data
grep -q '^analog ' "$W/run.txt" || fail "the text report did not go to stderr"
grep -q 'diagnosis: analog top-1' "$W/run.txt" || fail "no diagnosis in the text report"
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1]))['diagnosis']; assert d['triggered'] and d['layers'][0]['accuracy_exact'] >= 0" "$W/run.json" ||
    fail "diagnosis fields"

"$XBAR" compile "$MODEL" --arch isaac --json - --plot "$W/compile-plots" >"$W/compile.json" 2>"$W/compile.txt" ||
    { cat "$W/compile.txt"; fail "xbar compile"; }
check_json "$W/compile.json" compile cost_layers arch
[ -s "$W/compile-plots/crossbar_heatmap.svg" ] || fail "compile --plot: no heatmap"

"$XBAR" --version | grep -q 'commit ' || fail "--version names no commit"

"$XBAR" plot "$W/run.json" -o "$W/plots" 2>/dev/null || fail "xbar plot FILE.json"
for p in accuracy energy_layers adc_histograms saturation adc_bits crossbar_heatmap diagnosis_layers; do
    "$PY" -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$W/plots/$p.svg" || fail "$p.svg is not well-formed XML"
done

"$XBAR" sweep "$MODEL" --data "$DATA" --limit 20 --arch isaac --vary adc.bits=3,6 --csv "$W/sweep.csv" 2>/dev/null ||
    fail "xbar sweep"
"$XBAR" plot "$W/sweep.csv" -o "$W/plots" 2>/dev/null && [ -s "$W/plots/sweep_pareto.svg" ] || fail "xbar plot FILE.csv"
"$XBAR" report "$W/sweep.csv" -o "$W/sweep.html" && grep -q '<svg' "$W/sweep.html" || fail "xbar report FILE.csv"
grep -q http "$W/sweep.html" && fail "sweep report contains an http URL"
"$XBAR" classify "$MODEL" "$SRC"/datasets/samples/mnist_png/3/*.png --json - >"$W/classify.json" 2>"$W/classify.txt" ||
    fail "xbar classify --json -"
check_json "$W/classify.json" classify images

# saved reports of the wrong shape or malformed: handled, never a crash
printf '{"model":"x","diagnosis":{"triggered":true,"layers":{"a":1},"responsible":[1]},"layers":[{"name":3,"crossbars":-5,"energy_pj":[1,2]},{"crossbars":1e9}]}' >"$W/odd.json"
"$XBAR" report "$W/odd.json" -o "$W/odd.html" && "$XBAR" plot "$W/odd.json" -o "$W/odd" 2>/dev/null || fail "odd JSON"
echo '{"model": [' >"$W/bad.json"
"$XBAR" plot "$W/bad.json" -o "$W/odd" 2>"$W/bad.txt"
[ $? -eq 1 ] && grep -q 'malformed JSON' "$W/bad.txt" || fail "malformed JSON: $(cat "$W/bad.txt")"
printf 'a,b\n1,2,3\n' >"$W/bad.csv"
"$XBAR" report "$W/bad.csv" -o "$W/bad.html" 2>"$W/badcsv.txt"
[ $? -eq 1 ] && [ ! -e "$W/bad.html" ] || fail "bad CSV: $(cat "$W/badcsv.txt")"

# small cuts: --set without --arch under --mode all is a usage error; a
# mapping that does not fit exits 1 with its reports written
"$XBAR" run "$MODEL" --data "$DATA" --limit 5 --set adc.bits=4 >/dev/null 2>"$W/set.txt"
[ $? -eq 2 ] && grep -q -- '--set needs --arch' "$W/set.txt" || fail "--set without --arch: $(cat "$W/set.txt")"
"$XBAR" compile "$SRC/models/resnet20_cifar10.onnx" --arch isaac --set hierarchy.tiles=1 --json "$W/nf.json" \
    >/dev/null 2>"$W/nf.txt"
[ $? -eq 1 ] && grep -q 'DOES NOT FIT' "$W/nf.txt" && [ -s "$W/nf.json" ] || fail "DOES NOT FIT: $(cat "$W/nf.txt")"
echo "OK"
