#!/bin/sh
# LRMP reproduction (docs/REPRODUCTION.md, "LRMP"): for ResNet-20, VGG-small
# and LeNet-5 on the isaac arch, at the tile count of the unreplicated
# mapping: the pipeline interval without replication, with `balance` and
# `milp` replication alone, and after `xbar optimize --max-loss 1.0`
# (per-layer precision + milp replication), then the tuned arch's top-1 on
# the full test set against int8 at 8 bits.
#
# Validation images are never test images: MNIST uses its training file
# (train-images-idx3-ubyte.gz beside the test file, first 1000 images;
# calibration the next 100); CIFAR-10 has only JPEG training images here
# (the shared cifar10-jpg.tar.gz), so the first 120 files by name of each
# class of train/ are extracted into a folder (read round robin by class:
# validation = the first 1000, 100 per class; calibration the next 100).
#
# usage: XBAR_DATA=/work/data tools/repro_lrmp.sh [OUTDIR]   (about 1 h on 2 busy cores)
# env: XBAR (binary, default build/xbar), CIFAR_JPG (the tar.gz), MODELS
# (subset, default "resnet20 vgg_small lenet5").
set -eu
cd "$(dirname "$0")/.."
XBAR=${XBAR:-build/xbar}
OUT=${1:-repro_lrmp}
SHARED=${XBAR_SHARED:-/work/shared}
CIFAR_JPG=${CIFAR_JPG:-$SHARED/datasets/cifar10/cifar10-jpg.tar.gz}
MODELS=${MODELS:-"resnet20 vgg_small lenet5"}
mkdir -p "$OUT"

cifar_val() {
    d="$OUT/cifar-val"
    [ -d "$d" ] && { echo "$d"; return; }
    tmp="$OUT/cifar-train.tmp"
    mkdir -p "$tmp"
    tar xzf "$CIFAR_JPG" -C "$tmp" train
    for c in "$tmp"/train/*; do
        n=$(basename "$c")
        mkdir -p "$d/$n"
        ls "$c" | sort | head -120 | while read -r f; do cp "$c/$f" "$d/$n/"; done
    done
    rm -rf "$tmp"
    echo "$d"
}

field() { sed -n "s/^$1 *//p" "$2" | head -1; }

echo "| model | tiles | interval none (us) | balance (us) | milp (us) | tuned (us) | throughput | latency | int8 8-bit top-1 | tuned top-1 (test) | layer_weight_bits | layer_input_bits |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for m in $MODELS; do
    case $m in
    lenet5) model=models/lenet5_mnist.onnx; data=mnist; val="--data mnist" ;;
    *) model=models/${m}_cifar10.onnx; data=cifar10; val="--val-data $(cifar_val)" ;;
    esac
    tiles=$("$XBAR" compile "$model" --arch isaac | sed -n 's/.* \([0-9]*\) of [0-9]* tiles$/\1/p')
    iv() { "$XBAR" compile "$model" --arch isaac --set mapping.replication="$1" \
            --set mapping.budget_tiles="$tiles" | sed -n 's/.*one image every \([0-9.]*\) us.*/\1/p'; }
    none=$(iv none); bal=$(iv balance); milp=$(iv milp)
    # shellcheck disable=SC2086
    "$XBAR" optimize "$model" $val --arch isaac --budget-tiles "$tiles" --max-loss 1.0 --x-choices 6,5,4 \
        --out "$OUT/${m}_tuned.json" >"$OUT/${m}_optimize.txt" 2>"$OUT/${m}_optimize.log"
    "$XBAR" run "$model" --data "$data" --arch "$OUT/${m}_tuned.json" >"$OUT/${m}_test.txt" 2>&1
    "$XBAR" run "$model" --data "$data" --mode int8 >"$OUT/${m}_int8.txt" 2>&1
    tuned=$(sed -n 's/.*one image every \([0-9.]*\) us.*/\1/p' "$OUT/${m}_test.txt" | head -1)
    thr=$(sed -n 's/^throughput \([0-9.]*x\), latency \([0-9.]*x\).*/\1/p' "$OUT/${m}_optimize.txt")
    lat=$(sed -n 's/^throughput \([0-9.]*x\), latency \([0-9.]*x\).*/\2/p' "$OUT/${m}_optimize.txt")
    i8=$(awk '$1 == "int8" && $2 ~ /%$/ {print $2 " " $3}' "$OUT/${m}_int8.txt")
    an=$(awk '$1 == "analog" && $2 ~ /%$/ {print $2 " " $3}' "$OUT/${m}_test.txt")
    wb=$(field layer_weight_bits "$OUT/${m}_optimize.txt")
    xb=$(field layer_input_bits "$OUT/${m}_optimize.txt")
    echo "| $m | $tiles | $none | $bal | $milp | $tuned | $thr | $lat | $i8 | $an | $wb | $xb |"
done
