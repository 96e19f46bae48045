#!/usr/bin/python3
"""Probe: do the activations and elementwise ops PyTorch exports run in xbar?

Usage (Debian's interpreter, which has python3-torch 1.13 and python3-onnx):
    /usr/bin/python3 tools/probe_ops1.py [--xbar build/xbar] [--out DIR] [--opsets 11,13,17]

For every opset it exports, with torch.onnx.export (static batch 1):
  - one small model per "block" (conv -> block -> output), where a block is
    one activation or elementwise expression (Hardswish, Hardsigmoid, PReLU,
    ELU, SELU, CELU, GELU, Softplus, Mish, Softsign, pow/sqrt/exp/log/abs/
    neg/reciprocal, minimum/maximum, where with comparisons);
  - one tiny CNN in which every block that exported runs as a parallel
    branch of the same conv output, summed, then conv, global average pool
    and a linear layer.
It lists the ONNX ops each block became, runs `xbar info` on each model,
and writes three random inputs per model as an ONNX node-test directory
(model.onnx + test_data_set_k/input_0.pb, output_0.pb) whose expected
outputs come from ONNX Runtime (onnxruntime-node through node, when
tools/node_modules has it; else from PyTorch), then runs
`xbar check-onnx DIR` (rtol 1e-3, atol 1e-5) on it.  PyTorch's own
outputs are compared with the reference as a sanity check.

Prints one line per (opset, block) and a summary; exits 0 unless the
script itself fails (a block that does not export or run is a finding,
not an error).  Nothing is written outside --out (default: a temp dir).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
C, H, W = 8, 12, 12
N_SETS = 3


def blocks():
    """name -> function(module, x) on x of shape [1, C, H, W], same shape out.
    Inputs of sqrt/log/reciprocal/pow-with-tensor-exponent are kept in their
    domain so every output is finite."""
    return {
        "hardswish": lambda m, x: F.hardswish(x),
        "hardsigmoid": lambda m, x: F.hardsigmoid(x),
        "prelu": lambda m, x: m.prelu(x),
        "prelu_shared": lambda m, x: m.prelu1(x),
        "elu": lambda m, x: F.elu(x, alpha=0.7),
        "selu": lambda m, x: F.selu(x),
        "celu": lambda m, x: F.celu(x, alpha=1.3),
        "gelu": lambda m, x: F.gelu(x),
        "gelu_tanh": lambda m, x: F.gelu(x, approximate="tanh"),
        "softplus": lambda m, x: F.softplus(x),
        "softplus_beta2": lambda m, x: F.softplus(x, beta=2.0),
        "mish": lambda m, x: F.mish(x),
        "softsign": lambda m, x: F.softsign(x),
        "pow2": lambda m, x: torch.pow(x, 2),
        "pow_tensor": lambda m, x: torch.pow(torch.abs(x) + 1.0, m.expo),
        "sqrt": lambda m, x: torch.sqrt(torch.abs(x) + 0.5),
        "exp": lambda m, x: torch.exp(-torch.abs(x)),
        "log": lambda m, x: torch.log(torch.abs(x) + 0.5),
        "neg": lambda m, x: torch.neg(x),
        "reciprocal": lambda m, x: torch.reciprocal(torch.abs(x) + 1.0),
        "maximum": lambda m, x: torch.maximum(x, m.bound),
        "minimum": lambda m, x: torch.minimum(x, m.bound),
        "where_gt": lambda m, x: torch.where(x > 0.3, x, -0.5 * x),
        "where_lt": lambda m, x: torch.where(x < m.bound, m.bound, x),
        "where_eq": lambda m, x: torch.where(x == torch.clamp(x, -0.5, 0.5), x, 2.0 * x),
        "where_ge": lambda m, x: torch.where(x >= 0.1, x, 0.1 * x),
        "where_not": lambda m, x: torch.where(~(x > 0.0), x, 0.2 * x),
        "clamp_min_max": lambda m, x: torch.clamp(x, -0.5, 0.5),
    }


class Net(nn.Module):
    def __init__(self, names):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.names = list(names)
        self.fns = blocks()
        self.conv1 = nn.Conv2d(3, C, 3, padding=1)
        self.prelu = nn.PReLU(C)
        self.prelu1 = nn.PReLU()
        with torch.no_grad():
            self.prelu.weight.copy_(torch.rand(C, generator=g) * 0.6 - 0.1)
            self.prelu1.weight.fill_(0.3)
        self.register_buffer("bound", torch.rand(C, 1, 1, generator=g) - 0.5)
        self.register_buffer("expo", torch.rand(C, 1, 1, generator=g) * 2.0)
        self.conv2 = nn.Conv2d(C, C, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(C, 10)

    def forward(self, x):
        x = self.conv1(x)
        ys = [self.fns[n](self, x) for n in self.names]
        if len(self.names) == 1:  # block models: the block's output itself
            return ys[0]
        y = ys[0]
        for t in ys[1:]:
            y = y + t
        y = self.conv2(y)
        return self.fc(torch.flatten(self.pool(y), 1))


def export(net, path, opset):
    x = torch.zeros(1, 3, H, W)
    torch.onnx.export(net, x, path, opset_version=opset, input_names=["x"],
                      output_names=["y"], do_constant_folding=True)


def op_types(path):
    m = onnx.load(path)
    seen = []
    for n in m.graph.node:
        if n.op_type not in ("Constant",) and n.op_type not in seen:
            seen.append(n.op_type)
    return seen


ORT_JS = r"""
const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const j of jobs) {
    try {
      const s = await ort.InferenceSession.create(j.model, {intraOpNumThreads: 1});
      for (const set of j.sets) {
        const b = fs.readFileSync(set.input);
        const data = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
        const out = await s.run({x: new ort.Tensor('float32', data, j.shape)});
        const t = out['y'];
        fs.writeFileSync(set.output, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        fs.writeFileSync(set.output + '.shape', JSON.stringify(t.dims));
      }
    } catch (e) {
      fs.writeFileSync(j.model + '.ort_error', String(e));
    }
  }
})();
"""


def node_modules():
    d = os.path.join(REPO, "tools", "node_modules")
    if os.path.isdir(os.path.join(d, "onnxruntime-node")) and shutil.which("node"):
        return d
    return None


def run_ort(jobs, workdir, modules):
    """Fill each set's 'ref' from ONNX Runtime; jobs whose model ORT rejects
    get 'ort_error'."""
    js = os.path.join(workdir, "ort_run.js")
    jf = os.path.join(workdir, "ort_jobs.json")
    with open(js, "w") as f:
        f.write(ORT_JS)
    spec = []
    for j in jobs:
        sets = []
        for k, s in enumerate(j["sets"]):
            s["input_bin"] = os.path.join(j["dir"], "in_%d.bin" % k)
            s["ref_bin"] = os.path.join(j["dir"], "ort_%d.bin" % k)
            s["x"].astype(np.float32).tofile(s["input_bin"])
            sets.append({"input": s["input_bin"], "output": s["ref_bin"]})
        spec.append({"model": j["model"], "shape": list(j["sets"][0]["x"].shape), "sets": sets})
    with open(jf, "w") as f:
        json.dump(spec, f)
    env = dict(os.environ, NODE_PATH=modules)
    subprocess.run(["node", js, jf], env=env, check=True, cwd=workdir)
    for j in jobs:
        err = j["model"] + ".ort_error"
        if os.path.exists(err):
            j["ort_error"] = open(err).read().strip().splitlines()[0][:200]
            continue
        for s in j["sets"]:
            dims = json.load(open(s["ref_bin"] + ".shape"))
            s["ref"] = np.fromfile(s["ref_bin"], dtype=np.float32).reshape(dims)
            for p in (s["input_bin"], s["ref_bin"], s["ref_bin"] + ".shape"):
                os.remove(p)


def write_sets(j):
    for k, s in enumerate(j["sets"]):
        d = os.path.join(j["dir"], "test_data_set_%d" % k)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(s["x"], "x").SerializeToString())
        with open(os.path.join(d, "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(s["ref"].astype(np.float32), "y").SerializeToString())


def xbar(args, *cmd):
    p = subprocess.run([args.xbar] + list(cmd), capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def first_reason(text):
    """The informative line of an xbar failure."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for i, l in enumerate(lines):
        if "unsupported node" in l and i + 1 < len(lines):
            return "; ".join(x for x in lines[i + 1:] if x.startswith("node "))[:300]
        if l.startswith("FAIL") or "error" in l.lower():
            return l[:300]
    return lines[-1][:300] if lines else ""


def probe_model(args, name, names, opset, outdir, rng):
    d = os.path.join(outdir, "opset%d" % opset, name)
    os.makedirs(d, exist_ok=True)
    net = Net(names).eval()
    path = os.path.join(d, "model.onnx")
    j = {"name": name, "opset": opset, "dir": d, "model": path, "sets": []}
    try:
        with torch.no_grad():
            export(net, path, opset)
    except Exception as e:  # a finding: this block does not export at this opset
        j["export_error"] = str(e).strip().splitlines()[0][:200]
        return j
    j["ops"] = op_types(path)
    rc, out = xbar(args, "info", path)
    j["info_ok"] = rc == 0
    if rc != 0:
        j["info_error"] = first_reason(out)
    for _ in range(N_SETS):
        x = rng.standard_normal((1, 3, H, W)).astype(np.float32)
        with torch.no_grad():
            t = net(torch.from_numpy(x)).numpy()
        j["sets"].append({"x": x, "torch": t})
    return j


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xbar", default=os.path.join(REPO, "build", "xbar"))
    ap.add_argument("--out", default=None, help="keep the models and data here")
    ap.add_argument("--opsets", default="11,13,17")
    args = ap.parse_args()
    if not os.path.exists(args.xbar):
        sys.exit("no %s: build xbar first" % args.xbar)
    outdir = args.out or tempfile.mkdtemp(prefix="probe_ops1_")
    os.makedirs(outdir, exist_ok=True)
    modules = node_modules()
    ref_name = "ONNX Runtime" if modules else "PyTorch (no tools/node_modules/onnxruntime-node)"
    print("reference: %s; models in %s" % (ref_name, outdir))
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    summary = {}
    for opset in [int(s) for s in args.opsets.split(",")]:
        jobs = [probe_model(args, n, [n], opset, outdir, rng) for n in blocks()]
        ok_names = [j["name"] for j in jobs if j.get("info_ok")]
        if ok_names:
            jobs.append(probe_model(args, "tiny_cnn", ok_names, opset, outdir, rng))
        live = [j for j in jobs if "export_error" not in j]
        if modules:
            run_ort(live, outdir, modules)
        for j in live:
            if "ort_error" in j:
                continue
            worst = 0.0
            for s in j["sets"]:
                if "ref" not in s:
                    s["ref"] = s["torch"]
                worst = max(worst, float(np.max(np.abs(s["torch"] - s["ref"]))))
            j["torch_vs_ref"] = worst
            write_sets(j)
            if j.get("info_ok"):
                rc, out = xbar(args, "check-onnx", j["dir"])
                j["check_ok"] = rc == 0
                if rc != 0:
                    j["check_error"] = first_reason(out)
        print("\n== opset %d" % opset)
        for j in jobs:
            if "export_error" in j:
                status = "EXPORT FAILS: " + j["export_error"]
            elif "ort_error" in j:
                status = "ORT FAILS: " + j["ort_error"]
            elif not j.get("info_ok"):
                status = "XBAR REJECTS: " + j["info_error"]
            elif j.get("check_ok"):
                status = "PASS (xbar == %s within rtol 1e-3/atol 1e-5; torch vs ref %.1e)" % (
                    "ORT" if modules else "torch", j["torch_vs_ref"])
            else:
                status = "MISMATCH: " + j.get("check_error", "")
            ops = " ".join(j.get("ops", [])) if j["name"] != "tiny_cnn" else "%d ops" % len(j.get("ops", []))
            print("  %-15s [%s]  %s" % (j["name"], ops, status))
            summary.setdefault(opset, []).append((j["name"], status.split(":")[0].split(" (")[0]))
        if any(j["name"] == "tiny_cnn" for j in jobs):
            cnn = jobs[-1]
            print("  tiny_cnn branches: %s" % ", ".join(ok_names))
            print("  tiny_cnn ops: %s" % " ".join(cnn.get("ops", [])))
    print("\n== summary")
    for opset, rows in summary.items():
        counts = {}
        for _, st in rows:
            counts[st] = counts.get(st, 0) + 1
        print("  opset %d: %s" % (opset, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    if not args.out:
        shutil.rmtree(outdir)


if __name__ == "__main__":
    main()
