#!/bin/sh
# Reproduce the ORSS'23 40 nm RRAM chip figures (docs/REPRODUCTION.md, "ORSS'23"):
#   1. the W1A2 LeNet-5 run as it is by xbar (int8 = the integer model) and by ONNX Runtime, full MNIST test set;
#   2. the same model on ISAAC crossbars with binary weights (weight_bits=1);
#   3. rows stored per layer with and without row rename (xbar compile --json, field rows_stored);
#   4. accuracy under read noise: no input control, input control, input control + row reorder (3 seeds).
# Usage: XBAR_DATA=/work/data sh tools/repro_orss.sh [OUTDIR]   (LIMIT=N to evaluate only the first N images)
set -e
cd "$(dirname "$0")/.."
OUT=${1:-build/repro_orss}
mkdir -p "$OUT"
X=./build/xbar
M=${MODEL:-models/lenet5_mnist_w1a2.onnx}
LIM=${LIMIT:+--limit $LIMIT}
echo "== 1. xbar (int8 = the model as it is) and ONNX Runtime, full test set"
$X run $M --data mnist $LIM --mode int8 --json "$OUT/int8.json" 2>/dev/null | grep -E '^int8 '
# ONNX Runtime with its default graph optimizations, then with them disabled (the recorded result; models/README.md
# "ORT optimizations and the W1A2 model" says why)
NODE_PATH=${NODE_PATH:-/work/main/tools/node_modules} node tools/ort_check.js lenet5_mnist_w1a2 | grep -E 'lenet5_mnist_w1a2' || true
NODE_PATH=${NODE_PATH:-/work/main/tools/node_modules} XBAR_ORT_OPT=disabled node tools/ort_check.js lenet5_mnist_w1a2 | grep -E 'lenet5_mnist_w1a2'
echo "== 2. ISAAC crossbars, binary weights on one offset cell (weight_bits=1)"
$X run $M --data mnist $LIM --arch isaac --set weight_bits=1 2>/dev/null | grep -E '^(int8|analog) '
echo "== 3. rows stored per layer (weight_bits=1), without and with row rename"
for rr in false true; do
  $X compile $M --arch isaac --set weight_bits=1 --set mapping.row_rename=$rr --json "$OUT/compile_rename_$rr.json" >/dev/null
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/compile_rename_false.json"))["layers"]
b = json.load(open(sys.argv[1] + "/compile_rename_true.json"))["layers"]
print("layer   K  rows_stored(no rename)  rows_stored(rename)  saved  crossbars(no/yes)  input_slices(no/yes)")
for x, y in zip(a, b):
    print("%-6s %4d %10d %22d %9.2f%% %9d/%d %12d/%d" % (x["name"], x["K"], x["rows_stored"], y["rows_stored"],
          100.0 * (x["rows_stored"] - y["rows_stored"]) / x["rows_stored"], x["crossbars"], y["crossbars"],
          x["input_slices"], y["input_slices"]))
PY
echo "== 3b. the same with 2-bit inputs streamed (input_bits=2): summed codes need more input cycles"
for rr in false true; do
  $X compile $M --arch isaac --set weight_bits=1 --set input_bits=2 --set mapping.row_rename=$rr \
    --json "$OUT/compile_in2_rename_$rr.json" >/dev/null
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
for rr in ("false", "true"):
    d = json.load(open(sys.argv[1] + "/compile_in2_rename_%s.json" % rr))
    print("row_rename=%-5s input_slices per layer %s, rows_stored %s, crossbars %d, energy %.0f pJ/inference, "
          "conversions %d" % (rr, [l["input_slices"] for l in d["layers"]], [l["rows_stored"] for l in d["layers"]],
                              d["cost_totals"]["crossbars"], d["cost_totals"]["energy_pj_per_inference"],
                              d["cost_totals"]["adc_conversions"]))
PY
echo "== 4. read noise (read_sigma ${SIGMA:=0.5} levels per conversion), 2-bit inputs, seeds 1-3"
$X sweep $M --data mnist $LIM --arch isaac --set weight_bits=1 --set input_bits=2 --set nonideal.read_sigma=$SIGMA \
  --vary mapping.input_control=false,true --vary mapping.row_reorder=false,true --vary nonideal.seed=1,2,3 \
  --csv "$OUT/noise.csv" --progress none 2>/dev/null
echo "== 5. IR drop ${IRDROP:=2e-5} (first order, data-independent), without and with row reorder"
$X sweep $M --data mnist $LIM --arch isaac --set weight_bits=1 --set input_bits=2 --set nonideal.ir_drop=$IRDROP \
  --vary mapping.input_control=true --vary mapping.row_reorder=false,true \
  --csv "$OUT/irdrop.csv" --progress none 2>/dev/null
echo "noise-free reference:"
$X run $M --data mnist $LIM --arch isaac --set weight_bits=1 --set input_bits=2 2>/dev/null | grep -E '^analog '
/usr/bin/python3 - "$OUT/noise.csv" "$OUT/irdrop.csv" <<'PY'
import csv, sys, collections
for f in sys.argv[1:]:
    rows = [r for r in csv.DictReader(l for l in open(f) if not l.startswith("#"))]
    acc = collections.defaultdict(list)
    for r in rows:
        acc[(r["mapping.input_control"], r["mapping.row_reorder"])].append((int(r["analog_correct"]), int(r["images"])))
    print(f)
    for k in sorted(acc):
        v = acc[k]
        print("  input_control=%-5s row_reorder=%-5s analog correct per seed %s mean %.2f%%" % (k[0], k[1],
              " ".join("%d/%d" % c for c in v), 100.0 * sum(c for c, _ in v) / sum(n for _, n in v)))
PY
