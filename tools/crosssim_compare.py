#!/usr/bin/python3
"""Compare xbar's ISAAC-style analog accuracy with Sandia CrossSim 3.2 on the same
int8 model and the same images.

Run with Debian's /usr/bin/python3 (numpy, scipy, torch, onnx from apt; no pip):

    XBAR_DATA=/work/shared/datasets /usr/bin/python3 tools/crosssim_compare.py \
        --crosssim /tmp/crosssim --model models/lenet5_mnist.onnx --data mnist \
        --limit 1000 --adc-bits 8 6

CrossSim is not bundled and never copied into this repository. Point the script
at a checkout with --crosssim DIR or the XBAR_CROSSSIM environment variable
(DIR contains simulator/). Without it the script prints how to get it and exits
0 with "skipped".

What it does (settings from docs/VALIDATION.md, "Accuracy against CrossSim"):
  * builds a PyTorch model from the ONNX graph (Conv, Gemm, Relu, MaxPool, Add,
    Flatten, GlobalAveragePool, AveragePool, Reshape) using the initializers;
  * quantizes it exactly like xbar's PTQ (frontend/quantize.c): weights per
    output channel, symmetric, 8 bits; layer inputs per tensor, asymmetric
    unsigned min/max over 100 calibration images (the images right after the
    evaluated ones, as `xbar run` does), round half to even;
  * "int8": exact integer reference of that graph (= xbar's int8 mode);
  * "crosssim": every matrix layer's integer product sum_k wq*xq runs on a
    CrossSim bit-sliced offset core (4 slices x 2 bits, 8-bit weights, 128x128,
    digital offset, infinite on/off ratio, 8-bit unsigned inputs bit-sliced by
    1, one ADC per input bit, CALIBRATED range [0,(2^b-1)/3] per slice, i.e.
    1 LSB = one cell level, saturating at 2^b-1 like xbar's clip). Per-channel
    weight scales, the input zero point (padding with the zero-point code and
    subtracting zp*rowsum(wq)) and the bias are applied digitally outside it;
  * runs `xbar run MODEL --arch isaac --set adc.bits=B [--set
    mapping.row_split=even]` on the same images and prints both top-1 values.
xbar does not print per-image predictions, so "differ" counts the images where
CrossSim's prediction differs from the exact int8 reference (which equals
xbar's analog result whenever xbar's ADC is lossless).

Read noise (--read-noise m): CrossSim's NormalIndependentDevice adds sigma
m x Gmax to every cell, drawn afresh for every vector, weight slice and input
bit; a 2-bit cell's Gmax is 3 levels, so a conversion over n active rows gets
sigma 3m sqrt(n) levels, which is xbar's nonideal.read_row_sigma = 3m. Both
sides are random: --seeds S1 S2 ... runs CrossSim once per numpy seed and
xbar with nonideal.seed = 1..N (--xbar-seeds N, default as many as CrossSim
seeds); the table gives mean +- sample sd on each side. --no-crosssim runs
only the Python int8 reference and xbar (no CrossSim needed).

Cost: CrossSim draws a normal number per cell, vector, slice and input bit
(about 13 million per LeNet-5 image); measured 0.5-0.75 LeNet-5 images/s on a
loaded 2-core machine, so ResNet-20 (about 100x the MACs) is out of reach with
noise on. Without noise: about 20-35 LeNet-5 images/s.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def skip(msg):
    print(msg)
    print("Get CrossSim 3.2 (not bundled): git clone https://github.com/sandialabs/cross-sim /tmp/crosssim")
    print("then: XBAR_CROSSSIM=/tmp/crosssim /usr/bin/python3 tools/crosssim_compare.py ...")
    print("needs Debian python3-numpy python3-scipy python3-torch python3-onnx")
    print("skipped")
    sys.exit(0)


# ---------------------------------------------------------------- data

def data_dir(name):
    for base in (os.environ.get("XBAR_DATA"), os.path.join(ROOT, "datasets", "data")):
        if base and os.path.isdir(os.path.join(base, name)):
            return os.path.join(base, name)
    sys.exit(f"dataset {name} not found under $XBAR_DATA or datasets/data")


def load_images(name, count):
    d = data_dir(name)
    if name in ("mnist", "fashion-mnist"):
        def rd(f):
            p = os.path.join(d, f)
            op = gzip.open if os.path.exists(p + ".gz") else open
            with op(p + ".gz" if os.path.exists(p + ".gz") else p, "rb") as fh:
                return fh.read()
        x = np.frombuffer(rd("t10k-images-idx3-ubyte"), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        y = np.frombuffer(rd("t10k-labels-idx1-ubyte"), np.uint8, offset=8)
    elif name == "cifar10":
        raw = np.fromfile(os.path.join(d, "test_batch.bin"), np.uint8).reshape(-1, 3073)
        y, x = raw[:, 0], raw[:, 1:].reshape(-1, 3, 32, 32)
    else:
        sys.exit(f"unsupported dataset {name}")
    return x[:count].astype(np.float32) / 255.0, y[:count].astype(np.int64)


# ---------------------------------------------------------------- model

def build(model_path):
    import onnx
    from onnx import numpy_helper
    import torch

    m = onnx.load(model_path)
    meta = {p.key: p.value for p in m.metadata_props}
    init = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in m.graph.initializer}
    mean = np.array([float(v) for v in meta.get("xbar.mean", "0").split(",")], np.float32)
    std = np.array([float(v) for v in meta.get("xbar.std", "1").split(",")], np.float32)

    class QLayer(torch.nn.Module):
        """Conv or Gemm; float, calibrating, exact int8 or CrossSim mode."""

        def __init__(self, node):
            super().__init__()
            a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
            w = init[node.input[1]]
            b = init[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            self.is_conv = node.op_type == "Conv"
            if self.is_conv:
                assert a.get("group", 1) == 1 and all(v == 1 for v in a.get("dilations", [1, 1]))
                self.stride = tuple(a.get("strides", [1, 1]))
                p = a.get("pads", [0, 0, 0, 0])
                self.pads = (p[1], p[3], p[0], p[2])  # F.pad order: left,right,top,bottom
            else:
                if not a.get("transB", 0):
                    w = w.T
                w = w * a.get("alpha", 1.0)
                if b is not None:
                    b = b * a.get("beta", 1.0)
            self.wf = torch.tensor(w)
            self.bias = torch.tensor(b) if b is not None else torch.zeros(w.shape[0])
            self.name = node.name
            self.mode = "float"
            self.noisy = False
            self.lo, self.hi = np.inf, -np.inf
            # per-row symmetric quantization (quantize_rows in frontend/quantize.c)
            rows = w.reshape(w.shape[0], -1)
            mx = np.abs(rows).max(axis=1)
            ws = np.where(mx > 0, mx / np.float32(127), np.float32(1)).astype(np.float32)
            wq = np.clip(np.rint(w / ws.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
            self.ws = torch.tensor(ws)
            self.wq = torch.tensor(wq.astype(np.float32))
            self.rowsum = self.wq.reshape(self.wq.shape[0], -1).sum(1)
            if self.is_conv:
                self.core = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2:], stride=self.stride,
                                            padding=0, bias=False)
            else:
                self.core = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
            with torch.no_grad():
                self.core.weight.copy_(self.wq)

        def finish_calibration(self):
            lo, hi = min(float(self.lo), 0.0), max(float(self.hi), 0.0)
            xs = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
            self.xs = float(xs)
            self.zp = int(np.clip(np.rint(np.float32(-lo) / xs), 0, 255))

        def forward(self, x):
            F = torch.nn.functional
            if self.mode in ("float", "calib"):
                if self.mode == "calib":
                    self.lo = min(self.lo, float(x.min()))
                    self.hi = max(self.hi, float(x.max()))
                if self.is_conv:
                    return F.conv2d(F.pad(x, self.pads), self.wf, self.bias, self.stride)
                return F.linear(x, self.wf, self.bias)
            xq = torch.clamp(torch.round(x / np.float32(self.xs)) + self.zp, 0, 255)
            if self.is_conv:
                xq = F.pad(xq, self.pads, value=float(self.zp))
            if self.mode == "int8":
                acc = (F.conv2d(xq.double(), self.wq.double(), None, self.stride) if self.is_conv
                       else F.linear(xq.double(), self.wq.double())).float()
            else:  # CrossSim core on unsigned codes
                acc = self.core(xq)
                if not self.noisy:  # CrossSim computes in float32: snap the integer sum back
                    acc = torch.round(acc)
            shape = (1, -1, 1, 1) if self.is_conv else (1, -1)
            acc = acc - self.zp * self.rowsum.reshape(shape)
            return acc * (np.float32(self.xs) * self.ws.reshape(shape)) + self.bias.reshape(shape)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.nodes = list(m.graph.node)
            self.layers = torch.nn.ModuleList()
            self.lidx = {}
            for i, n in enumerate(self.nodes):
                if n.op_type in ("Conv", "Gemm"):
                    self.lidx[i] = len(self.layers)
                    self.layers.append(QLayer(n))
            self.inp = m.graph.input[0].name
            self.out = m.graph.output[0].name

        def set_mode(self, mode):
            for L in self.layers:
                L.mode = mode

        def forward(self, x):
            F = torch.nn.functional
            env = {self.inp: x}
            for i, n in enumerate(self.nodes):
                a = {t.name: onnx.helper.get_attribute_value(t) for t in n.attribute}
                ins = [env[t] if t in env else torch.tensor(init[t]) for t in n.input if t]
                op = n.op_type
                if i in self.lidx:
                    y = self.layers[self.lidx[i]](ins[0])
                elif op == "Relu":
                    y = F.relu(ins[0])
                elif op == "Add":
                    y = ins[0] + ins[1]
                elif op == "MaxPool":
                    p = a.get("pads", [0, 0, 0, 0])
                    assert p[0] == p[2] and p[1] == p[3]
                    y = F.max_pool2d(ins[0], a["kernel_shape"], a.get("strides"), (p[0], p[1]),
                                     ceil_mode=bool(a.get("ceil_mode", 0)))
                elif op == "AveragePool":
                    y = F.avg_pool2d(ins[0], a["kernel_shape"], a.get("strides"))
                elif op == "GlobalAveragePool":
                    y = ins[0].mean(dim=(2, 3), keepdim=True)
                elif op == "Flatten":
                    y = torch.flatten(ins[0], a.get("axis", 1))
                elif op == "Reshape":
                    y = ins[0].reshape([int(v) if v != 0 else ins[0].shape[j]
                                        for j, v in enumerate(ins[1].tolist())])
                else:
                    raise SystemExit(f"unsupported op {op}")
                env[n.output[0]] = y
            return env[self.out]

    return Net(), mean, std, meta


# ---------------------------------------------------------------- CrossSim

def crosssim_params(adc_bits, read_noise=0.0):
    from simulator import CrossSimParameters
    from simulator.parameters.core_parameters import CoreStyle, BitSlicedCoreStyle, OffsetCoreStyle
    from simulator.parameters.xbar_parameters import ADCRangeLimits

    p = CrossSimParameters()
    c = p.core
    c.style = CoreStyle.BITSLICED
    c.bit_sliced.style = BitSlicedCoreStyle.OFFSET
    c.bit_sliced.num_slices = 4
    c.offset.style = OffsetCoreStyle.DIGITAL_OFFSET
    c.weight_bits = 8
    c.rows_max = 128
    c.cols_max = 128
    c.mapping.weights.clipping = True
    c.mapping.weights.min = -127.0
    c.mapping.weights.max = 127.0
    c.mapping.inputs.mvm.clipping = True
    c.mapping.inputs.mvm.min = 0.0
    c.mapping.inputs.mvm.max = 255.0
    d = p.xbar.device
    d.cell_bits = 2
    d.infinite_on_off_ratio = True
    if read_noise > 0:
        d.read_noise.enable = True
        d.read_noise.model = "NormalIndependentDevice"
        d.read_noise.magnitude = read_noise
    p.xbar.dac.mvm.model = "QuantizerDAC"  # replaces the parameter object: fetch it again
    dac = p.xbar.dac.mvm
    dac.bits = 8
    dac.signed = False
    dac.input_bitslicing = True
    dac.slice_size = 1
    p.xbar.adc.mvm.model = "QuantizerADC"  # replaces the parameter object: fetch it again
    adc = p.xbar.adc.mvm
    adc.bits = adc_bits
    adc.signed = False
    adc.adc_per_ibit = True
    adc.adc_range_option = ADCRangeLimits.CALIBRATED
    adc.calibrated_range = [[0.0, (2 ** adc_bits - 1) / 3.0]] * 4
    p.simulation.convolution.is_conv_core = False
    return p


def predict(net, x, batch, label=None):
    """Top-1 class per image; with label, progress (images done, rate) on stderr per batch."""
    import torch
    out = []
    t0 = time.time()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net(torch.tensor(x[i:i + batch])).argmax(1).numpy())
            if label:
                done = min(i + batch, len(x))
                print(f"{time.strftime('%H:%M:%S')} {label}: {done}/{len(x)} images, "
                      f"{done / max(time.time() - t0, 1e-9):.2f} images/s", file=sys.stderr, flush=True)
    return np.concatenate(out)


def run_xbar(args, bits, even, seed=None):
    exe = os.path.join(ROOT, "build", "xbar")
    jf = f"/tmp/xsim_xbar_{os.getpid()}.json"
    cmd = [exe, "run", args.model, "--data", args.data, "--limit", str(args.limit), "--arch", "isaac",
           "--set", f"adc.bits={bits}", "--json", jf, "--threads", str(args.threads)]
    if even:
        cmd += ["--set", "mapping.row_split=even"]
    if args.read_noise > 0:
        # CrossSim: sigma m*Gmax per cell; Gmax = 3 cell levels, so per conversion
        # sigma = 3m*sqrt(active rows) levels = xbar's nonideal.read_row_sigma of 3m
        cmd += ["--set", f"nonideal.read_row_sigma={3 * args.read_noise:g}"]
    if seed is not None:
        cmd += ["--set", f"nonideal.seed={seed}"]
    for kv in args.xbar_set:
        cmd += ["--set", kv]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    r = json.load(open(jf))
    os.unlink(jf)
    return r["int8"]["correct"], r["analog"]["correct"], " ".join(cmd[1:]).replace(jf, "F.json")


def mean_sd(v):
    """Mean and sample standard deviation (0 for a single value)."""
    v = np.asarray(v, float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def disable_conductance_clip():
    """--no-g-clip: CrossSim clips every noisy conductance at 0 (Device.clip_and_mask: "G cannot
    be negative"), which gives the read noise of an off cell (G = 0 with an infinite on/off
    ratio) a positive mean of 0.4 m Gmax. xbar's read noise is a zero-mean Gaussian per
    conversion. This replaces that method at run time (CrossSim's files are not touched) by one
    that applies only CrossSim's optional clip_conductance range and the mask, so the two noise
    models can be compared with and without the clip."""
    from simulator.devices.device import Device
    orig = Device.clip_and_mask

    def clip_and_mask(self, input_, mask):
        if self.clip_conductance:
            return orig(self, input_, mask)
        return input_ * mask if mask is not None else input_
    Device.clip_and_mask = clip_and_mask


def noise_layer_check(args):
    """--layer-check: one random 8-bit layer (K rows, N columns, half the inputs zero) through
    CrossSim with read noise m, against two numpy models of the same bit-sliced arithmetic
    (offset w + 128, 4 x 2-bit slices, per input bit, clip ADC): xbar's (a Gaussian of sigma
    3m sqrt(active rows) per conversion) and a per-cell one whose noisy conductance is clipped at
    0, as CrossSim's Device.clip_and_mask does. Prints the mean and sd of each one's error
    against the exact product."""
    from simulator import AnalogCore
    m, bits, K, N, V = args.read_noise, args.adc_bits[0], 100, 16, 300
    rng = np.random.default_rng(5)
    W = rng.integers(-127, 128, size=(N, K)).astype(np.float64)
    X = rng.integers(0, 256, size=(K, V)).astype(np.float64)
    X[rng.random((K, V)) < 0.5] = 0
    exact = W @ X
    np.random.seed(args.seeds[0])
    core = AnalogCore(W, crosssim_params(bits, m))
    err_cs = np.stack([core.matvec(X[:, v]) for v in range(V)], 1) - exact
    Wo = (W + 128).astype(np.int64)

    def model(seed, per_cell):
        r = np.random.default_rng(seed)
        acc = np.zeros((N, V))
        for k in range(8):
            xb = ((X.astype(np.int64) >> k) & 1).astype(np.float64)
            for i in range(4):
                lev = ((Wo >> (2 * i)) & 3).astype(np.float64)
                if per_cell:
                    s = np.stack([3 * (np.clip(lev / 3 + m * r.normal(size=lev.shape), 0, None) @ xb[:, v])
                                  for v in range(V)], 1)
                else:
                    s = lev @ xb + r.normal(size=(N, V)) * 3 * m * np.sqrt(xb.sum(0))
                acc += np.clip(np.rint(s), 0, 2 ** bits - 1) * 2 ** (2 * i + k)
        return acc - 128 * X.sum(0) - exact
    err_x = np.concatenate([model(s, False).ravel() for s in range(5)])
    err_c = np.concatenate([model(s, True).ravel() for s in range(2)])
    print(f"layer K={K} N={N}, {V} input vectors, read noise m={m}, ADC {bits} bits "
          f"(output sd without noise {exact.std():.0f})")
    for name, e in (("CrossSim", err_cs), ("xbar model (Gaussian per conversion)", err_x),
                    ("per-cell model, G clipped at 0", err_c)):
        print(f"  {name:40s} error mean {e.mean():9.1f}  sd {e.std():9.1f}")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--crosssim", default=os.environ.get("XBAR_CROSSSIM"))
    ap.add_argument("--model", default="models/lenet5_mnist.onnx")
    ap.add_argument("--data", default=None)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--calib", type=int, default=100)
    ap.add_argument("--adc-bits", type=int, nargs="+", default=[8, 6])
    ap.add_argument("--row-split", choices=["fill", "even", "both"], default="both",
                    help="xbar's row-block policy to report next to CrossSim (which always splits evenly)")
    ap.add_argument("--read-noise", type=float, default=0.0,
                    help="CrossSim read noise m (sigma, x Gmax, per cell and read); xbar gets "
                         "nonideal.read_row_sigma=3m (the same variance per conversion)")
    ap.add_argument("--xbar-set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra --set for the xbar runs (repeatable)")
    ap.add_argument("--seed", type=int, nargs="+", default=[1], dest="seeds",
                    help="numpy seeds for CrossSim's read noise, one CrossSim run each "
                         "(--seeds is the same option)")
    ap.add_argument("--seeds", type=int, nargs="+", dest="seeds")
    ap.add_argument("--xbar-seeds", type=int, default=0,
                    help="with read noise: xbar runs with nonideal.seed = 1..N (default: as many "
                         "as CrossSim seeds); mean and sample sd are reported on both sides")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-xbar", action="store_true")
    ap.add_argument("--no-g-clip", action="store_true",
                    help="disable CrossSim's clip of noisy conductances at 0 (a run-time override, "
                         "see disable_conductance_clip) to compare the noise models without it")
    ap.add_argument("--layer-check", action="store_true",
                    help="with --read-noise: compare the noise of one random layer in CrossSim with "
                         "xbar's model and a per-cell model clipped at G >= 0, then exit")
    ap.add_argument("--no-crosssim", action="store_true",
                    help="only the Python int8 reference and the xbar runs (no CrossSim needed)")
    return ap.parse_args()


def run_crosssim(args, net, xe, ye, pi, bits):
    """One CrossSim run per seed; (correct counts, differ-from-int8 counts, seconds)."""
    import torch
    from simulator.algorithms.dnn.torch.convert import from_torch
    correct, differ, secs = [], [], []
    for seed in args.seeds:
        np.random.seed(seed)  # CrossSim draws its read noise from numpy's global generator
        params = crosssim_params(bits, args.read_noise)
        cores = torch.nn.ModuleList([L.core for L in net.layers])
        analog = from_torch(cores, params)
        saved = [L.core for L in net.layers]
        for L, c in zip(net.layers, analog):
            L.core = c
        net.set_mode("crosssim")
        for L in net.layers:
            L.noisy = args.read_noise > 0
        t0 = time.time()
        pc = predict(net, xe, args.batch, f"CrossSim adc {bits} bits seed {seed}"
                     + (" no G clip" if args.no_g_clip else ""))
        wall = time.time() - t0
        secs.append(round(wall, 1))
        for L, c in zip(net.layers, saved):
            L.core = c
        correct.append(int((pc == ye).sum()))
        differ.append(int((pc != pi).sum()))
        print(json.dumps({"adc_bits": bits, "seed": seed, "crosssim": correct[-1],
                          "differ_vs_int8": differ[-1], "crosssim_s": secs[-1],
                          "crosssim_images_per_s": round(len(xe) / max(wall, 1e-9), 4)}), flush=True)
    return correct, differ, secs


def xbar_rows(args, bits, row):
    """xbar's top-1 for the chosen row splits; with read noise over nonideal.seed = 1..N."""
    nseeds = (args.xbar_seeds or len(args.seeds)) if args.read_noise > 0 else 0
    for even in ([False, True] if args.row_split == "both" else [args.row_split == "even"]):
        key = "xbar_" + ("even" if even else "fill")
        if nseeds:
            vals = []
            for s in range(1, nseeds + 1):
                i8, an, cmd = run_xbar(args, bits, even, s)
                vals.append(an)
            row[key + "_seeds"] = vals
            row[key] = round(mean_sd(vals)[0], 2)
            row[key + "_sd"] = round(mean_sd(vals)[1], 2)
            cmd = cmd.replace(f"nonideal.seed={nseeds}", "nonideal.seed=1..%d" % nseeds)
        else:
            i8, an, cmd = run_xbar(args, bits, even)
            row[key] = an
        row["xbar_int8"] = i8
        row["cmd_" + ("even" if even else "fill")] = "xbar " + cmd


def main():
    args = parse_args()
    if not args.no_crosssim:
        if not args.crosssim or not os.path.isdir(os.path.join(args.crosssim, "simulator")):
            skip(f"CrossSim checkout not found ({args.crosssim or 'set --crosssim or XBAR_CROSSSIM'})")
        sys.path.insert(0, args.crosssim)
    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
        if not args.no_crosssim:
            import simulator  # noqa: F401
            from simulator.algorithms.dnn.torch.convert import from_torch  # noqa: F401
    except ImportError as e:
        skip(f"cannot import CrossSim or its dependencies: {e}")
    import torch
    torch.set_num_threads(args.threads)
    if args.no_g_clip and not args.no_crosssim:
        disable_conductance_clip()
    if args.layer_check:
        return noise_layer_check(args)

    os.chdir(ROOT)
    net, mean, std, meta = build(args.model)
    data = args.data or meta.get("xbar.dataset", "mnist")
    args.data = data
    x, y = load_images(data, args.limit + args.calib)
    x = ((x - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)).astype(np.float32)
    xe, ye, xc = x[:args.limit], y[:args.limit], x[args.limit:args.limit + args.calib]
    if len(xc) < args.calib:
        sys.exit("not enough images after the evaluated ones for calibration")

    net.set_mode("float")
    pf = predict(net, xe, args.batch)
    net.set_mode("calib")
    predict(net, xc, args.batch)
    for L in net.layers:
        L.finish_calibration()
    net.set_mode("int8")
    pi = predict(net, xe, args.batch)
    print(f"model {args.model}, {data}, {args.limit} images, calibration on images "
          f"{args.limit}..{args.limit + args.calib - 1}")
    print(f"python float top-1 {int((pf == ye).sum())}, python int8 top-1 {int((pi == ye).sum())}")
    for L in net.layers:
        print(f"  {L.name:24s} x_scale {L.xs:.5g} zp {L.zp}")

    rows = []
    for bits in args.adc_bits:
        row = {"adc_bits": bits}
        if not args.no_crosssim:
            cs, differ, secs = run_crosssim(args, net, xe, ye, pi, bits)
            if len(cs) == 1:
                row.update({"crosssim": cs[0], "differ_vs_int8": differ[0], "crosssim_s": secs[0]})
            else:
                row.update({"crosssim_seeds": cs, "crosssim": round(mean_sd(cs)[0], 2),
                            "crosssim_sd": round(mean_sd(cs)[1], 2),
                            "differ_vs_int8": round(mean_sd(differ)[0], 2), "crosssim_s": sum(secs)})
        if not args.no_xbar:
            xbar_rows(args, bits, row)
        rows.append(row)
        print(json.dumps(row), flush=True)

    print()
    print("| model | images | ADC bits | read noise m | CrossSim | xbar fill | xbar even | xbar int8 "
          "| python int8 | CrossSim != int8 |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def cell(r, k):
        if k not in r:
            return "-"
        return f"{r[k]} +- {r[k + '_sd']}" if k + "_sd" in r and len(r.get(k + "_seeds", [])) > 1 else str(r[k])
    for r in rows:
        print(f"| {os.path.basename(args.model)} | {args.limit} | {r['adc_bits']} | {args.read_noise:g} | "
              f"{cell(r, 'crosssim')} | {cell(r, 'xbar_fill')} | {cell(r, 'xbar_even')} | "
              f"{r.get('xbar_int8', '-')} | {int((pi == ye).sum())} | {r.get('differ_vs_int8', '-')} |")
    if args.read_noise > 0:
        print("(with read noise: mean +- sample sd over the seeds; CrossSim seeds "
              f"{args.seeds}, xbar nonideal.seed 1..{args.xbar_seeds or len(args.seeds)})")


if __name__ == "__main__":
    main()
