"""xbar from Python: ctypes bindings over libxbar.so (include/xbar.h).

    import xbar
    r = xbar.run("models/lenet5_mnist.onnx", limit=200, arch="isaac")
    r["analog"]["accuracy"]           # as in `xbar run --json`
    r["layers"]["saturation_rate"]    # one value per matrix layer (numpy array)
    r["energy"]["adc"]                # pJ per inference by component
    xbar.compile("models/lenet5_mnist.onnx", arch="isaac", set={"adc.bits": 6})
    xbar.sweep("models/lenet5_mnist.onnx", arch="isaac", vary={"adc.bits": [4, 5, 6]}, limit=200)

Data is a spec string (as `xbar run --data`: "mnist", a path...), None for
the model's own dataset, or a pair (images, labels) of numpy arrays: images
N x C x H x W, uint8 pixels or float32 pixels in [0, 1].

libxbar.so is found through $XBAR_LIB (the file), then the build tree beside
this package (../../build, or $XBAR_BUILD_DIR), then the install prefix this
package was installed under (PREFIX/share/xbar/python), then the loader's
search path.  No build step beyond the CMake build.  docs/API.md has the rest.
"""
import ctypes
import glob
import itertools
import json
import os

try:
    import numpy as _np
except ImportError:  # the bindings work without numpy; arrays become lists
    _np = None

__all__ = ["run", "compile", "sweep", "version", "Error", "Handle"]

FLOAT, INT8, ANALOG, ALL = 1, 2, 4, 7
_MODES = {"float": FLOAT, "int8": INT8, "analog": ANALOG, "all": ALL}


class Error(RuntimeError):
    """A failed libxbar call; .status is the xbar_status name."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Result(ctypes.Structure):
    _fields_ = [("ran", ctypes.c_int), ("threads", ctypes.c_int), ("images", ctypes.c_int64),
                ("correct", ctypes.c_int64), ("top5_correct", ctypes.c_int64),
                ("accuracy", ctypes.c_double), ("top5_accuracy", ctypes.c_double),
                ("images_per_s", ctypes.c_double), ("seconds", ctypes.c_double)]


def _candidates():
    env = os.environ.get("XBAR_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    builds = [os.environ.get("XBAR_BUILD_DIR"), os.path.join(here, "..", "..", "build")]
    for b in builds:
        if b:
            yield os.path.join(b, "libxbar.so")
    prefix = os.path.normpath(os.path.join(here, "..", "..", "..", ".."))
    for libdir in ("lib", "lib64", "lib/*-linux-gnu"):
        for f in sorted(glob.glob(os.path.join(prefix, libdir, "libxbar.so*"))):
            yield f
    yield "libxbar.so"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            continue
        try:
            return _declare(ctypes.CDLL(path))
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("xbar: cannot load libxbar.so (set XBAR_LIB or build with cmake): " +
                      "; ".join(errors or ["not found"]))


def _declare(lib):
    P, S, I, I64, D = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int64, ctypes.c_double
    sig = {
        "xbar_version": (S, []), "xbar_status_name": (S, [I]), "xbar_new": (P, []),
        "xbar_close": (None, [P]), "xbar_last_error": (S, [P]),
        "xbar_set_threads": (I, [P, I]), "xbar_set_option": (I, [P, S]),
        "xbar_set_quantization": (I, [P, I, I, I64, S, D]),
        "xbar_open_model": (I, [P, S]), "xbar_open_data": (I, [P, S, I64]),
        "xbar_open_images_u8": (I, [P, P, P, I64, I, I, I, I64]),
        "xbar_open_images_f32": (I, [P, P, P, I64, I, I, I, I64]),
        "xbar_set_arch": (I, [P, S]), "xbar_set": (I, [P, S]), "xbar_get": (S, [P, S]),
        "xbar_run": (I, [P, I]), "xbar_compile": (I, [P]),
        "xbar_get_result": (I, [P, I, ctypes.POINTER(_Result), ctypes.c_size_t]),
        "xbar_report_json": (S, [P]),
    }
    for name, (res, args) in sig.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


_lib = _load()


def version():
    """The library's version, MAJOR.MINOR.PATCH."""
    return _lib.xbar_version().decode()


def _b(s):
    return None if s is None else str(s).encode()


def _assignment(key, value):
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (list, tuple)) or (_np is not None and isinstance(value, _np.ndarray)):
        value = ",".join(repr(float(v)) for v in value)  # mean=[0.4914, 0.4822, 0.4465]
    return "%s=%s" % (key, value)


class Handle:
    """One libxbar handle (a model, its data, an arch and the results).

    options: xbar_set_option's run and data options, given before the model
    opens: {"mean": [0.4914, 0.4822, 0.4465], "std": [...], "layout": "nhwc",
    "offset": 100, "resize": 256, "center_crop": 224, "profile_images": 32,
    "classes": path, "max_memory": "4G"} (docs/API.md)."""

    def __init__(self, model, threads=None, options=None):
        self._h = _lib.xbar_new()
        if not self._h:
            raise MemoryError("xbar_new")
        if threads:
            self._call(_lib.xbar_set_threads, int(threads))
        for k, v in (options or {}).items():
            self.option(k, v)
        self._call(_lib.xbar_open_model, _b(os.fspath(model)))

    def close(self):
        if self._h:
            _lib.xbar_close(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _call(self, fn, *args):
        st = fn(self._h, *args)
        if st != 0:
            raise Error(_lib.xbar_status_name(st).decode(), _lib.xbar_last_error(self._h).decode())

    def option(self, key, value):
        """One option (xbar_set_option); each must come before the step that
        reads it (the model, the data or the next run), else Error."""
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        self._call(_lib.xbar_set_option, _b(_assignment(key, value)))

    def quantization(self, w_bits=0, x_bits=0, calib=100, method=None, percentile=99.99):
        self._call(_lib.xbar_set_quantization, int(w_bits), int(x_bits), int(calib), _b(method),
                   float(percentile))

    def data(self, data=None, limit=None):
        limit = int(limit or 0)
        if data is None or isinstance(data, (str, bytes, os.PathLike)):
            self._call(_lib.xbar_open_data, _b(os.fspath(data) if data is not None else None), limit)
            return
        images, labels = data
        if _np is None:
            raise Error("invalid", "image arrays need numpy")
        x = _np.asarray(images)
        if x.ndim == 3:  # N x H x W: grey
            x = x[:, None, :, :]
        if x.ndim != 4:
            raise Error("invalid", "images must be N x C x H x W (got shape %s)" % (x.shape,))
        y = _np.ascontiguousarray(_np.asarray(labels).reshape(-1), dtype=_np.int32)
        if len(y) != x.shape[0]:
            raise Error("invalid", "%d images but %d labels" % (x.shape[0], len(y)))
        if x.dtype == _np.uint8:
            fn = _lib.xbar_open_images_u8
        else:
            x, fn = x.astype(_np.float32), _lib.xbar_open_images_f32
        x = _np.ascontiguousarray(x)
        n, c, h, w = x.shape
        self._call(fn, x.ctypes.data, y.ctypes.data, n, c, h, w, limit)

    def arch(self, arch=None, set=None):
        if arch is not None:
            self._call(_lib.xbar_set_arch, _b(os.fspath(arch)))
        for k, v in (set or {}).items():
            self._call(_lib.xbar_set, _b(_assignment(k, v)))

    def get(self, key):
        v = _lib.xbar_get(self._h, _b(key))
        if v is None:
            raise Error("invalid", _lib.xbar_last_error(self._h).decode())
        return v.decode()

    def run(self, modes=ALL):
        self._call(_lib.xbar_run, int(modes))
        return self.report()

    def compile(self):
        self._call(_lib.xbar_compile)
        return json.loads(self._report_text())

    def result(self, mode):
        r = _Result()
        self._call(_lib.xbar_get_result, _MODES.get(mode, mode), ctypes.byref(r), ctypes.sizeof(r))
        return {f: getattr(r, f) for f, _ in _Result._fields_}

    def _report_text(self):
        text = _lib.xbar_report_json(self._h)
        if text is None:
            raise Error("invalid", _lib.xbar_last_error(self._h).decode())
        return text.decode()

    def report(self):
        """The `xbar run --json` report as a dict, plus "layers" as one array
        per field, "energy" (pJ per inference by component) and "report"
        (the JSON exactly as the CLI writes it)."""
        rep = json.loads(self._report_text())
        out = {k: v for k, v in rep.items() if k not in ("layers", "totals")}
        out["report"] = rep
        if "layers" in rep:
            out["layers"] = _columns(rep["layers"])
            out["totals"] = rep["totals"]
            out["energy"] = dict(rep["totals"]["energy_pj"])
        return out


def _array(values):
    if _np is not None and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return _np.asarray(values, dtype=float)
    return list(values)


def _columns(layers):
    """[{"name": .., "K": ..}, ...] -> {"name": [..], "K": array, "energy_pj": {"adc": array}}."""
    keys = []
    for l in layers:
        keys += [k for k in l if k not in keys]
    cols = {}
    for k in keys:
        vals = [l.get(k) for l in layers]
        if all(isinstance(v, dict) for v in vals):
            cols[k] = {kk: _array([v.get(kk, 0.0) for v in vals]) for kk in vals[0]}
        else:
            cols[k] = _array([float("nan") if v is None else v for v in vals])
    return cols


def _modes(mode, arch):
    if mode is None:
        return ALL if arch is not None else FLOAT | INT8
    if isinstance(mode, str):
        mode = [mode]
    m = 0
    for x in mode:
        m |= _MODES[x] if isinstance(x, str) else int(x)
    return m


def _open(model, data, images, labels, limit, threads, quant, options=None):
    h = Handle(model, threads=threads, options=options)
    try:
        if quant:
            h.quantization(**quant)
        if images is not None:
            data = (images, labels)
        h.data(data, limit)
    except Exception:
        h.close()
        raise
    return h


def run(model, data=None, arch=None, set=None, limit=None, mode=None, images=None, labels=None,
        threads=None, options=None, **quant):
    """Run `model` like `xbar run`: float and int8, plus analog when `arch`
    is given (mode: "float", "int8", "analog", "all" or a list of them).
    options: preprocessing, image window and profile images (Handle).
    quant: w_bits, x_bits, calib, method, percentile (xbar run's options)."""
    with _open(model, data, images, labels, limit, threads, quant, options) as h:
        if arch is not None or set:
            h.arch(arch, set)
        return h.run(_modes(mode, arch))


def compile(model, arch=None, set=None):
    """Mapping and analytic cost on an arch, like `xbar compile --json`."""
    with Handle(model) as h:
        h.arch(arch, set)
        return h.compile()


def sweep(model, data=None, arch=None, set=None, vary=None, limit=None, images=None, labels=None,
          threads=None, options=None, **quant):
    """One row per configuration of the grid `vary` ({"adc.bits": [4, 5, 6]}),
    with the columns of `xbar sweep --csv`.  One handle: model, data and
    calibration images are shared; quantization is redone only when the bit
    widths change."""
    vary = vary or {}
    keys = list(vary)
    rows = []
    with _open(model, data, images, labels, limit, threads, quant, options) as h:
        for values in itertools.product(*(vary[k] for k in keys)):
            h.arch(arch if arch is not None else "isaac", set)
            h.arch(None, dict(zip(keys, values)))
            r = h.run(INT8 | ANALOG)
            t, a = r["totals"], r["analog"]
            row = dict(zip(keys, values))
            row.update(images=a["total"], analog_correct=a["correct"], analog_accuracy=a["accuracy"],
                       int8_accuracy=r["int8"]["accuracy"],
                       energy_pj_per_inference=t["energy_pj_per_inference"],
                       adc_energy_share=t["adc_energy_share"],
                       conversions_per_mac=t["conversions_per_mac"],
                       adc_conversions=t["adc_conversions"], saturation_rate=t["saturation_rate"],
                       latency_ns=t["latency_ns"], tops_per_w=t["tops_per_w"],
                       images_per_s=a["images_per_s"], crossbars=t["crossbars"], tiles=t["tiles"],
                       pipelined_images_per_s=t["pipelined_images_per_s"],
                       adc_energy_pj=t["energy_pj"]["adc"], energy=dict(t["energy_pj"]),
                       layers=r["layers"])
            rows.append(row)
    return rows
