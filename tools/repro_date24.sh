#!/bin/sh
# Regenerates the DATE'24 ADC co-design table of docs/REPRODUCTION.md: ADC
# energy against plain 8-bit SAR (ISAAC's, `--arch isaac`) with each
# technique on and off, on LeNet-5 (MNIST), ResNet-20 and VGG-small
# (CIFAR-10), on the same images per network.
#
#   tools/repro_date24.sh [OUTDIR] [LENET_IMAGES] [RESNET_IMAGES] [VGG_IMAGES]
#
# Defaults: OUTDIR repro_date24/, 1000, 100 and 50 images (the data-dependent
# configurations simulate every conversion, about 1 image/s on ResNet-20 on
# two loaded cores).  Needs build/xbar and XBAR_DATA (datasets/fetch.sh).
# Writes OUTDIR/<model>.csv (xbar sweep) and prints the Markdown table.
set -eu
out=${1:-repro_date24}
nl=${2:-1000}
nr=${3:-100}
nv=${4:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
xbar=${XBAR_BIN:-$here/build/xbar}
mkdir -p "$out"
run() { # model data limit
    "$xbar" sweep "$here/models/$1.onnx" --data "$2" --limit "$3" --arch isaac \
        --vary adc.skip_cycles=false,static,column,data --vary adc.quantizer=uniform,nonuniform \
        --csv "$out/$1.csv" >&2
}
run lenet5_mnist mnist "$nl"
run resnet20_cifar10 cifar10 "$nr"
run vgg_small_cifar10 cifar10 "$nv"
/usr/bin/python3 - "$out" <<'PY'
import csv, sys, os
out = sys.argv[1]
print("| network (images) | adc.skip_cycles | adc.quantizer | analog top-1 | vs plain SAR (points) | ADC energy per inference | ADC energy ratio (plain / this) |")
print("|---|---|---|---|---|---|---|")
for m in ("lenet5_mnist", "resnet20_cifar10", "vgg_small_cifar10"):
    p = os.path.join(out, m + ".csv")
    if not os.path.exists(p):
        continue
    rows = [r for r in csv.DictReader(l for l in open(p) if not l.startswith("#"))]
    base = [r for r in rows if r["adc.skip_cycles"] == "false" and r["adc.quantizer"] == "uniform"][0]
    b_acc, b_adc = float(base["analog_accuracy"]), float(base["adc_energy_pj"])
    for r in rows:
        acc, adc = float(r["analog_accuracy"]), float(r["adc_energy_pj"])
        print("| %s (%s) | %s | %s | %.2f%% | %+.2f | %.1f nJ | %.2fx |" % (
            m, r["images"], r["adc.skip_cycles"], r["adc.quantizer"], 100 * acc,
            100 * (acc - b_acc), adc / 1e3, b_adc / adc))
PY
