/* One evaluation session: the pipeline every command that runs a model
 * goes through (xbar run, sweep, compile, classify).
 *
 *   s = xb_session_open(model)            load the model (batch 1) and its
 *                                          preprocessing metadata
 *   xb_session_open_data(s, spec, limit)  load the data, match class names,
 *                                          check it fits the model
 *   xb_session_choose_calibration(s, N)   the calibration images (policy below)
 *   xb_session_quantize(s, &qo)           PTQ on them (a quantized model is
 *                                          used as it is)
 *   xb_session_run_float / _run_int8       over the evaluated images
 *   xb_session_build_backend(s, &arch)    the analog engine for one arch
 *   xb_session_calibrate_adc(s)           when xb_arch_needs_calibration
 *   xb_session_run_analog(s)              analog run, then mapping cost
 *
 * Calibration policy (one for quantization and for the ADC range): the N
 * images right after the evaluated ones when the data has them; else the N
 * before them when --offset leaves that many; else the
 * first N of the training split stored beside the data file (see
 * xb_dataset_train_split) when present; else the first N images of the data
 * itself, which overlap the evaluated ones.  xb_session_calibration() says
 * which was used.
 *
 * Re-running parts: a session keeps the model, the data, the float result
 * and the calibration images.  xb_session_quantize with the same options
 * keeps the quantized graph and its int8 result (xb_session_run_int8 is then
 * a no-op); xb_session_build_backend replaces the previous backend, its ADC
 * calibration, analog result and cost.  So a sweep holds one session and
 * calls quantize / run_int8 / build_backend / calibrate_adc / run_analog per
 * configuration.
 *
 * Ownership: the session owns everything it loads or builds; pointers from
 * the accessors stay valid until the step that replaces them (quantize for
 * the int8 graph, build_backend for backend, mapping and cost) or
 * xb_session_free.  Functions return a status with the message in ctx; the
 * session prints nothing on stdout (notes go to stderr through
 * xb_report_note) and keeps no global state.  Runs draw the runner's
 * progress bar when opts.progress is set. */
#ifndef XBAR_SESSION_H
#define XBAR_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/arch.h"
#include "backend/compile.h"
#include "backend/cost.h"
#include "backend/engine.h"
#include "eval/dataset.h"
#include "eval/preprocess.h"
#include "eval/runner.h"
#include "frontend/quantize.h"

typedef struct xb_session xb_session;

typedef struct {
    int threads;            /* runner threads; <= 0: OpenMP's default */
    bool progress;          /* runner progress reports on stderr */
    int progress_mode;      /* xb_progress_mode (eval/progress.h); 0: auto */
    int64_t profile_images; /* backend: images whose every column sum is recorded
                               (xb_backend.profile_images); < 0: the backend's default */
    const volatile sig_atomic_t *cancel; /* optional: stops runs (xb_run_opts.cancel) */
    xb_preproc_opts pre;    /* --mean/--std/--classes/--layout (read by xb_session_open) */
    xb_image_opts img;      /* --resize/--center-crop (read by xb_session_open_data) */
    int64_t offset;         /* evaluate from this image on (read by xb_session_open_data) */
    bool keep_scores;       /* keep every evaluated image's scores per mode (for top-5 in
                               xb_session_write_predictions); at most 1 GiB per mode */
    uint64_t max_memory;    /* --max-memory: bytes, 0 = none; checked by xb_session_open (model
                               and threads) and xb_session_open_data (dataset) before they
                               allocate (eval/membudget.h) */
} xb_session_opts;

/* The calibration images chosen by xb_session_choose_calibration. */
typedef struct {
    const xb_dataset *set;  /* the data itself or its training split */
    const char *source;     /* set->path */
    int64_t first, n;       /* images first .. first + n - 1 of set */
    const char *how;        /* "after the evaluated ones: disjoint from them", ... */
} xb_session_calib;

/* Load `model` (prepared for batch 1) and its preprocessing; notes about
 * the preprocessing go to stderr.  `opts` may be NULL (defaults). */
xb_status xb_session_open(const char *model, const xb_session_opts *opts, xb_session **out,
                          xb_ctx *ctx);
void xb_session_free(xb_session *s);
/* Replace the options (NULL: defaults): threads apply from the next run,
 * profile_images from the next backend. */
void xb_session_set_opts(xb_session *s, const xb_session_opts *opts);

/* The model's own dataset (metadata xbar.dataset) when installed, else its
 * bundled sample, else the name (the loader then explains what is missing);
 * NULL when the model names no dataset or names one that is not mnist,
 * fashion-mnist or cifar10 (metadata never names a path; a note says so).
 * Points into the session. */
const char *xb_session_default_data(xb_session *s);

/* Load the data (see xb_dataset_open_opts: opts.img resizes and crops
 * image folders), relabel it to the model's classes and check its images
 * fit the model (notes on stderr); evaluate `limit` images (<= 0: all)
 * from image opts.offset on (an offset past the end fails). */
xb_status xb_session_open_data(xb_session *s, const char *spec, int64_t limit, xb_ctx *ctx);

/* The same for data already in memory (the C API's images): the session
 * takes ownership of `d`, also on failure. */
xb_status xb_session_set_data(xb_session *s, xb_dataset *d, int64_t limit, xb_ctx *ctx);

/* Run only images first .. first + n - 1 of the evaluated ones (a shard of
 * them: xbar run --shard); the calibration images stay those of the whole
 * evaluated set, so every shard computes on the same integers. */
xb_status xb_session_select(xb_session *s, int64_t first, int64_t n, xb_ctx *ctx);

/* Choose `n` calibration images by the policy above (fewer when the chosen
 * source has fewer).  May open the training split. */
xb_status xb_session_choose_calibration(xb_session *s, int64_t n, xb_ctx *ctx);
const xb_session_calib *xb_session_calibration(const xb_session *s);

/* PTQ of the model on the calibration images (calib_images is set from
 * them); a model already quantized is used as it is and `qo` ignored.
 * With the same options as the last call, nothing is redone. */
xb_status xb_session_quantize(xb_session *s, const xb_quant_opts *qo, xb_ctx *ctx);

/* Runs over the evaluated images: the model as loaded, the quantized one
 * (cached until the next re-quantization), the analog backend (then its
 * cost per inference). */
xb_status xb_session_run_float(xb_session *s, xb_ctx *ctx);
xb_status xb_session_run_int8(xb_session *s, xb_ctx *ctx);

/* The analog engine for `arch` on the quantized graph, replacing any
 * previous one (and its calibration, result and cost). */
xb_status xb_session_build_backend(xb_session *s, const xb_arch *arch, xb_ctx *ctx);
/* Calibrate the ADC full scale on the calibration images (run with the
 * backend in calibration mode).  Only meaningful when
 * xb_arch_needs_calibration(arch). */
xb_status xb_session_calibrate_adc(xb_session *s, xb_ctx *ctx);
xb_status xb_session_run_analog(xb_session *s, xb_ctx *ctx);

/* Mapping and cost of the model's matrix layers on `arch` without building
 * the analog engine (xbar compile: no data, no quantization needed). */
xb_status xb_session_map(xb_session *s, const xb_arch *arch, xb_ctx *ctx);

/* Class probabilities of one PNG or JPEG image (by its name; resized and
 * cropped by opts.img; softmax of the scores, unless the
 * model already ends in a Softmax): prob has xb_session_preproc(s)->n_outputs
 * entries.  Images must have the model's size. */
xb_status xb_session_classify_png(xb_session *s, const char *png, double *prob, xb_ctx *ctx);

/* --- results and parts ------------------------------------------------------- */
enum { XB_SESSION_FLOAT, XB_SESSION_INT8, XB_SESSION_ANALOG };
/* Result of the last run of that kind (zeros if it did not run). */
const xb_run_result *xb_session_result(const xb_session *s, int which);
/* Bytes --max-memory still allows on top of what the session holds (model,
 * threads and the decoded test and training pixels, as charged when they
 * were opened); UINT64_MAX without a limit.  For optional extra memory,
 * such as the diagnosis's kept activations. */
uint64_t xb_session_mem_left(const xb_session *s);
const char *xb_session_model(const xb_session *s);
const xb_graph *xb_session_graph(const xb_session *s);       /* as loaded */
/* The graph float runs execute: the loaded graph with each Conv + Relu
 * fused into one node (frontend/onnx.h xb_float_run_graph), built on first
 * use; the loaded graph itself when nothing fuses.  Same outputs. */
xb_status xb_session_float_run_graph(xb_session *s, const xb_graph **out, xb_ctx *ctx);
const xb_graph *xb_session_int8_graph(const xb_session *s);  /* NULL before quantize */
const xb_preproc *xb_session_preproc(const xb_session *s);
const xb_dataset *xb_session_data(const xb_session *s);      /* NULL before open_data */
int64_t xb_session_count(const xb_session *s);               /* images run (the shard's part) */
int64_t xb_session_first(const xb_session *s);               /* index of the first run, absolute */
/* Top-1 class of each evaluated image in the last run of that kind
 * (xb_session_count entries), or NULL if it did not run. */
const int32_t *xb_session_predictions(const xb_session *s, int which);
/* Their scores ([count][n_outputs]) when opts.keep_scores, else NULL. */
const float *xb_session_scores(const xb_session *s, int which);
/* Those as CSV (eval/predictions.c): index,file,label,label_name, then
 * MODE,MODE_name per mode that ran (and MODE_top5, five classes best first
 * separated by ';', when the scores were kept); file is empty for IDX/CIFAR
 * data and names are empty without class names.  "-": stdout. */
xb_status xb_session_write_predictions(const xb_session *s, const char *path, xb_ctx *ctx);
int64_t xb_session_evaluated(const xb_session *s);           /* the whole evaluated set */
bool xb_session_prequantized(const xb_session *s);           /* quantized in the file */
const xb_arch *xb_session_arch(const xb_session *s);         /* NULL before backend/map */
xb_backend *xb_session_backend(const xb_session *s);         /* NULL unless built */
const xb_mapping *xb_session_mapping(const xb_session *s);
const xb_cost *xb_session_cost(const xb_session *s);
/* ADC conversions and saturated ones over the analog run, all layers. */
void xb_session_adc_counts(const xb_session *s, int64_t *conversions, int64_t *saturated);

/* The quantization options of the current int8 graph (NULL before
 * xb_session_quantize, or for a model quantized in its file). */
const xb_quant_opts *xb_session_quant_opts(const xb_session *s);

/* --- the run report ---------------------------------------------------------- */
struct cJSON;
/* The report `xbar run --json` writes, with every mode that has a result:
 * model and dataset labels as given (NULL: the model path, ""), "float",
 * "int8" (with the quantization as run), "analog", "layers", "totals".
 * The caller deletes it. */
struct cJSON *xb_session_run_json(const xb_session *s, const char *model, const char *dataset);

#endif
