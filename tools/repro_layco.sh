#!/bin/sh
# LayCO (JCST'23) against the TIMELY-like baseline: docs/REPRODUCTION.md, "LayCO".
# For each network: `xbar optimize --method layco` on a validation split of the
# data (test images 5000..5499, 5000..5299 for VGG-small; never the reported ones), then `xbar run` of the
# timely preset, the untuned layco preset and the tuned file on the first LIMIT
# test images; prints one table row per run (top-1, energy, lifetime, area).
# Usage: tools/repro_layco.sh [OUTDIR] [LIMIT]   (XBAR_DATA must hold mnist, cifar10)
set -eu
out=${1:-repro_layco}
limit=${2:-1000}
xbar=${XBAR:-./build/xbar}
py=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-2}
mkdir -p "$out"
# network:data:validation images (VGG-small: 300, to bound the run time)
for net in lenet5_mnist:mnist:500 resnet20_cifar10:cifar10:500 vgg_small_cifar10:cifar10:300; do
    m=${net%%:*}
    rest=${net#*:}
    d=${rest%%:*}
    nval=${rest#*:}
    if [ ! -f "$out/${m}_tuned.json" ]; then
        "$xbar" optimize "models/$m.onnx" --data "$d" --val-offset 5000 --val-limit "$nval" \
            --method layco --arch layco --max-loss 1 --out "$out/${m}_tuned.json" \
            --threads "$threads" > "$out/${m}_optimize.txt" 2> "$out/${m}_optimize.log"
    fi
    for a in timely layco "$out/${m}_tuned.json"; do
        tag=$(basename "$a" .json)
        "$xbar" run "models/$m.onnx" --data "$d" --limit "$limit" --arch "$a" \
            --threads "$threads" --json "$out/${m}_$tag.run.json" > /dev/null 2>&1
    done
done
"$py" - "$out" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
print("| network | arch | analog top-1 | int8 top-1 | energy/inference (nJ) | vs timely | analog share | lifetime (inferences) | no swap | swap gain | area (mm2) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for m in ["lenet5_mnist", "resnet20_cifar10", "vgg_small_cifar10"]:
    base = None
    for tag in ["timely", "layco", m + "_tuned"]:
        p = os.path.join(out, f"{m}_{tag}.run.json")
        if not os.path.exists(p):
            continue
        r = json.load(open(p))
        t = r["totals"]
        e = t["energy_pj_per_inference"]
        base = base or e
        en = t.get("endurance")
        life = f'{en["lifetime_inferences"]:.3g}' if en else "-"
        nos = f'{en["lifetime_inferences_no_swap"]:.3g}' if en else "-"
        gain = f'{en["lifetime_inferences"] / en["lifetime_inferences_no_swap"]:.1f}x' if en else "-"
        a, q = r["analog"], r["int8"]
        # the terms the supply voltage scales: converters, crossbar, sub-buffers
        ep = t["energy_pj"]
        share = sum(ep[k] for k in ("adc", "dac", "crossbar", "sample_hold")) / e
        print(f'| {m} | {tag} | {100*a["accuracy"]:.2f}% ({a["correct"]}/{a["total"]}) | '
              f'{100*q["accuracy"]:.2f}% | {e/1000:.2f} | {base/e:.2f}x | {100*share:.1f}% | {life} | {nos} | {gain} | {t["area_mm2"]:.3g} |')
PY
