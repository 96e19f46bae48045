"""The Python bindings (python/xbar) against `xbar run` / `compile` / `sweep`.

Run by ctest "python" with /usr/bin/python3, XBAR_LIB (the built
libxbar.so) and XBAR_BIN (the built xbar).  Exits 77 (skipped) when numpy
is missing."""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed for %s (apt-get install python3-numpy)" % sys.executable)
    sys.exit(77)

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "python"))
import xbar  # noqa: E402

XBAR = os.environ["XBAR_BIN"]
MODEL = os.path.join(SRC, "models", "lenet5_mnist.onnx")
DATA = os.path.join(SRC, "datasets", "samples", "mnist", "t10k-images-idx3-ubyte.gz")


def cli_json(*args):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        subprocess.run([XBAR, *args, "--json", out], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def strip_timing(rep):
    for mode in ("float", "int8", "analog"):
        for k in ("images_per_s", "seconds", "threads"):
            rep.get(mode, {}).pop(k, None)
    # how the CLI was run (command line, date) and its collapse diagnosis:
    # the CLI's additions, not results the library computes differently
    rep.pop("provenance", None)
    rep.pop("diagnosis", None)
    return rep


def test_run():
    sets = {"adc.bits": 5, "adc.range": "calibrated"}
    r = xbar.run(MODEL, data=DATA, limit=300, arch="isaac", set=sets)
    c = cli_json("run", MODEL, "--data", DATA, "--limit", "300", "--arch", "isaac",
                 "--set", "adc.bits=5", "--set", "adc.range=calibrated")
    for m in ("float", "int8", "analog"):
        check(r[m]["correct"] == c[m]["correct"] and r[m]["accuracy"] == c[m]["accuracy"],
              "%s accuracy %.4f equals xbar run's %.4f" % (m, r[m]["accuracy"], c[m]["accuracy"]))
    check(strip_timing(r["report"]) == strip_timing(c), "the JSON report equals xbar run --json")
    check(isinstance(r["layers"]["saturation_rate"], np.ndarray) and
          len(r["layers"]["saturation_rate"]) == len(c["layers"]), "per-layer arrays")
    check(np.allclose(r["layers"]["energy_pj"]["adc"], [l["energy_pj"]["adc"] for l in c["layers"]]),
          "per-layer ADC energy")
    check(abs(sum(r["energy"].values()) - c["totals"]["energy_pj_per_inference"]) <=
          1e-6 * c["totals"]["energy_pj_per_inference"], "energy breakdown sums to the total")


def test_arrays():
    import gzip
    with gzip.open(DATA) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    lab_path = DATA.replace("images-idx3", "labels-idx1")
    with gzip.open(lab_path) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    spec = xbar.run(MODEL, data=DATA, limit=200, arch="isaac")
    u8 = xbar.run(MODEL, images=raw, labels=labels, limit=200, arch="isaac")
    f32 = xbar.run(MODEL, data=(raw.astype(np.float32) / 255.0, labels), limit=200, arch="isaac")
    for m in ("float", "int8", "analog"):
        check(spec[m]["correct"] == u8[m]["correct"] == f32[m]["correct"],
              "%s: numpy uint8 and float32 batches give the spec's %d" % (m, spec[m]["correct"]))
    try:
        xbar.run(MODEL, images=raw[:4, :, :20, :20], labels=labels[:4])
        check(False, "a wrong image size fails")
    except xbar.Error as e:
        check("28" in str(e) or "size" in str(e), "a wrong image size fails: %s" % e)


def test_compile_and_sweep():
    comp = xbar.compile(MODEL, arch="isaac", set={"adc.bits": 6})
    c = cli_json("compile", MODEL, "--arch", "isaac", "--set", "adc.bits=6")
    c.pop("provenance", None)  # how the CLI was run: its addition
    check(comp == c, "xbar.compile equals xbar compile --json")
    rows = xbar.sweep(MODEL, data=DATA, arch="isaac", vary={"adc.bits": [4, 6]}, limit=200)
    out = subprocess.run([XBAR, "sweep", MODEL, "--data", DATA, "--limit", "200", "--arch", "isaac",
                          "--vary", "adc.bits=4,6"], check=True, capture_output=True, text=True).stdout
    # the CSV's leading '#' lines are its provenance, not rows
    cli = list(csv.DictReader(l for l in io.StringIO(out) if not l.startswith("#")))
    check(len(rows) == len(cli) == 2, "one row per configuration")
    for r, c in zip(rows, cli):
        check(r["analog_correct"] == int(c["analog_correct"]) and
              abs(r["energy_pj_per_inference"] - float(c["energy_pj_per_inference"])) <=
              1e-5 * r["energy_pj_per_inference"],
              "adc.bits=%s: %d correct as xbar sweep" % (r["adc.bits"], r["analog_correct"]))


def test_errors():
    h = xbar.Handle(MODEL)
    try:
        h.arch("isaac", {"adc.bits": "many"})
        check(False, "a bad --set value fails")
    except xbar.Error as e:
        check(e.status == "invalid" and "adc.bits" in str(e), "bad value: %s" % e)
    try:
        h.run()
        check(False, "running without data fails")
    except xbar.Error as e:
        check("data" in str(e), "no data: %s" % e)
    h.close()
    try:
        xbar.Handle("/nonexistent.onnx")
        check(False, "a missing model fails")
    except xbar.Error as e:
        check(e.status == "io", "missing model: %s" % e)
    check(xbar.version().count(".") == 2, "version " + xbar.version())


def test_options():
    opts = {"mean": [0.2], "std": 0.5, "offset": 40, "profile_images": 50}
    r = xbar.run(MODEL, data=DATA, limit=120, arch="isaac", set={"adc.bits": 5}, options=opts)
    c = cli_json("run", MODEL, "--data", DATA, "--limit", "120", "--arch", "isaac",
                 "--set", "adc.bits=5", "--mean", "0.2", "--std", "0.5", "--offset", "40",
                 "--profile-images", "50")
    check(strip_timing(r["report"]) == strip_timing(c),
          "options mean, std, offset, profile_images equal xbar run's flags")
    d = cli_json("run", MODEL, "--data", DATA, "--limit", "120", "--arch", "isaac",
                 "--set", "adc.bits=5", "--offset", "40")
    check(strip_timing(r["report"]) != strip_timing(d), "and differ from the run without them")
    h = xbar.Handle(MODEL)
    try:
        h.option("mean", 0.5)
        check(False, "mean after the model opened fails")
    except xbar.Error as e:
        check("before xbar_open_model" in str(e), "an option after its step: %s" % e)
    h.close()


for t in (test_run, test_arrays, test_compile_and_sweep, test_errors, test_options):
    t()
print("python bindings: ok")
