#!/bin/sh
# The README's "Your own model" export snippet, run as written: extract the
# python block after <!-- own-model-export -->, run it with /usr/bin/python3
# (skipped, exit 77, without torch), then check xbar reads its metadata (no
# warning) and that the metadata-free copy warns and is fixed by flags.
# usage: readme_own_model.sh XBAR SOURCE_DIR
set -eu
xbar=$1
src=$2
/usr/bin/python3 -c 'import torch, onnx' 2>/dev/null || { echo "skipped: /usr/bin/python3 has no torch/onnx"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk '/<!-- own-model-export -->/ {f = 1; next} f && /^```python/ {p = 1; next} p && /^```/ {exit} p' \
    "$src/README.md" > "$dir/export.py"
test -s "$dir/export.py"
cd "$dir"
/usr/bin/python3 export.py 2> py.err || { cat py.err; exit 1; }
"$xbar" meta my_model.onnx > meta.txt
grep -qx 'xbar.mean=0.1307' meta.txt
data="$src/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
"$xbar" run my_model.onnx --data "$data" --limit 50 --calib 20 --arch isaac > run.txt 2> run.err
if grep -q warning run.err; then cat run.err; exit 1; fi
grep -q '^analog' run.txt
"$xbar" meta my_model.onnx --unset xbar.mean --unset xbar.std -o bare.onnx
"$xbar" run bare.onnx --data "$data" --limit 50 --mode float > /dev/null 2> bare.err
grep -q 'warning: .*assuming mean 0, std 1' bare.err
"$xbar" run bare.onnx --data "$data" --limit 50 --mode float --mean 0.1307 --std 0.3081 \
    > /dev/null 2> flags.err
if grep -q warning flags.err; then cat flags.err; exit 1; fi
echo "README export snippet: ok"
