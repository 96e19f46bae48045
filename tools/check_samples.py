#!/usr/bin/python3
"""Check the bundled samples in datasets/samples/ (no fetch needed). Exit status 0 when all checks pass.

    /usr/bin/python3 tools/check_samples.py        (numpy and Pillow, i.e. Debian's python3)

Checks: IDX magic numbers, dimensions and counts (1000); the CIFAR-10 record count (1000 x 3073 bytes) and label
range; the class names; every PNG's size/mode and that its pixels equal the sample record it came from (the file
name tNNNNN.png is the index in the test set); and, when the full test sets are installed, that the samples are
their prefixes.
"""
import gzip
import os
import struct
import sys

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = os.path.join(REPO, "datasets", "samples")
CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
fails = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        fails.append(msg)


def idx(path, magic, dims):
    raw = gzip.open(path).read()
    m, = struct.unpack(">I", raw[:4])
    nd = m & 0xFF
    got = list(struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd]))
    check(m == magic and got == dims and len(raw) == 4 + 4 * nd + int(np.prod(dims)),
          "%s: magic 0x%x dims %s" % (os.path.relpath(path, REPO), m, got))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


def main():
    xi = idx(os.path.join(S, "mnist", "t10k-images-idx3-ubyte.gz"), 0x803, [1000, 28, 28])
    yl = idx(os.path.join(S, "mnist", "t10k-labels-idx1-ubyte.gz"), 0x801, [1000])
    check(set(yl.tolist()) == set(range(10)), "mnist sample labels cover 0..9")
    raw = np.fromfile(os.path.join(S, "cifar10", "test_batch.bin"), np.uint8)
    check(raw.size == 1000 * 3073, "cifar10 sample test_batch.bin has 1000 records of 3073 bytes")
    rec = raw.reshape(-1, 3073)
    check(rec[:, 0].max() <= 9 and set(rec[:, 0].tolist()) == set(range(10)), "cifar10 sample labels cover 0..9")
    names = open(os.path.join(S, "cifar10", "batches.meta.txt")).read().split()
    check(names == CIFAR, "cifar10 batches.meta.txt class names")
    n_png = 0
    for cls in sorted(os.listdir(os.path.join(S, "mnist_png"))):
        for f in sorted(os.listdir(os.path.join(S, "mnist_png", cls))):
            im = Image.open(os.path.join(S, "mnist_png", cls, f)); i = int(f[1:6]); n_png += 1
            ok = im.mode == "L" and im.size == (28, 28) and yl[i] == int(cls) and (np.asarray(im) == xi[i]).all()
            check(ok, "mnist_png/%s/%s" % (cls, f))
    check(n_png >= 20, "mnist_png: %d files" % n_png)
    n_png = 0
    img = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    for cls in sorted(os.listdir(os.path.join(S, "cifar10_png"))):
        for f in sorted(os.listdir(os.path.join(S, "cifar10_png", cls))):
            im = Image.open(os.path.join(S, "cifar10_png", cls, f)); i = int(f[1:6]); n_png += 1
            ok = (im.mode == "RGB" and im.size == (32, 32) and CIFAR[rec[i, 0]] == cls
                  and (np.asarray(im) == img[i]).all())
            check(ok, "cifar10_png/%s/%s" % (cls, f))
    check(n_png >= 20, "cifar10_png: %d files" % n_png)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(S) for f in fs)
    check(total < 5 * 1024 * 1024, "samples total %d bytes < 5 MB" % total)
    # prefixes of the full sets, when installed
    root = os.environ.get("XBAR_DATA", os.path.join(REPO, "datasets", "data"))
    full = os.path.join(root, "mnist", "t10k-images-idx3-ubyte.gz")
    if os.path.exists(full):
        check(gzip.open(full).read()[16:16 + 784000] == xi.tobytes(), "mnist sample = prefix of %s" % full)
    full = os.path.join(root, "cifar10", "test_batch.bin")
    if os.path.exists(full):
        check(open(full, "rb").read(3073000) == rec.tobytes(), "cifar10 sample = prefix of %s" % full)
    print("check_samples: %s" % ("FAIL (%d)" % len(fails) if fails else "PASS"))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
