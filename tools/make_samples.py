#!/usr/bin/python3
"""Regenerate datasets/samples/ (committed) from the full test sets.

    /usr/bin/python3 tools/make_samples.py

Writes
  datasets/samples/mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz   first 1000 MNIST test images/labels (IDX, gzip)
  datasets/samples/cifar10/test_batch.bin, batches.meta.txt          first 1000 CIFAR-10 test records (binary format)
  datasets/samples/mnist_png/<digit>/tNNNNN.png                      3 per class, grey, NNNNN = test-set index
  datasets/samples/cifar10_png/<class>/tNNNNN.png                    3 per class, RGB,  NNNNN = test-set index
Data files are found like models/train.py does ($XBAR_DATA, datasets/data, the shared copies).
"""
import gzip
import os
import shutil
import struct
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models"))
import train  # noqa: E402

N = 1000
PER_CLASS = 3
OUT = os.path.join(train.REPO, "datasets", "samples")


def gz_write(path, payload):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(payload)


def pick(labels):
    got = {c: [] for c in range(10)}
    for i, c in enumerate(labels):
        if len(got[int(c)]) < PER_CLASS:
            got[int(c)].append(i)
    return got


def main():
    # MNIST
    x, y = train.load_mnist_like("mnist", "test")
    d = os.path.join(OUT, "mnist"); os.makedirs(d, exist_ok=True)
    gz_write(os.path.join(d, "t10k-images-idx3-ubyte.gz"), struct.pack(">IIII", 0x803, N, 28, 28) + x[:N].tobytes())
    gz_write(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), struct.pack(">II", 0x801, N) + y[:N].astype(np.uint8).tobytes())
    d = os.path.join(OUT, "mnist_png"); shutil.rmtree(d, ignore_errors=True)
    for c, idxs in pick(y[:N]).items():
        os.makedirs(os.path.join(d, str(c)), exist_ok=True)
        for i in idxs:
            Image.fromarray(x[i, 0], mode="L").save(os.path.join(d, str(c), "t%05d.png" % i), optimize=True)
    # CIFAR-10
    src = train.find_file("cifar10", "test_batch.bin")
    raw = np.fromfile(src, dtype=np.uint8).reshape(-1, 3073)
    d = os.path.join(OUT, "cifar10"); os.makedirs(d, exist_ok=True)
    raw[:N].tofile(os.path.join(d, "test_batch.bin"))
    shutil.copyfile(train.find_file("cifar10", "batches.meta.txt"), os.path.join(d, "batches.meta.txt"))
    d = os.path.join(OUT, "cifar10_png"); shutil.rmtree(d, ignore_errors=True)
    imgs = raw[:N, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    for c, idxs in pick(raw[:N, 0]).items():
        name = train.CIFAR_CLASSES[c]
        os.makedirs(os.path.join(d, name), exist_ok=True)
        for i in idxs:
            Image.fromarray(np.ascontiguousarray(imgs[i]), mode="RGB").save(os.path.join(d, name, "t%05d.png" % i),
                                                                            optimize=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
