#!/usr/bin/python3
"""Regenerate the measured-numbers section of models/README.md from models/*.train.json and
models/ort_check_results.json (written by models/train.py and tools/ort_check.js).

    /usr/bin/python3 tools/model_card.py

Everything between the markers <!-- BEGIN MEASURED --> and <!-- END MEASURED --> is replaced; the rest of the file
is left alone.
"""
import hashlib
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
M = os.path.join(REPO, "models")
ORDER = ["lenet5_mnist", "mlp_mnist", "lenet5_fmnist", "resnet20_cifar10", "vgg_small_cifar10", "lenet5_mnist_qdq",
         "lenet5_mnist_w1a2"]


def fmt_int(n):
    return "{:,}".format(n)


def main():
    ort_path = os.path.join(M, "ort_check_results.json")
    ort = json.load(open(ort_path))["models"] if os.path.exists(ort_path) else {}
    rows, details = [], []
    for name in ORDER:
        p = os.path.join(M, name + ".train.json")
        onnx_path = os.path.join(M, name + ".onnx")
        if not os.path.exists(p) or not os.path.exists(onnx_path):
            rows.append("| `%s` | not produced yet | | | | | | |" % name)
            continue
        t = json.load(open(p))
        sha = hashlib.sha256(open(onnx_path, "rb").read()).hexdigest()
        size = os.path.getsize(onnx_path)
        o = ort.get(name)
        stale = o is not None and o.get("onnx_sha256") not in (None, sha)
        if o and o.get("status") in ("PASS", "FAIL") and "ort_correct" in o and not stale:
            ort_txt = "%.2f%% (%d/%d) %s" % (100 * o["ort_accuracy"], o["ort_correct"], o["total"], o["status"])
            diff_txt = "%.1e" % o["max_abs_logit_diff_first16"]
            if o.get("one_step_diffs"):
                diff_txt += " (%d of 160 off by exactly one int8 output step, see QDQ exception; all others %.1e)" % (
                    len(o["one_step_diffs"]), o["max_abs_diff_excluding_one_step"])
        else:
            ort_txt, diff_txt = "not checked", "-"
        partial = " **PARTIAL (%d/%d epochs)**" % (t["epochs_done"], t["epochs_planned"]) if t.get("partial") else ""
        rows.append("| `%s` | %s | %s | %s | %.2f%% (%d/%d)%s | %s | %s | %s |" % (
            name, t["dataset"], fmt_int(t["params"]), fmt_int(t["macs"]), 100 * t["pytorch_accuracy"],
            t["pytorch_correct"], t["total"], partial, ort_txt, diff_txt, fmt_int(size)))
        d = ["### `%s`%s" % (name, partial), "", "- Architecture: " + t["architecture"],
             "- Parameters: %s; MACs per inference (Conv + Gemm, batch 1): %s" % (fmt_int(t["params"]), fmt_int(t["macs"])),
             "- PyTorch top-1 on the full %s test set: %.2f%% (%d/%d)" % (t["dataset"], 100 * t["pytorch_accuracy"],
                                                                        t["pytorch_correct"], t["total"])]
        if "float_accuracy" in t:
            d.append("- Float LeNet-5 it was quantized from, same test set: %.2f%% (%d/%d); quantized minus float: "
                     "%+.2f points" % (100 * t["float_accuracy"], t["float_correct"], t["total"],
                                       100 * (t["pytorch_accuracy"] - t["float_accuracy"])))
        d.append("- ONNX Runtime 1.30: %s; first-16 logits max |diff| vs PyTorch: %s" % (ort_txt, diff_txt))
        d.append("- ONNX ops: %s" % ", ".join(t["onnx_ops"]))
        d.append("- File: `models/%s.onnx`, %s bytes, sha256 `%s`" % (name, fmt_int(size), sha))
        if name == "lenet5_mnist_qdq":
            d.append("- Command: `/usr/bin/python3 models/train.py lenet5_mnist_qdq` (needs the lenet5_mnist "
                     "checkpoint in models/work/); quantization + evaluation took %.0f s" % t["train_wall_seconds"])
        else:
            d.append("- Command: `/usr/bin/python3 models/train.py %s`; epochs %d of %d; training wall time %.0f s "
                     "(%.1f min, summed over completed epochs including each epoch's test evaluation; 2 cores shared with "
                     "other jobs; time lost in epochs interrupted by restarts is not counted); seed %d"
                     % (name, t["epochs_done"], t["epochs_planned"], t["train_wall_seconds"],
                        t["train_wall_seconds"] / 60, t["seed"]))
            rp = t.get("schedule_replans") or []
            if rp:
                d.append("- The CPU share available changed a lot during this run (other builds on the 2 cores), so the "
                         "one-cycle schedule was re-planned with `--epochs N --replan` while resuming: " +
                         "; ".join("after epoch %d, %d -> %d epochs" % (r["at_epoch"], r["from_epochs"], r["to_epochs"])
                                   for r in rp) +
                         ". The plain command above runs the final epoch count from the start (same recipe, "
                         "not the same step-by-step LR curve)")
            h = t.get("history", [])
            if h:
                d.append("- Test accuracy by epoch: " + ", ".join("%d: %.2f" % (r["epoch"], 100 * r["test_acc"])
                                                                   for r in h))
            if "tie_rows" in t:
                d.append("- Rename-aware phase (PyTorch, BN form, full test set): after the main epochs %d/%d correct with "
                         "%d distinct fc3 input rows; fc3's rows tied to %d centroids: %d/%d before and %s after "
                         "fine-tuning (%d distinct rows); the folded QDQ graph (the golden): %d/%d"
                         % (t["untied_bn_form_correct"], t["total"], t["untied_fc3_unique_rows"], t["tie_rows"],
                            t["tied_before_finetune_correct"], t["total"],
                            ", ".join("epoch %d: %.2f%%" % (r["epoch"], 100 * r["test_acc"]) for r in t["tie_history"]),
                            t["fc3_unique_rows"], t["pytorch_correct"], t["total"]))
        details.append("\n".join(d))
    table = ["| model | dataset | params | MACs | PyTorch top-1 | ONNX Runtime top-1 | max abs logit diff (16 golden) | .onnx bytes |",
             "|---|---|---|---|---|---|---|---|"] + rows
    body = "\n".join(table) + "\n\n" + "\n\n".join(details) + "\n"
    readme = os.path.join(M, "README.md")
    text = open(readme).read()
    a, b = "<!-- BEGIN MEASURED -->", "<!-- END MEASURED -->"
    i, j = text.index(a) + len(a), text.index(b)
    open(readme, "w").write(text[:i] + "\n" + body + text[j:])
    print("updated", readme)


if __name__ == "__main__":
    main()
