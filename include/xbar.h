/* xbar: the public C API (libxbar.so).
 *
 * Run a trained ONNX network as float, int8 (post-training quantization) and
 * on a simulated RRAM crossbar accelerator ("analog"), and read accuracy,
 * per-layer ADC statistics, energy, latency and area.  It is the pipeline
 * `xbar run` and `xbar compile` use, so the same inputs give the same numbers.
 *
 *     xbar *h = xbar_new();
 *     if (xbar_open_model(h, "models/lenet5_mnist.onnx") != XBAR_OK ||
 *         xbar_open_data(h, "mnist", 1000) != XBAR_OK ||
 *         xbar_set_arch(h, "isaac") != XBAR_OK || xbar_set(h, "adc.bits=6") != XBAR_OK ||
 *         xbar_run(h, XBAR_ALL) != XBAR_OK)
 *         fprintf(stderr, "%s\n", xbar_last_error(h));
 *     xbar_result r;
 *     xbar_get_result(h, XBAR_ANALOG, &r, sizeof r);
 *     printf("analog top-1 %.2f%%\n", 100 * r.accuracy);
 *     xbar_close(h);
 *
 * Conventions
 *   - Every object is an opaque handle `xbar *`; there is no global state.
 *     Calls on one handle are serialised by a lock in the handle (thread-safe
 *     per handle); different handles run in parallel.  Runs use OpenMP
 *     threads inside (xbar_set_threads).
 *   - Fallible calls return an xbar_status; on failure xbar_last_error(h)
 *     gives one sentence naming the file, field or step and the cause.  The
 *     library never exits or aborts.  Notes (e.g. "using the model's default
 *     preprocessing") go to stderr, as in the CLI.
 *   - Strings returned by the library belong to the handle and stay valid
 *     until the next call on that handle (copy them to keep them).
 *   - Result structs are filled by copying at most `size` bytes (pass
 *     sizeof of your struct), so a program built against an older header
 *     keeps working when later versions append fields.
 *
 * Stability promise (docs/API.md)
 *   Version numbers follow semantic versioning: xbar_version() is the
 *   CMake project version, MAJOR.MINOR.PATCH.  Within one MAJOR version
 *   from 1.0 on, existing functions, constants, struct fields and JSON keys
 *   keep their meaning; new ones are only appended.  While MAJOR is 0 the
 *   same holds within one MINOR version (0.1.x), and the library's SONAME
 *   (libxbar.so.0.1) changes with MINOR so that an incompatible library is
 *   never loaded by mistake.  Only the xbar_ names of this header are
 *   exported; everything else in the library is internal. */
#ifndef XBAR_PUBLIC_H
#define XBAR_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define XBAR_API __attribute__((visibility("default")))
#else
#define XBAR_API
#endif

/* --- version and status ---------------------------------------------------- */
/* "MAJOR.MINOR.PATCH", the project version of the library in use. */
XBAR_API const char *xbar_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the library in use. */
XBAR_API int xbar_version_number(void);

typedef enum {
    XBAR_OK = 0,
    XBAR_ERR_IO = 1,          /* file missing, unreadable, short read */
    XBAR_ERR_PARSE = 2,       /* malformed file contents */
    XBAR_ERR_UNSUPPORTED = 3, /* valid input xbar does not implement */
    XBAR_ERR_INVALID = 4,     /* bad argument, wrong order of calls, inconsistent model */
    XBAR_ERR_NOMEM = 5,       /* allocation failed or a size beyond sane limits */
    XBAR_ERR_RUNTIME = 6      /* data-dependent failure while running */
} xbar_status;

/* "ok", "io", "parse", "unsupported", "invalid", "nomem", "runtime". */
XBAR_API const char *xbar_status_name(xbar_status st);

/* --- handles ------------------------------------------------------------- */
typedef struct xbar xbar;

/* A new, empty handle; NULL only when out of memory. */
XBAR_API xbar *xbar_new(void);
/* Frees the handle and everything it holds; NULL is a no-op. */
XBAR_API void xbar_close(xbar *h);
/* Message of the last failed call on h ("" after a successful one). */
XBAR_API const char *xbar_last_error(xbar *h);

/* --- options (any time; they apply from the next run) ----------------------- */
/* Worker threads of the runs; <= 0: OpenMP's default (OMP_NUM_THREADS). */
XBAR_API xbar_status xbar_set_threads(xbar *h, int threads);
/* Post-training quantization: weight and activation bits (2..8; 0: the
 * arch's weight_bits / input_bits when an arch is set, else 8), the
 * calibration image count (default 100; fixed once the first quantization
 * chose the images), method "minmax" (default) or "percentile" and its
 * percentile (default 99.99).  NULL method keeps the current one. */
XBAR_API xbar_status xbar_set_quantization(xbar *h, int w_bits, int x_bits, int64_t calib_images,
                                           const char *method, double percentile);

/* One run or data option "KEY=VALUE", as `xbar run`'s flag of the same
 * name (docs/API.md).  Each is read by one step and must come before it:
 *   before xbar_open_model: mean, std ("a,b,c" or one value; pixel/255
 *     scale), classes (a file), layout (auto | nchw | nhwc), max_memory
 *     (0 or a byte count with K/M/G);
 *   before the data opens: resize, center_crop (image folders; 0: off),
 *     offset (first evaluated image);
 *   any time, from the next run: profile_images (default 16).
 * Given after its step, or with a bad value, it fails and changes nothing. */
XBAR_API xbar_status xbar_set_option(xbar *h, const char *assignment);

/* --- model and data ------------------------------------------------------- */
/* Load an ONNX model (float, or quantized with QDQ / QLinear ops). */
XBAR_API xbar_status xbar_open_model(xbar *h, const char *path);
/* Data by spec, as `xbar run --data`: "mnist", "fashion-mnist", "cifar10"
 * (under $XBAR_DATA or the source tree's datasets/data), or a path to an IDX
 * images file, a CIFAR .bin file or a folder of class-named PNG folders.
 * NULL: the model's own dataset (or its bundled sample).  The first `limit`
 * images are evaluated (<= 0: all); calibration images come after them when
 * the data has them (docs/ARCHITECTURE.md, "the session").  Once per handle. */
XBAR_API xbar_status xbar_open_data(xbar *h, const char *spec, int64_t limit);
/* Data from memory: n images of c x height x width (planar NCHW, c = 1 or 3)
 * and n labels (class indices of the model's outputs), copied.  uint8
 * pixels 0..255, or float pixels in [0, 1] (as torchvision's ToTensor gives,
 * before any normalisation: the model's own mean/std is applied after),
 * which are rounded to 8-bit levels.  `limit` as in xbar_open_data. */
XBAR_API xbar_status xbar_open_images_u8(xbar *h, const uint8_t *images, const int32_t *labels,
                                         int64_t n, int c, int height, int width, int64_t limit);
XBAR_API xbar_status xbar_open_images_f32(xbar *h, const float *images, const int32_t *labels,
                                          int64_t n, int c, int height, int width, int64_t limit);

/* --- architecture --------------------------------------------------------- */
/* A preset name ("isaac", "ideal"; found in $XBAR_ARCH_DIR, the installed
 * share/xbar/arch, or the source tree) or a JSON file (docs/ARCH.md).
 * Replaces the arch and every earlier override.  Default: "isaac". */
XBAR_API xbar_status xbar_set_arch(xbar *h, const char *spec);
/* One override "KEY=VALUE" on the current arch, as `--set`: "adc.bits=6". */
XBAR_API xbar_status xbar_set(xbar *h, const char *assignment);
/* The current value of an arch field as text (the arch's own spelling). */
XBAR_API const char *xbar_get(xbar *h, const char *key);

/* --- running ---------------------------------------------------------------- */
enum { XBAR_FLOAT = 1, XBAR_INT8 = 2, XBAR_ANALOG = 4, XBAR_ALL = 7 };

/* Run the modes in `modes` (an OR of the flags) over the evaluated images,
 * as `xbar run --mode ...` does: int8 and analog quantize first (once per
 * bit width), analog builds the crossbar backend for the current arch,
 * calibrates its ADC when the arch asks for it, runs and costs it.  A
 * model quantized in the file has no float version: XBAR_FLOAT alone fails,
 * with others it is skipped.  Call again after xbar_set to sweep: the
 * model, data, float result and calibration images are kept. */
XBAR_API xbar_status xbar_run(xbar *h, int modes);
/* Mapping and analytic cost of the model's matrix layers on the current
 * arch, without data or quantization (`xbar compile`). */
XBAR_API xbar_status xbar_compile(xbar *h);

/* --- results ---------------------------------------------------------------- */
typedef struct {
    int ran;                  /* 1 when this mode ran in the last xbar_run */
    int threads;
    int64_t images;           /* evaluated */
    int64_t correct, top5_correct;
    double accuracy, top5_accuracy; /* fractions */
    double images_per_s, seconds;
} xbar_result;

/* mode: XBAR_FLOAT, XBAR_INT8 or XBAR_ANALOG. */
XBAR_API xbar_status xbar_get_result(xbar *h, int mode, xbar_result *out, size_t size);

/* Energy components, in report order: "adc", "dac", "crossbar", ... */
#define XBAR_ENERGY_MAX 16
XBAR_API int xbar_energy_count(void);
XBAR_API const char *xbar_energy_name(int k);

/* One matrix layer after xbar_run with XBAR_ANALOG or after xbar_compile.
 * Counts are per image (inference).  The ADC statistics (has_adc_stats) come
 * from the analog run; their meaning is in backend/profile.h / docs/API.md. */
typedef struct {
    char name[128];
    int64_t K, N, groups, positions;
    int64_t replicas, crossbars, tiles;
    double utilisation;
    int64_t macs, adc_conversions, crossbar_activations, dac_activations;
    int adc_bits;
    int has_adc_stats;
    int64_t saturated, observed_conversions, max_value;
    double saturation_rate, zero_share;
    int bits_needed;
    double adc_lsb, adc_full_scale; /* full scale: 0 unless calibrated */
    double energy_pj[XBAR_ENERGY_MAX]; /* by component, xbar_energy_name(k) */
    double energy_pj_total, latency_ns;
} xbar_layer;

/* Number of matrix layers mapped (0 before a run with analog or compile). */
XBAR_API int xbar_layer_count(xbar *h);
XBAR_API xbar_status xbar_get_layer(xbar *h, int i, xbar_layer *out, size_t size);

/* Totals per inference on the current arch. */
typedef struct {
    double energy_pj;                   /* total */
    double energy_by[XBAR_ENERGY_MAX];  /* by component, xbar_energy_name(k) */
    double adc_energy_share;
    double latency_ns, pipeline_interval_ns, pipelined_images_per_s;
    int64_t macs, adc_conversions;
    double conversions_per_mac, tops_per_w, gops_per_s, area_mm2, chip_area_mm2;
    int64_t crossbars, tiles;
    int fits;                           /* the network fits the chip's tiles */
    double saturation_rate;             /* analog run: all layers */
} xbar_cost;

XBAR_API xbar_status xbar_get_cost(xbar *h, xbar_cost *out, size_t size);

/* The JSON report `xbar run --json` writes for the last xbar_run (`xbar
 * compile --json` after xbar_compile): same keys, same values.  NULL on
 * failure.  Owned by the handle. */
XBAR_API const char *xbar_report_json(xbar *h);

#ifdef __cplusplus
}
#endif

#endif
