#!/usr/bin/python3
"""Train, export and golden-check the xbar reference models.

Usage (always with Debian's interpreter, which has python3-torch 1.13):

    /usr/bin/python3 models/train.py NAME [--epochs N] [--threads T] [--export-only] [--time-epochs K]

NAME is one of: lenet5_mnist, mlp_mnist, lenet5_fmnist, resnet20_cifar10, vgg_small_cifar10,
lenet5_mnist_qdq, lenet5_mnist_w1a2.

Every run is resumable: the state after each epoch (model, optimizer, scheduler, epoch, RNG states,
accumulated wall time) is saved in models/work/NAME/ckpt.pt. Rerunning the same command continues from
there; once all epochs are done it exports models/NAME.onnx, models/NAME.golden.json and
models/NAME.train.json.

Data (see datasets/README.md): MNIST / Fashion-MNIST IDX files and CIFAR-10 test_batch.bin are looked
up in $XBAR_DATA/<name>/, datasets/data/<name>/, then the shared copies ($XBAR_SHARED/datasets/...,
/usr/share/datasets/fashion-mnist). The CIFAR-10 training set is read from the JPEG tree
cifar10-jpg.tar.gz (decoded once into models/work/cifar10_train.npz).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(REPO, "models")
WORK = os.path.join(MODELS, "work")
SHARED = os.environ.get("XBAR_SHARED", os.path.join(REPO, "..", "shared"))

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                  "Ankle boot"]
MNIST_CLASSES = [str(i) for i in range(10)]

NORM = {
    # mean/std applied to pixel/255, per channel
    "mnist": ([0.1307], [0.3081]),
    "fashion-mnist": ([0.2860], [0.3530]),
    "cifar10": ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
}
CLASSES = {"mnist": MNIST_CLASSES, "fashion-mnist": FMNIST_CLASSES, "cifar10": CIFAR_CLASSES}


# ----------------------------------------------------------------------------------------------- data
def data_dirs(name):
    dirs = []
    if os.environ.get("XBAR_DATA"):
        dirs.append(os.path.join(os.environ["XBAR_DATA"], name))
    dirs.append(os.path.join(REPO, "datasets", "data", name))
    if name == "fashion-mnist":
        dirs.append("/usr/share/datasets/fashion-mnist")
    else:
        dirs.append(os.path.join(SHARED, "datasets", name))
    return dirs


def find_file(name, fname):
    for d in data_dirs(name):
        p = os.path.join(d, fname)
        if os.path.exists(p):
            return p
    raise FileNotFoundError("%s not found in any of %s (run datasets/fetch.sh %s)" % (fname, data_dirs(name), name))


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    magic = int.from_bytes(raw[0:4], "big")
    assert magic >> 8 == 0x08, "not an unsigned-byte IDX file: %s" % path
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_mnist_like(name, split):
    pre = "train" if split == "train" else "t10k"
    x = read_idx(find_file(name, "%s-images-idx3-ubyte.gz" % pre))
    y = read_idx(find_file(name, "%s-labels-idx1-ubyte.gz" % pre))
    return x[:, None, :, :].copy(), y.astype(np.int64)  # uint8 [N,1,28,28], int64 [N]


def load_cifar_bin(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32).copy(), raw[:, 0].astype(np.int64)


def load_cifar_test():
    return load_cifar_bin(find_file("cifar10", "test_batch.bin"))


def load_cifar_train():
    cache = os.path.join(WORK, "cifar10_train.npz")
    if os.path.exists(cache):
        z = np.load(cache)
        return z["x"], z["y"]
    # original binary batches, if a user has them
    try:
        parts = [load_cifar_bin(find_file("cifar10", "data_batch_%d.bin" % i)) for i in range(1, 6)]
        x = np.concatenate([p[0] for p in parts]); y = np.concatenate([p[1] for p in parts])
    except FileNotFoundError:
        from PIL import Image
        tgz = find_file("cifar10", "cifar10-jpg.tar.gz")
        print("decoding CIFAR-10 JPEG train tree from", tgz, flush=True)
        t0 = time.time()
        items = []
        with tarfile.open(tgz, "r:gz") as tf:
            for m in tf:
                if not m.isfile() or not m.name.endswith(".jpg"):
                    continue
                parts = m.name.split("/")
                if "train" not in parts[:-2]:
                    continue
                cls = parts[-2]
                img = Image.open(io.BytesIO(tf.extractfile(m).read())).convert("RGB")
                items.append((cls, parts[-1], np.asarray(img, dtype=np.uint8)))
        items.sort(key=lambda t: (CIFAR_CLASSES.index(t[0]), t[1]))
        x = np.stack([it[2] for it in items]).transpose(0, 3, 1, 2).copy()
        y = np.array([CIFAR_CLASSES.index(it[0]) for it in items], dtype=np.int64)
        print("decoded %d images in %.1fs" % (len(y), time.time() - t0), flush=True)
    os.makedirs(WORK, exist_ok=True)
    np.savez(cache, x=x, y=y)
    return x, y


def load_dataset(ds, split):
    if ds in ("mnist", "fashion-mnist"):
        return load_mnist_like(ds, split)
    return load_cifar_train() if split == "train" else load_cifar_test()


def preprocess(x_u8, ds):
    """Exactly what the runtime does: pixel/255, then (v - mean[c]) / std[c], float32."""
    mean, std = NORM[ds]
    x = torch.as_tensor(x_u8).to(torch.float32) / 255.0
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (x - m) / s


# --------------------------------------------------------------------------------------------- models
class LeNet5(nn.Module):
    def __init__(self, in_ch=1, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class QuantLeNet5(nn.Module):
    """LeNet-5 laid out for eager-mode static quantization (modules, not functionals)."""

    def __init__(self):
        super().__init__()
        from torch.ao.quantization import QuantStub, DeQuantStub
        self.quant = QuantStub()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten(1)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)
        self.dequant = DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        x = self.fc3(x)
        return self.dequant(x)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    """CIFAR ResNet basic block; option B shortcut (1x1 conv + BN) when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetCifar(nn.Module):
    def __init__(self, n=3, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for i, c in enumerate((16, 32, 64)):
            for j in range(n):
                layers.append(BasicBlock(cin, c, 2 if (i > 0 and j == 0) else 1))
                cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out" if isinstance(m, nn.Conv2d) else "fan_in",
                                        nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class VGGSmall(nn.Module):
    """VGG-style: [c,c,M, 2c,2c,M, 4c,4c,M] 3x3 conv+BN+ReLU, then one FC. c=20 -> 15.4 M MACs."""

    def __init__(self, c=20, num_classes=10):
        super().__init__()
        cfg = [c, c, "M", 2 * c, 2 * c, "M", 4 * c, 4 * c, "M"]
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin * 4 * 4, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class BinarySign(torch.autograd.Function):
    """sign(w) in {-1,+1} (0 -> +1) with the clipped straight-through gradient of BinaryConnect."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return g * (w.abs() <= 1).to(g.dtype)


def round_ste(x):
    """round half to even (as ONNX QuantizeLinear) forward, identity backward."""
    return x + (torch.round(x) - x).detach()


class ActQ(nn.Module):
    """Unsigned `bits`-bit activation: clamp(round(x/s), 0, 2^bits-1) * s with a learned step s (LSQ-style
    gradients through the straight-through rounding).  It also does the ReLU (codes start at 0)."""

    def __init__(self, bits=2, init=0.5):
        super().__init__()
        self.qmax = float((1 << bits) - 1)
        self.step = nn.Parameter(torch.tensor(float(init)))

    def s(self):
        return self.step.abs().clamp_min(1e-4)

    def forward(self, x):
        s = self.s()
        return torch.clamp(round_ste(x / s), 0.0, self.qmax) * s


class W1A2LeNet5(nn.Module):
    """LeNet-5 with binary (+/-1) weights in every layer and 2-bit activations, BN after every matrix layer
    (folded into the per-channel weight scale and bias on export).  The image is quantized to 2 bits too:
    code = round(x_norm / s0) with s0 = (1/3)/std, which for x_norm = (p/255 - mean)/std is round(3p/255 -
    3*mean), already in 0..3, so every layer's input has 2 bits."""

    def __init__(self):
        super().__init__()
        self.s0 = (1.0 / 3.0) / NORM["mnist"][1][0]
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2, bias=False); self.bn1 = nn.BatchNorm2d(6); self.a1 = ActQ()
        self.conv2 = nn.Conv2d(6, 16, 5, bias=False); self.bn2 = nn.BatchNorm2d(16); self.a2 = ActQ()
        self.fc1 = nn.Linear(400, 120, bias=False); self.bn3 = nn.BatchNorm1d(120); self.a3 = ActQ()
        self.fc2 = nn.Linear(120, 84, bias=False); self.bn4 = nn.BatchNorm1d(84); self.a4 = ActQ()
        self.fc3 = nn.Linear(84, 10, bias=False); self.bn5 = nn.BatchNorm1d(10)
        for m in (self.conv1, self.conv2, self.fc1, self.fc2, self.fc3):
            nn.init.uniform_(m.weight, -1.0, 1.0)

    def quant_input(self, x):
        return torch.clamp(torch.round(x / self.s0), 0.0, 3.0) * self.s0

    def fc3_weight(self):
        """fc3's latent weights; after row tying (tie_fc3_rows) input row k is centroid tie_assign[k]."""
        if hasattr(self, "tie_c"):
            return self.tie_c[:, self.tie_assign]
        return self.fc3.weight

    def forward(self, x):
        x = self.quant_input(x)
        x = F.max_pool2d(self.a1(self.bn1(F.conv2d(x, BinarySign.apply(self.conv1.weight), padding=2))), 2)
        x = F.max_pool2d(self.a2(self.bn2(F.conv2d(x, BinarySign.apply(self.conv2.weight)))), 2)
        x = torch.flatten(x, 1)
        x = self.a3(self.bn3(F.linear(x, BinarySign.apply(self.fc1.weight))))
        x = self.a4(self.bn4(F.linear(x, BinarySign.apply(self.fc2.weight))))
        return self.bn5(F.linear(x, BinarySign.apply(self.fc3_weight())))

    def clip_latent(self):
        """BinaryConnect: keep the latent real weights in [-1, 1] so the sign can still flip."""
        with torch.no_grad():
            for m in (self.conv1, self.conv2, self.fc1, self.fc2, self.fc3):
                m.weight.clamp_(-1.0, 1.0)
            if hasattr(self, "tie_c"):
                self.tie_c.clamp_(-1.0, 1.0)

    def tie_fc3_rows(self, k, seed):
        """Rename-aware step: cluster fc3's 84 input rows (10-vectors of latent weights) into k groups by k-means
        (seeded, k-means++ start) and tie each row to its group's centroid, so fc3 has at most k distinct binary
        rows and row rename stores at most k rows."""
        w = self.fc3.weight.detach().t().clone()                      # [84, 10] one vector per input row
        g = torch.Generator().manual_seed(seed)
        cent = [w[int(torch.randint(0, w.shape[0], (1,), generator=g))]]
        while len(cent) < k:
            d = torch.cdist(w, torch.stack(cent)).min(1).values ** 2
            cent.append(w[int(torch.multinomial(d / d.sum(), 1, generator=g))])
        c = torch.stack(cent)
        for _ in range(50):
            a = torch.cdist(w, c).argmin(1)
            for j in range(k):
                if bool((a == j).any()):
                    c[j] = w[a == j].mean(0)
        a = torch.cdist(w, c).argmin(1)
        self.tie_c = nn.Parameter(c.t().contiguous())                 # [10, k]
        self.register_buffer("tie_assign", a)


# ---------------------------------------------------------------------------------------------- config
CONFIG = {
    "lenet5_mnist": dict(ds="mnist", net=lambda: LeNet5(1), epochs=12, bs=128, opt="adam", lr=3e-3, wd=0.0,
                         aug=False, threads=1, arch="LeNet-5: conv5x5(1->6,pad2)-ReLU-maxpool2-conv5x5(6->16)-ReLU-"
                                                 "maxpool2-fc(400->120)-ReLU-fc(120->84)-ReLU-fc(84->10)"),
    "mlp_mnist": dict(ds="mnist", net=MLP, epochs=12, bs=128, opt="adam", lr=2e-3, wd=0.0, aug=False, threads=1,
                      arch="MLP: flatten(1x28x28)-fc(784->256)-ReLU-fc(256->128)-ReLU-fc(128->10)"),
    "lenet5_fmnist": dict(ds="fashion-mnist", net=lambda: LeNet5(1), epochs=10, bs=128, opt="adam", lr=3e-3,
                          wd=0.0, aug=False, threads=1,
                          arch="LeNet-5 (same as lenet5_mnist) trained on Fashion-MNIST"),
    "resnet20_cifar10": dict(ds="cifar10", net=lambda: ResNetCifar(3), epochs=30, bs=128, opt="sgd", lr=0.15,
                             wd=5e-4, aug=True, threads=2,
                             arch="ResNet-20 (He et al. 2016, CIFAR variant): conv3x3(3->16)-BN-ReLU, 3 stages x 3 "
                                  "basic blocks (16/32/64 ch, stride 2 at stage 2 and 3, option-B 1x1 conv+BN "
                                  "projection shortcuts), global avg pool, fc(64->10); BN folded into Conv on export"),
    "vgg_small_cifar10": dict(ds="cifar10", net=lambda: VGGSmall(20), epochs=12, bs=128, opt="sgd", lr=0.15,
                              wd=5e-4, aug=True, threads=1,
                              arch="VGG-small: [conv3x3 20, conv3x3 20, maxpool2, conv3x3 40, conv3x3 40, maxpool2, "
                                   "conv3x3 80, conv3x3 80, maxpool2] each conv+BN+ReLU, flatten, fc(1280->10); "
                                   "BN folded into Conv on export"),
    "lenet5_mnist_w1a2": dict(ds="mnist", net=W1A2LeNet5, epochs=10, bs=128, opt="adam", lr=5e-3, wd=0.0,
                              aug=False, threads=1, export=lambda *a: export_w1a2(*a), tie_rows=42,
                              tie_epochs=1, tie_lr=1e-3,
                              arch="LeNet-5 (same shape as lenet5_mnist), integer-trained W1A2: binary +/-1 weights in "
                                   "all five layers (BinaryConnect sign with clipped straight-through gradient, latent "
                                   "weights clipped to [-1,1]), BN after every layer (folded on export into a positive "
                                   "per-channel weight scale, sign flips into the +/-1 codes, and a bias), 2-bit "
                                   "unsigned activations with learned steps (also the ReLU), 2-bit image input; "
                                   "then rename-aware: fc3's 84 input rows k-means-tied to 42 centroids and 1 epoch "
                                   "of fine-tuning (so row rename can store at most 42 of its 84 rows); "
                                   "exported as QDQ (int8 codes +/-1 behind per-channel DequantizeLinear, "
                                   "Clip -> QuantizeLinear(uint8) -> DequantizeLinear on activations)"),
    "lenet5_mnist_qdq": dict(ds="mnist", net=None, epochs=0, threads=1,
                             arch="lenet5_mnist weights, int8 post-training static quantization (eager mode, "
                                  "torch.ao.quantization, qnnpack backend, per-tensor quint8 activations / qint8 "
                                  "weights, 1000 training images for calibration), exported as QuantizeLinear/"
                                  "DequantizeLinear around float Conv/Gemm"),
}
SEED = 20261122


def set_seed(seed):
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)


def rng_state():
    return {"py": random.getstate(), "np": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(s):
    random.setstate(s["py"]); np.random.set_state(s["np"]); torch.set_rng_state(s["torch"])


def augment_batch(xpad, idx, gen):
    """xpad: uint8 [N,C,H+8,W+8] (zero-padded by 4). Random 32x32 crop + horizontal flip, whole batch at once."""
    b = idx.numel()
    c, hp, wp = xpad.shape[1:]
    h, w = hp - 8, wp - 8
    oy = torch.randint(0, 9, (b,), generator=gen)
    ox = torch.randint(0, 9, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    rows = oy[:, None] + torch.arange(h)[None, :]                       # [B,H]
    cols = ox[:, None] + torch.arange(w)[None, :]                       # [B,W]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    x = xpad[idx[:, None, None, None], torch.arange(c)[None, :, None, None], rows[:, None, :, None],
             cols[:, None, None, :]]
    return x


@torch.no_grad()
def evaluate(model, x_u8, y, ds, bs=500):
    model.eval()
    correct, logits_all = 0, []
    for i in range(0, len(y), bs):
        out = model(preprocess(x_u8[i:i + bs], ds))
        logits_all.append(out)
        correct += int((out.argmax(1) == torch.as_tensor(y[i:i + bs])).sum())
    return correct, torch.cat(logits_all)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, in_shape):
    """MACs per inference of Conv2d and Linear layers (BN/ReLU/pool/add not counted) via forward hooks."""
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs[0] += out.numel() // out.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += out.numel() // out.shape[0] * m.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *in_shape))
    for h in hs:
        h.remove()
    return macs[0]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def export_onnx(model, name, ds, in_shape):
    import onnx
    from torch.onnx import TrainingMode
    path = os.path.join(MODELS, name + ".onnx")
    model.eval()
    dummy = torch.zeros(1, *in_shape)
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, training=TrainingMode.EVAL,
                      do_constant_folding=True)
    m = onnx.load(path)
    mean, std = NORM[ds]
    meta = {
        "xbar.dataset": ds,
        "xbar.mean": ",".join(repr(float(v)) for v in mean),
        "xbar.std": ",".join(repr(float(v)) for v in std),
        "xbar.classes": ",".join(CLASSES[ds]),
        "xbar.input_channels": str(in_shape[0]),
        "xbar.model": name,
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add(); p.key = k; p.value = v
    m.producer_name = "xbar models/train.py (torch %s)" % torch.__version__
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    assert "BatchNormalization" not in ops, "BatchNormalization left in %s" % path
    onnx.save(m, path)
    return path, ops


def write_golden(name, ds, correct, total, labels16, logits16, extra=None):
    g = {"model": name, "dataset": ds, "correct": int(correct), "total": int(total),
         "accuracy": correct / total, "first16_labels": [int(v) for v in labels16],
         "first16_logits": [[float(v) for v in row] for row in logits16]}
    if extra:
        g.update(extra)
    with open(os.path.join(MODELS, name + ".golden.json"), "w") as f:
        json.dump(g, f, indent=1)
        f.write("\n")


def finish(name, cfg, model, info):
    if cfg.get("export"):
        return cfg["export"](name, cfg, model, info)
    ds = cfg["ds"]
    in_shape = (1, 28, 28) if ds != "cifar10" else (3, 32, 32)
    xt, yt = load_dataset(ds, "test")
    correct, logits = evaluate(model, xt, yt, ds)
    path, ops = export_onnx(model, name, ds, in_shape)
    write_golden(name, ds, correct, len(yt), yt[:16], logits[:16].tolist(),
                 {"partial": info.get("partial", False)})
    info.update({"model": name, "dataset": ds, "architecture": cfg["arch"], "params": count_params(model),
                 "macs": count_macs(model, in_shape), "pytorch_correct": correct, "total": len(yt),
                 "pytorch_accuracy": correct / len(yt), "onnx_ops": ops, "onnx_bytes": os.path.getsize(path),
                 "onnx_sha256": sha256(path), "torch": torch.__version__, "seed": SEED})
    with open(os.path.join(MODELS, name + ".train.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("%s: PyTorch test accuracy %d/%d = %.4f%s -> %s" % (name, correct, len(yt), correct / len(yt),
                                                            " (PARTIAL)" if info.get("partial") else "", path))


def train(name, args):
    cfg = CONFIG[name]
    ds = cfg["ds"]
    epochs = args.epochs or cfg["epochs"]
    torch.set_num_threads(args.threads or cfg["threads"])
    wdir = os.path.join(WORK, name)
    os.makedirs(wdir, exist_ok=True)
    ckpt_path = os.path.join(wdir, "ckpt.pt")
    set_seed(SEED)
    model = cfg["net"]()
    x, y = load_dataset(ds, "train")
    xt, yt = load_dataset(ds, "test")
    n = len(y)
    steps = (n + cfg["bs"] - 1) // cfg["bs"]  # last partial batch kept
    if cfg["opt"] == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=0.9, nesterov=True, weight_decay=cfg["wd"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], epochs=epochs, steps_per_epoch=steps,
                                                pct_start=0.25 if cfg["opt"] == "sgd" else 0.3)
    gen = torch.Generator().manual_seed(SEED)
    start, wall, history, replans = 0, 0.0, [], []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        replans = ck.get("replans", [])
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
        if ck["epochs_total"] != epochs:
            if not args.replan:
                sys.exit("checkpoint %s was made for %d epochs, not %d: pass --epochs %d, or --replan to stretch/"
                         "shrink the one-cycle schedule from here, or delete it"
                         % (ckpt_path, ck["epochs_total"], epochs, ck["epochs_total"]))
            # new one-cycle schedule over the new total, continuing at the current step
            sched.last_epoch = ck["sched"]["last_epoch"]
            replans.append({"at_epoch": ck["epoch"], "from_epochs": ck["epochs_total"], "to_epochs": epochs})
            print("re-planned the one-cycle schedule at epoch %d: %d -> %d epochs"
                  % (ck["epoch"], ck["epochs_total"], epochs), flush=True)
        else:
            sched.load_state_dict(ck["sched"])
        set_rng_state(ck["rng"]); gen.set_state(ck["gen"])
        start, wall, history = ck["epoch"], ck["wall"], ck["history"]
        print("resumed %s from epoch %d/%d (%.0fs trained so far)" % (name, start, epochs, wall), flush=True)
    if args.export_only:
        info = {"epochs_done": start, "epochs_planned": epochs, "train_wall_seconds": round(wall, 1),
                "history": history, "partial": start < epochs, "schedule_replans": replans}
        return finish(name, cfg, model, info)
    xt_ = xt
    if cfg["aug"]:
        xpad = torch.as_tensor(np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4))))
    xall = torch.as_tensor(x)
    yall = torch.as_tensor(y)
    limit = args.time_epochs if args.time_epochs else epochs
    for ep in range(start, min(epochs, start + limit) if args.time_epochs else epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot_loss, tot_ok = 0.0, 0
        for bi in range(steps):
            idx = perm[bi * cfg["bs"]:(bi + 1) * cfg["bs"]]
            xb = augment_batch(xpad, idx, gen) if cfg["aug"] else xall[idx]
            xb = preprocess(xb, ds)
            yb = yall[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if hasattr(model, "clip_latent"):
                model.clip_latent()
            tot_loss += float(loss) * len(idx)
            tot_ok += int((out.argmax(1) == yb).sum())
            if args.verbose and bi % 50 == 0:
                print("  ep %d step %d/%d loss %.3f %.1fs" % (ep + 1, bi, steps, float(loss), time.time() - t0),
                      flush=True)
        t_train = time.time() - t0
        correct, _ = evaluate(model, xt_, yt, ds)
        wall += time.time() - t0
        rec = {"epoch": ep + 1, "train_loss": tot_loss / n, "train_acc": tot_ok / n, "test_acc": correct / len(yt),
               "epoch_seconds": round(time.time() - t0, 1), "train_seconds": round(t_train, 1),
               "lr_end": sched.get_last_lr()[0]}
        history.append(rec)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "epoch": ep + 1, "epochs_total": epochs, "rng": rng_state(), "gen": gen.get_state(),
                    "wall": wall, "history": history, "replans": replans}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
        print("%s epoch %d/%d loss %.4f train_acc %.4f test_acc %.4f (%.1fs, train %.1fs) lr %.4g"
              % (name, ep + 1, epochs, rec["train_loss"], rec["train_acc"], rec["test_acc"], rec["epoch_seconds"],
                 t_train, rec["lr_end"]), flush=True)
        start = ep + 1
    if start < epochs:
        print("stopped after epoch %d/%d; rerun the same command to resume" % (start, epochs))
        return
    info = {"epochs_done": start, "epochs_planned": epochs, "train_wall_seconds": round(wall, 1),
            "history": history, "partial": False, "schedule_replans": replans}
    finish(name, cfg, model, info)


# ------------------------------------------------------------------------------------- W1A2 export
def fold_w1a2(model):
    """Fold every BN into the binary layer before it: bn(conv(x, sign w)) = conv(x, codes * scale) + bias with
    k = gamma / sqrt(var + eps), codes = sign(w) * sign(k) (still +/-1), scale = |k|, bias = beta - k * mean.
    Returns the layers as plain tensors plus the activation steps."""
    model.eval()
    layers = []
    pairs = [(model.conv1.weight, model.bn1), (model.conv2.weight, model.bn2), (model.fc1.weight, model.bn3),
             (model.fc2.weight, model.bn4), (model.fc3_weight(), model.bn5)]
    with torch.no_grad():
        for lw, bn in pairs:
            k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            assert bool((k != 0).all()), "a BN gain is exactly 0: the weight scale would be 0"
            sign_w = torch.where(lw >= 0, 1.0, -1.0)
            shape = (-1,) + (1,) * (lw.dim() - 1)
            codes = (sign_w * torch.sign(k).view(shape)).to(torch.int8)
            layers.append({"codes": codes, "scale": k.abs().float().clone(),
                           "bias": (bn.bias - k * bn.running_mean).float().clone()})
        steps = [float(a.s()) for a in (model.a1, model.a2, model.a3, model.a4)]
    return {"s0": float(model.s0), "layers": layers, "steps": steps}


def folded_forward(P, x):
    """Exactly the exported graph, op by op, in float32 (Clip -> QuantizeLinear -> DequantizeLinear; Conv/Gemm on
    dequantized +/-1 weights): the reference the golden file is computed from."""
    def qdq(v, s):
        v = torch.clamp(v, 0.0, 3.0 * s)                           # Clip(0, 3s)
        return torch.clamp(torch.round(v / s), 0, 255) * s         # QuantizeLinear(uint8, zp 0) -> DequantizeLinear
    L = P["layers"]
    w = [l["codes"].float() * l["scale"].view((-1,) + (1,) * (l["codes"].dim() - 1)) for l in L]
    x = qdq(x, P["s0"])
    x = F.max_pool2d(torch.clamp(F.conv2d(x, w[0], L[0]["bias"], padding=2), 0.0, 3.0 * P["steps"][0]), 2)
    x = qdq(x, P["steps"][0])
    x = F.max_pool2d(torch.clamp(F.conv2d(x, w[1], L[1]["bias"]), 0.0, 3.0 * P["steps"][1]), 2)
    x = qdq(torch.flatten(x, 1), P["steps"][1])
    x = qdq(F.linear(x, w[2], L[2]["bias"]), P["steps"][2])
    x = qdq(F.linear(x, w[3], L[3]["bias"]), P["steps"][3])
    return F.linear(x, w[4], L[4]["bias"])


class _Folded(nn.Module):
    def __init__(self, P):
        super().__init__()
        self.P = P

    def forward(self, x):
        return folded_forward(self.P, x)


def build_w1a2_onnx(P, name, path):
    """The QDQ graph, written node by node with onnx.helper (opset 13): per layer
    [Clip(0, 3s) -> QuantizeLinear(s, uint8 0) -> DequantizeLinear] -> Conv/Gemm(DequantizeLinear(int8 +/-1,
    per-channel scale, axis 0), float bias); MaxPool and Flatten sit between Clip and QuantizeLinear (max and
    reshape commute with the monotone quantizer)."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    inits, nodes = [], []

    def const(nm, arr):
        inits.append(numpy_helper.from_array(arr, nm))
        return nm

    def qdq(x, s, tag):
        lo = const(tag + "_clip_min", np.array(0.0, dtype=np.float32))
        hi = const(tag + "_clip_max", np.array(3.0 * s, dtype=np.float32))
        sc = const(tag + "_scale", np.array(s, dtype=np.float32))
        zp = const(tag + "_zero_point", np.array(0, dtype=np.uint8))
        nodes.append(helper.make_node("Clip", [x, lo, hi], [tag + "_clipped"], name=tag + "_clip"))
        return tag + "_clipped", sc, zp

    def quant(x, sc, zp, tag):
        nodes.append(helper.make_node("QuantizeLinear", [x, sc, zp], [tag + "_q"], name=tag + "_quant"))
        nodes.append(helper.make_node("DequantizeLinear", [tag + "_q", sc, zp], [tag + "_dq"], name=tag + "_dequant"))
        return tag + "_dq"

    def weight(i, lname):
        l = P["layers"][i]
        q = const(lname + "_w_codes", l["codes"].numpy().astype(np.int8))
        s = const(lname + "_w_scale", l["scale"].numpy().astype(np.float32))
        z = const(lname + "_w_zero_point", np.zeros(l["scale"].numel(), dtype=np.int8))
        nodes.append(helper.make_node("DequantizeLinear", [q, s, z], [lname + "_w"], name=lname + "_w_dequant",
                                      axis=0))
        return lname + "_w", const(lname + "_bias", l["bias"].numpy().astype(np.float32))

    x, sc, zp = qdq("input", P["s0"], "in")
    x = quant(x, sc, zp, "in")
    w, b = weight(0, "conv1")
    nodes.append(helper.make_node("Conv", [x, w, b], ["conv1_out"], name="conv1", kernel_shape=[5, 5],
                                  pads=[2, 2, 2, 2]))
    x, sc, zp = qdq("conv1_out", P["steps"][0], "a1")
    nodes.append(helper.make_node("MaxPool", [x], ["pool1_out"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]))
    x = quant("pool1_out", sc, zp, "a1")
    w, b = weight(1, "conv2")
    nodes.append(helper.make_node("Conv", [x, w, b], ["conv2_out"], name="conv2", kernel_shape=[5, 5]))
    x, sc, zp = qdq("conv2_out", P["steps"][1], "a2")
    nodes.append(helper.make_node("MaxPool", [x], ["pool2_out"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pool2_out"], ["flat"], name="flatten", axis=1))
    x = quant("flat", sc, zp, "a2")
    for i, (lname, nxt) in enumerate((("fc1", "a3"), ("fc2", "a4"), ("fc3", None)), start=2):
        w, b = weight(i, lname)
        out = "logits" if nxt is None else lname + "_out"
        nodes.append(helper.make_node("Gemm", [x, w, b], [out], name=lname, transB=1))
        if nxt is not None:
            x, sc, zp = qdq(out, P["steps"][i], nxt)
            x = quant(x, sc, zp, nxt)
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    mean, std = NORM["mnist"]
    meta = {"xbar.dataset": "mnist", "xbar.mean": ",".join(repr(float(v)) for v in mean),
            "xbar.std": ",".join(repr(float(v)) for v in std), "xbar.classes": ",".join(CLASSES["mnist"]),
            "xbar.input_channels": "1", "xbar.model": name}
    for k, v in meta.items():
        p = m.metadata_props.add(); p.key = k; p.value = v
    m.producer_name = "xbar models/train.py (torch %s)" % torch.__version__
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return sorted({n.op_type for n in m.graph.node})


def unique_rows(model):
    """Distinct binary input rows of fc3 (what row rename stores)."""
    w = (model.fc3_weight() >= 0).t()
    return len({tuple(r.tolist()) for r in w})


def tie_finetune(name, cfg, model, info):
    """Second phase (cfg tie_rows, tie_epochs): tie fc3's rows to tie_rows centroids, then fine-tune everything
    with Adam at a cosine-decayed lr.  Resumable: models/work/NAME/ckpt_tied.pt after every epoch."""
    ds, k, epochs = cfg["ds"], cfg["tie_rows"], cfg["tie_epochs"]
    path = os.path.join(WORK, name, "ckpt_tied.pt")
    x, y = load_dataset(ds, "train")
    xt, yt = load_dataset(ds, "test")
    info["untied_fc3_unique_rows"] = unique_rows(model)
    info["untied_bn_form_correct"] = evaluate(model, xt, yt, ds)[0]
    set_seed(SEED + 1)
    model.tie_fc3_rows(k, SEED)
    info["tied_before_finetune_correct"] = evaluate(model, xt, yt, ds)[0]
    steps = (len(y) + cfg["bs"] - 1) // cfg["bs"]
    opt = torch.optim.Adam(model.parameters(), lr=cfg["tie_lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps)
    gen = torch.Generator().manual_seed(SEED + 1)
    start, hist = 0, []
    if os.path.exists(path):
        ck = torch.load(path)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"]); set_rng_state(ck["rng"]); start, hist = ck["epoch"], ck["history"]
    xall, yall = torch.as_tensor(x), torch.as_tensor(y)
    for ep in range(start, epochs):
        t0 = time.time()
        model.train()
        perm = torch.randperm(len(y), generator=gen)
        for bi in range(steps):
            idx = perm[bi * cfg["bs"]:(bi + 1) * cfg["bs"]]
            loss = F.cross_entropy(model(preprocess(xall[idx], ds)), yall[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step(); sched.step(); model.clip_latent()
        correct, _ = evaluate(model, xt, yt, ds)
        hist.append({"epoch": ep + 1, "test_acc": correct / len(yt), "epoch_seconds": round(time.time() - t0, 1)})
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "gen": gen.get_state(), "rng": rng_state(), "epoch": ep + 1, "history": hist}, path + ".tmp")
        os.replace(path + ".tmp", path)
        print("%s tied fine-tune epoch %d/%d test_acc %.4f (%.1fs)" % (name, ep + 1, epochs, correct / len(yt),
                                                                     time.time() - t0), flush=True)
    info.update({"tie_rows": k, "tie_epochs": epochs, "tie_lr": cfg["tie_lr"], "tie_history": hist,
                 "fc3_unique_rows": unique_rows(model)})


def export_w1a2(name, cfg, model, info):
    ds = cfg["ds"]
    if cfg.get("tie_rows") and not info.get("partial"):
        tie_finetune(name, cfg, model, info)
    xt, yt = load_dataset(ds, "test")
    train_correct, _ = evaluate(model, xt, yt, ds)          # the BN form, as trained
    P = fold_w1a2(model)
    folded = _Folded(P)
    correct, logits = evaluate(folded, xt, yt, ds)           # the exported graph's arithmetic
    path = os.path.join(MODELS, name + ".onnx")
    ops = build_w1a2_onnx(P, name, path)
    write_golden(name, ds, correct, len(yt), yt[:16], logits[:16].tolist(),
                 {"partial": info.get("partial", False),
                  "note": "golden computed by the folded QDQ graph replayed op by op in PyTorch (float32)"})
    nparams = sum(l["codes"].numel() + 2 * l["scale"].numel() for l in P["layers"])
    info.update({"model": name, "dataset": ds, "architecture": cfg["arch"], "params": int(nparams),
                 "macs": count_macs(LeNet5(1), (1, 28, 28)), "pytorch_correct": correct, "total": len(yt),
                 "pytorch_accuracy": correct / len(yt), "bn_form_correct": train_correct,
                 "activation_steps": P["steps"], "input_step": P["s0"],
                 "onnx_ops": ops, "onnx_bytes": os.path.getsize(path), "onnx_sha256": sha256(path),
                 "torch": torch.__version__, "seed": SEED})
    with open(os.path.join(MODELS, name + ".train.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("%s: folded QDQ graph %d/%d = %.4f (BN form %d/%d)%s -> %s" % (
        name, correct, len(yt), correct / len(yt), train_correct, len(yt),
        " (PARTIAL)" if info.get("partial") else "", path))


def quantize_qdq(args):
    """Post-training static int8 quantization of the trained lenet5_mnist (needs models/work/lenet5_mnist)."""
    from torch.ao import quantization as tq
    name, ds = "lenet5_mnist_qdq", "mnist"
    torch.set_num_threads(1)
    set_seed(SEED)
    ck = torch.load(os.path.join(WORK, "lenet5_mnist", "ckpt.pt"))
    assert ck["epoch"] == ck["epochs_total"], "train lenet5_mnist first"
    float_model = LeNet5(1)
    float_model.load_state_dict(ck["model"])
    q = QuantLeNet5()
    q.load_state_dict(float_model.state_dict(), strict=True)
    q.eval()
    torch.backends.quantized.engine = "qnnpack"
    q.qconfig = tq.get_default_qconfig("qnnpack")
    # quantized::linear_relu has no ONNX export in torch 1.13, so only conv+relu are fused
    tq.fuse_modules(q, [["conv1", "relu1"], ["conv2", "relu2"]], inplace=True)
    tq.prepare(q, inplace=True)
    x, y = load_dataset(ds, "train")
    calib = torch.randperm(len(y))[:1000]
    with torch.no_grad():
        for i in range(0, 1000, 100):
            q(preprocess(x[calib[i:i + 100].numpy()], ds))
    tq.convert(q, inplace=True)
    t0 = time.time()
    xt, yt = load_dataset(ds, "test")
    correct, logits = evaluate(q, xt, yt, ds)
    fcorrect, _ = evaluate(float_model, xt, yt, ds)
    path = os.path.join(MODELS, name + ".onnx")
    import onnx
    from torch.onnx import TrainingMode
    torch.onnx.export(q, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      training=TrainingMode.EVAL, do_constant_folding=True)
    m = onnx.load(path)
    mean, std = NORM[ds]
    meta = {"xbar.dataset": ds, "xbar.mean": ",".join(repr(float(v)) for v in mean),
            "xbar.std": ",".join(repr(float(v)) for v in std), "xbar.classes": ",".join(CLASSES[ds]),
            "xbar.input_channels": "1", "xbar.model": name}
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add(); p.key = k; p.value = v
    m.producer_name = "xbar models/train.py (torch %s)" % torch.__version__
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = sorted({n.op_type for n in m.graph.node})
    write_golden(name, ds, correct, len(yt), yt[:16], logits[:16].tolist(),
                 {"note": "golden computed by the PyTorch quantized (qnnpack) model", "partial": False,
                  "output_scale": float(q.fc3.scale), "output_zero_point": int(q.fc3.zero_point)})
    info = {"model": name, "dataset": ds, "architecture": CONFIG[name]["arch"],
            "params": count_params(float_model), "macs": count_macs(float_model, (1, 28, 28)),
            "pytorch_correct": correct, "total": len(yt), "pytorch_accuracy": correct / len(yt),
            "float_correct": fcorrect, "float_accuracy": fcorrect / len(yt),
            "onnx_ops": ops, "onnx_bytes": os.path.getsize(path), "onnx_sha256": sha256(path),
            "epochs_done": 0, "epochs_planned": 0, "train_wall_seconds": round(time.time() - t0, 1),
            "partial": False, "torch": torch.__version__, "seed": SEED, "calibration_images": 1000,
            "quant_engine": "qnnpack"}
    with open(os.path.join(MODELS, name + ".train.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("%s: quantized %d/%d = %.4f (float %d/%d = %.4f) -> %s ops %s"
          % (name, correct, len(yt), correct / len(yt), fcorrect, len(yt), fcorrect / len(yt), path, ops))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(CONFIG))
    ap.add_argument("--epochs", type=int, default=0, help="override the configured epoch count")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--export-only", action="store_true",
                    help="export from the current checkpoint (marked partial if training is unfinished)")
    ap.add_argument("--time-epochs", type=int, default=0, help="run at most K epochs then stop (resumable)")
    ap.add_argument("--replan", action="store_true",
                    help="with --epochs: resume a checkpoint made for a different epoch count, re-planning the "
                         "one-cycle schedule over the new total from the current step")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.name == "lenet5_mnist_qdq":
        return quantize_qdq(args)
    train(args.name, args)


if __name__ == "__main__":
    main()
