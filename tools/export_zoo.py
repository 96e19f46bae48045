#!/usr/bin/python3
"""Model zoo check: do whole PyTorch models exported to ONNX run in xbar?

Usage (Debian's interpreter: python3-torch 1.13, python3-torchvision,
python3-onnx; ONNX Runtime from tools/node_modules, see tools/ort_check.js):
    /usr/bin/python3 tools/export_zoo.py [--xbar build/xbar] [--out DIR]
        [--opsets 11,13,17] [--models mobilenet_v2,resnet18,small_cnn]
        [--images 100] [--analog 20] [--keep-tests DIR]

For each model and opset it exports two files with torch.onnx.export: a
static batch of 1 and a dynamic (symbolic) batch.  Models, with random
weights from a fixed seed (this checks operators, not accuracy):
  - torchvision MobileNetV2, 10 classes, on 32x32 inputs;
  - torchvision ResNet-18, 10 classes, on 32x32 inputs;
  - small_cnn: a few-KB CNN using Hardswish, PReLU, GELU, SiLU, ELU,
    GroupNorm, LayerNorm, ConvTranspose2d, F.interpolate (nearest and
    bilinear), torch.where with >=, x.mean((2,3)) and a Linear layer.
Inputs are the first --images CIFAR-10 sample images
(datasets/samples/cifar10/test_batch.bin) normalised with the usual CIFAR-10
mean/std.  The reference outputs come from ONNX Runtime (onnxruntime-node);
each export is written as an ONNX node-test directory (model.onnx,
test_data_set_k/input_0.pb, output_0.pb: one image per set for the static
batch, sets of 25 for the dynamic one) and checked with `xbar check-onnx`
(rtol 1e-3, atol 1e-5), whose PASS line gives the largest absolute error;
the table flags an error above 1e-4.  Then `xbar run MODEL --data
.../test_batch.bin --limit N --arch isaac --mode analog` checks that the
int8 analog path loads and runs (accuracy is meaningless for random weights).

--keep-tests DIR copies the small_cnn directories of opsets 11 and 17
(static batch, 3 sets; dynamic batch, 2 sets of 2) there: that is how
tests/data/zoo/ was made (CI has no torch, so they are committed).

Prints one row per (model, opset, batch) and exits 0 unless the script
itself fails.
"""
import argparse
import warnings
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CIFAR = os.path.join(REPO, "datasets", "samples", "cifar10", "test_batch.bin")
MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], np.float32).reshape(1, 3, 1, 1)
DYN_SET = 25

_spec = importlib.util.spec_from_file_location("probe_ops1", os.path.join(REPO, "tools", "probe_ops1.py"))
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.prelu = nn.PReLU(8)
        self.gn = nn.GroupNorm(2, 8)
        self.c3 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.ln = nn.LayerNorm([16, 8, 8])
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.c4 = nn.Conv2d(16, 16, 1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.hardswish(self.bn1(self.c1(x)))                 # 32x32
        x = self.gn(self.prelu(self.c2(x)))                   # 16x16
        y = F.gelu(self.ln(self.c3(x)))                       # 8x8
        y = F.silu(y) + F.elu(y, alpha=0.5)
        u = self.up(y)                                        # 16x16
        d = F.interpolate(u, scale_factor=0.5, mode="bilinear", align_corners=False)   # 8x8
        n = F.interpolate(d, scale_factor=2.0, mode="nearest")                        # 16x16
        z = torch.cat([n, x], 1)                              # 16 channels
        z = torch.where(z >= 0.0, z, 0.1 * z)
        z = self.c4(z)
        return self.fc(z.mean((2, 3)))


def make_model(name):
    torch.manual_seed(0)
    if name == "mobilenet_v2":
        import torchvision
        m = torchvision.models.mobilenet_v2(num_classes=10)
    elif name == "resnet18":
        import torchvision
        m = torchvision.models.resnet18(num_classes=10)
    elif name == "small_cnn":
        m = SmallCNN()
    else:
        raise SystemExit("unknown model %s" % name)
    # Random but non-trivial BatchNorm statistics, so the folded BN matters.
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
    return m.eval()


def cifar_images(n):
    raw = np.fromfile(CIFAR, dtype=np.uint8).reshape(-1, 3073)[:n]
    x = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return ((x - MEAN) / STD).astype(np.float32)


def export(m, path, opset, dynamic):
    x = torch.zeros(1, 3, 32, 32)
    kw = {}
    if dynamic:
        kw["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(m, x, path, opset_version=opset, input_names=["x"],
                          output_names=["y"], do_constant_folding=True, **kw)


def xbar(args, *cmd, timeout=1200):
    t0 = time.time()
    try:
        p = subprocess.run([args.xbar] + list(cmd), capture_output=True, text=True, timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).strip(), time.time() - t0
    except subprocess.TimeoutExpired:
        return -1, "timeout after %ds" % timeout, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xbar", default=os.path.join(REPO, "build", "xbar"))
    ap.add_argument("--out", default=None, help="keep the models and data here")
    ap.add_argument("--opsets", default="11,13,17")
    ap.add_argument("--models", default="mobilenet_v2,resnet18,small_cnn")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--analog", type=int, default=20, help="images for xbar run --arch isaac (0: skip)")
    ap.add_argument("--keep-tests", default=None)
    args = ap.parse_args()
    if not os.path.exists(args.xbar):
        sys.exit("no %s: build xbar first" % args.xbar)
    modules = probe.node_modules()
    if not modules:
        sys.exit("no tools/node_modules/onnxruntime-node: cd tools && npm install --ignore-scripts")
    outdir = args.out or tempfile.mkdtemp(prefix="export_zoo_")
    os.makedirs(outdir, exist_ok=True)
    imgs = cifar_images(args.images)
    rows = []
    for name in args.models.split(","):
        m = make_model(name)
        for opset in [int(s) for s in args.opsets.split(",")]:
            for dynamic in (False, True):
                tag = "%s_op%d_%s" % (name, opset, "dyn" if dynamic else "b1")
                d = os.path.join(outdir, tag)
                os.makedirs(d, exist_ok=True)
                path = os.path.join(d, "model.onnx")
                row = {"model": name, "opset": opset, "batch": "dynamic" if dynamic else "1"}
                rows.append(row)
                try:
                    export(m, path, opset, dynamic)
                except Exception as e:  # a finding, not a script failure
                    row["status"] = "EXPORT FAILS: " + str(e).strip().splitlines()[0][:150]
                    continue
                row["ops"] = sorted({n.op_type for n in onnx.load(path).graph.node})
                row["kb"] = os.path.getsize(path) / 1024
                step = DYN_SET if dynamic else 1
                j = {"name": tag, "dir": d, "model": path,
                     "sets": [{"x": imgs[i:i + step]} for i in range(0, len(imgs), step)]}
                probe.run_ort([j], d, modules)
                if "ort_error" in j:
                    row["status"] = "ORT FAILS: " + j["ort_error"]
                    continue
                with torch.no_grad():
                    t = m(torch.from_numpy(imgs)).numpy()
                ref = np.concatenate([s["ref"] for s in j["sets"]])
                row["torch_vs_ort"] = float(np.max(np.abs(t - ref)))
                probe.write_sets(j)
                rc, out, secs = xbar(args, "check-onnx", d)
                mm = re.search(r"max abs error ([0-9.eE+-]+|nan|inf)", out)
                row["err"] = float(mm.group(1)) if mm else None
                row["check_s"] = secs
                if rc != 0:
                    row["status"] = "MISMATCH: " + probe.first_reason(out)
                elif row["err"] is not None and row["err"] > 1e-4:
                    row["status"] = "PASS check-onnx, but max abs error > 1e-4"
                else:
                    row["status"] = "PASS"
                if args.analog and rc == 0:
                    rc2, out2, secs2 = xbar(args, "run", path, "--data", CIFAR, "--limit",
                                            str(args.analog), "--arch", "isaac", "--mode", "analog")
                    row["analog"] = "ok (%.0fs)" % secs2 if rc2 == 0 else \
                        "FAILS: " + probe.first_reason(out2)
                if args.keep_tests and name == "small_cnn" and opset in (11, 17):
                    keep = os.path.join(args.keep_tests, tag)
                    shutil.rmtree(keep, ignore_errors=True)
                    os.makedirs(keep)
                    shutil.copy(path, keep)
                    n_keep = min(2 if dynamic else 3, len(j["sets"]))
                    for k in range(n_keep):
                        src = os.path.join(d, "test_data_set_%d" % k)
                        if dynamic:  # two images per set keep the files small
                            x = j["sets"][k]["x"][:2]
                            y = j["sets"][k]["ref"][:2]
                            dst = os.path.join(keep, "test_data_set_%d" % k)
                            os.makedirs(dst)
                            from onnx import numpy_helper
                            with open(os.path.join(dst, "input_0.pb"), "wb") as f:
                                f.write(numpy_helper.from_array(x, "x").SerializeToString())
                            with open(os.path.join(dst, "output_0.pb"), "wb") as f:
                                f.write(numpy_helper.from_array(y.astype(np.float32), "y").SerializeToString())
                        else:
                            shutil.copytree(src, os.path.join(keep, "test_data_set_%d" % k))
                print("%-13s opset %-2d batch %-7s %s" % (name, opset, row["batch"], row["status"]),
                      flush=True)
    print("\n| model | opset | batch | size KB | xbar vs ORT, %d images (max abs err) | torch vs ORT | "
          "`xbar run --arch isaac --limit %d` |" % (args.images, args.analog))
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        err = "%.1e" % r["err"] if r.get("err") is not None else "-"
        tvo = "%.1e" % r["torch_vs_ort"] if "torch_vs_ort" in r else "-"
        st = r["status"] if r["status"] != "PASS" else "PASS, " + err
        print("| %s | %d | %s | %s | %s | %s | %s |" % (
            r["model"], r["opset"], r["batch"], "%.0f" % r["kb"] if "kb" in r else "-", st, tvo,
            r.get("analog", "-")))
    ops = sorted({o for r in rows for o in r.get("ops", [])})
    print("\nONNX ops seen: %s" % " ".join(ops))
    if not args.out:
        shutil.rmtree(outdir)


if __name__ == "__main__":
    main()
