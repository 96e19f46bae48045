#!/usr/bin/python3
"""Turn the CSV of `xbar sweep` into the Markdown table used in docs/BACKEND.md.

Usage: xbar sweep ... --csv out.csv && tools/sweep_table.py out.csv
Columns: the varied fields (every column before `images`), analog and int8 top-1, saturation
rate, energy per inference in nJ and the ADC share of energy.
"""
import csv
import sys


def pct(v):
    return "%.2f%%" % (100 * float(v))


def sig(v):
    return "%.3g" % float(v)


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.exit(__doc__)
    with open(sys.argv[1], newline="") as f:
        # leading '#' lines are the sweep's provenance (and shard tags)
        rows = list(csv.DictReader(l for l in f if not l.startswith("#")))
    if not rows:
        sys.exit("%s: no rows" % sys.argv[1])
    keys = list(rows[0].keys())
    varied = keys[:keys.index("images")]
    head = varied + ["analog top-1", "int8 top-1", "saturation rate", "energy/inference (nJ)", "ADC share"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r[k] for k in varied]
        cells += [pct(r["analog_accuracy"]), pct(r["int8_accuracy"]), sig(r["saturation_rate"]),
                  "%.1f" % (float(r["energy_pj_per_inference"]) / 1000), "%.1f%%" % (100 * float(r["adc_energy_share"]))]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
