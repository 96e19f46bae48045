#!/usr/bin/python3
"""Seed corpora for the fuzz harnesses, from the repository's real files.

usage: tests/fuzz/make_seeds.py OUTDIR [NODE_TEST_DIR]

Writes OUTDIR/<target>/ for every harness in tests/fuzz.  NODE_TEST_DIR
(default build/onnx-node-tests/node, made by the normal build) adds the
ONNX node-test models and tensor .pb files.  Paired formats use the
harnesses' layout: 2-byte little-endian length, first file, second file.
"""
import glob
import gzip
import os
import random
import re
import shutil
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def put(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pair(first, second):
    return struct.pack("<H", len(first)) + first + second


# fuzz_argv: first byte = command modulo 11 (0 run, 1 sweep, 2 compile,
# 3 merge, 4 meta, 5 plot, 6 report, 7 info, 8 optimize, 9 classify,
# 10 check-onnx), then the
# arguments separated by NUL bytes (tests/fuzz/fuzz_argv.c).
ARGV_SEEDS = [
    (0, ["m.onnx", "--data", "mnist", "--limit", "100", "--mode", "int8", "--json", "-"]),
    (0, ["m.onnx", "--data=d", "--calib", "10", "--w-bits", "4", "--x-bits=6", "--threads", "2"]),
    (0, ["m.onnx", "--calib-method", "percentile", "--percentile", "99.9", "--mode", "float"]),
    (0, ["m.onnx", "--mode", "analog", "--arch", "isaac", "--set", "adc.bits=6", "--set",
         "nonideal.seed=9007199254740993", "--csv", "c.csv", "--adc-hist", "h.csv",
         "--profile-images", "4"]),
    (0, ["--arch", "ideal", "--set", "adc.layer_bits=0=4/-1=6", "--set", "crossbar.slices=4/4",
         "--", "-m.onnx"]),
    (1, ["m.onnx", "--data", "mnist", "--arch", "isaac", "--vary", "adc.bits=4:8", "--vary",
         "encoding=offset,differential,center", "--csv", "s.csv", "--resume"]),
    (1, ["m.onnx", "--data", "d", "--vary", "crossbar.rows=64:256:64", "--limit", "5",
         "--calib", "5", "--set", "adc.range=calibrated"]),
    (1, ["m.onnx", "--data", "d", "--vary", "nonideal.read_sigma=0,0.01,.1", "--threads=1"]),
    (2, ["m.onnx", "--arch", "isaac", "--set", "flip=true", "--json", "-", "--heatmap", "h.png"]),
    (2, ["m.onnx", "--set", "mapping.replication=balance", "--set", "energy.adc_pj.8=1.5",
         "--arch-out", "a.json"]),
    (2, ["--help"]),
    (0, ["m.onnx", "--max-memory", "512M", "--threads", "1024", "--limit", "10"]),
    (1, ["m.onnx", "--data", "d", "--vary", "adc.bits=4,5", "--max-memory=2G"]),
    (3, ["--csv", "out.csv", "s0.csv", "s1.csv"]),
    (3, ["--json=-", "r0.json", "r1.json", "--", "-r2.json"]),
    (4, ["m.onnx", "--set-mean", "0.5,0.5,0.5", "--set-classes", "a,b", "--set", "k=v=w",
         "--unset", "xbar.std", "-o", "out.onnx"]),
    (4, ["m.onnx", "--set-dataset=mnist", "--output", "m.onnx"]),
    (5, ["r.json", "s.csv", "-o", "plots"]),
    (6, ["r.json", "--out=r.html"]),
    (7, ["m.onnx"]),
    (8, ["m.onnx", "--data", "d", "--arch", "isaac", "--method", "lrmp", "--budget-tiles", "40"]),
    (9, ["m.onnx", "a.png", "b.jpg", "--json", "-", "--mean", "0.5", "--std=0.25"]),
    (9, ["m.onnx", "a.png", "--resize", "32", "--center-crop", "28", "--json", "m.onnx"]),
    (10, ["-q", "--list", "tests/onnx_node_tests.txt", "--root", "r", "d1", "d2"]),
]


def argv_seeds(out):
    for k, (cmd, args) in enumerate(ARGV_SEEDS):
        put(out, "argv", "seed_%02d" % k, bytes([cmd]) + b"\0".join(a.encode() for a in args))
    # A libFuzzer dictionary: every option the commands know and every
    # architecture key (run_all.sh passes it with -dict).
    words = set()
    for p in glob.glob(os.path.join(ROOT, "cli/*.c")):
        words.update(re.findall(r'"(--[a-z][a-z-]*)"', open(p).read()))
    arch = open(os.path.join(ROOT, "backend/arch.c")).read()
    words.update(k + "=" for k in re.findall(r'\{"([a-z_.0-9]+)", F_', arch))
    words.update("energy.adc_pj.%d=" % b for b in range(4, 11))
    words.update(["-o", "-", "--set", "--vary", ":", ",", "/", "=", "isaac", "ideal", "-1", "99999999999999999999"])
    with open(os.path.join(out, "argv.dict"), "w") as f:
        for w in sorted(words):
            f.write('"%s"\n' % w.replace("\\", "\\\\").replace('"', '\\"'))


def jpeg_seeds(out):
    """fuzz_jpeg: one byte of image options (0 none, 1 --resize 32
    --center-crop 28, 2 --resize 28; tests/fuzz/fuzz_jpeg.c), then a JPEG:
    sample PNGs re-encoded by Pillow (baseline and progressive, grey, RGB at
    4:4:4 and 4:2:0, optimized Huffman tables, restart markers) and a CMYK
    one, which the loader refuses."""
    try:
        from PIL import Image
    except ImportError:
        print("make_seeds: no Pillow, no JPEG seeds", file=sys.stderr)
        return
    import io
    samples = os.path.join(ROOT, "datasets/samples")
    grey = Image.open(sorted(glob.glob(os.path.join(samples, "mnist_png/*/*.png")))[0])
    rgb = Image.open(sorted(glob.glob(os.path.join(samples, "cifar10_png/*/*.png")))[0]).convert("RGB")
    cases = [
        ("grey_q90", 0, grey.convert("L"), dict(quality=90)),
        ("grey_prog", 0, grey.convert("L"), dict(quality=75, progressive=True)),
        ("grey_rgb_444", 0, grey.convert("RGB"), dict(quality=95, subsampling=0)),
        ("rgb32_crop_420", 1, rgb, dict(quality=75, subsampling=2)),
        ("rgb32_crop_prog_opt", 1, rgb, dict(quality=50, progressive=True, optimize=True)),
        ("rgb32_resize_restart", 2, rgb, dict(quality=85, restart_marker_blocks=1)),
        ("cmyk", 0, grey.convert("CMYK"), dict(quality=90)),
    ]
    for name, mode, im, kw in cases:
        b = io.BytesIO()
        im.save(b, "JPEG", **kw)
        put(out, "jpeg", name, bytes([mode]) + b.getvalue())


def crossbar_seeds(out):
    """fuzz_crossbar: a 16-byte header (tests/fuzz/fuzz_crossbar.c's
    make_cfg) then weight and input bytes: ISAAC-like layers (128 rows,
    8-bit weights in 2-bit cells, 1-bit DAC, 6-bit clipping ADC, with and
    without flip), a signed differential pair, center, lossless, a rounding
    ADC and one position (a fully connected layer)."""
    rnd = random.Random(5)
    #           K-1    N-1 rows wb/xb dac/cell enc slic adc bits P?  P-1 band
    layers = {"isaac_flip": (287, 31, 4, 55, 6, 3, 0, 1, 5, 1, 63, 10),
              "isaac_offset": (143, 15, 4, 55, 6, 0, 0, 1, 5, 1, 40, 17),
              "signed_pair": (200, 20, 4, 55, 6, 17, 0, 1, 4, 1, 30, 5),
              "center": (99, 9, 3, 55, 6, 2, 1, 1, 6, 1, 20, 3),
              "lossless": (63, 7, 2, 54, 7, 1, 0, 0, 0, 1, 16, 2),
              "rounding": (127, 7, 4, 55, 6, 0, 0, 2, 0x25, 1, 12, 4),
              "one_position": (383, 39, 4, 55, 6, 3, 0, 1, 5, 0, 0, 8),
              # header byte 13 (5): read_sigma 0.5, the integer read noise
              "read_noise": (287, 31, 4, 55, 6, 3, 0, 1, 7, 1, 63, 10, 5)}
    for name, h in layers.items():
        head = bytes([h[0] & 255, h[0] >> 8] + list(h[1:]) + [0] * (15 - len(h)))
        body = bytes(rnd.choice((0, 0, 1, 2, 3, 5, 9, 17, 40, 128, 255)) if i % 2 else
                     rnd.randrange(256) for i in range(4000))
        put(out, "crossbar", name, head + body)


def main():
    out = sys.argv[1]
    node = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build/onnx-node-tests/node")
    for p in sorted(glob.glob(os.path.join(ROOT, "models/*.onnx"))):
        put(out, "onnx", os.path.basename(p), open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(node, "*/model.onnx"))):
        put(out, "onnx", os.path.basename(os.path.dirname(p)) + ".onnx", open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(node, "*/test_data_set_0/*.pb"))):
        case = os.path.basename(os.path.dirname(os.path.dirname(p)))
        put(out, "tensor_pb", case + "_" + os.path.basename(p), open(p, "rb").read())
    for p in sorted(glob.glob(os.path.join(ROOT, "datasets/samples/*_png/*/*.png"))):
        rel = os.path.relpath(p, os.path.join(ROOT, "datasets/samples")).replace("/", "_")
        put(out, "png", rel, open(p, "rb").read())
    jpeg_seeds(out)
    # IDX: the first n images/labels of the MNIST sample, plain and gzip.
    mn = os.path.join(ROOT, "datasets/samples/mnist")
    img = gzip.open(os.path.join(mn, "t10k-images-idx3-ubyte.gz")).read()
    lab = gzip.open(os.path.join(mn, "t10k-labels-idx1-ubyte.gz")).read()
    for n in (1, 3):
        i = img[:4] + struct.pack(">III", n, 28, 28) + img[16:16 + n * 784]
        l = lab[:4] + struct.pack(">I", n) + lab[8:8 + n]
        put(out, "idx", "plain_%d" % n, pair(l, i))
        put(out, "idx", "gz_%d" % n, pair(gzip.compress(l, mtime=0), gzip.compress(i, mtime=0)))
    # CIFAR: the first records of the sample, with and without class names.
    cf = os.path.join(ROOT, "datasets/samples/cifar10")
    rec = open(os.path.join(cf, "test_batch.bin"), "rb").read()[:2 * 3073]
    meta = open(os.path.join(cf, "batches.meta.txt"), "rb").read()
    put(out, "cifar", "meta_2", pair(meta, rec))
    put(out, "cifar", "nometa_1", pair(b"", rec[:3073]))
    put(out, "cifar", "gz_meta_1", pair(meta, gzip.compress(rec[:3073], mtime=0)))
    for p in sorted(glob.glob(os.path.join(ROOT, "backend/arch/*.json"))):
        put(out, "arch", os.path.basename(p), open(p, "rb").read())
    put(out, "arch", "set_adc", b"adc.bits=6")
    put(out, "arch", "set_range", b"adc.range=calibrated")
    put(out, "arch", "nested", b'{"energy": {"adc_pj": {"8": 1.5}}, "encoding": "differential",'
        b' "adc": {"signed": true}, "nonideal": {"seed": 7}}')
    argv_seeds(out)
    crossbar_seeds(out)
    for t in sorted(os.listdir(out)):
        if not os.path.isdir(os.path.join(out, t)):
            continue
        print("%-10s %5d seeds" % (t, len(os.listdir(os.path.join(out, t)))))


if __name__ == "__main__":
    main()
