/* The evaluation pipeline (session.h): model, data, calibration images,
 * quantization, analog backend, runs and cost, held in one session. */
#include "eval/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/membudget.h"
#include "eval/report.h"
#include "frontend/onnx.h"

#ifndef XBAR_SOURCE_DIR
#define XBAR_SOURCE_DIR "."
#endif

struct xb_session {
    xb_session_opts opts;
    char *model;
    xb_graph *fg;           /* as loaded */
    xb_graph *fg_run;       /* fg with Conv + Relu fused, for float runs (lazy; NULL: fg) */
    bool fg_run_done;
    xb_preproc pp;
    char default_data[4096];
    /* data */
    xb_dataset *d;
    int64_t off, count;     /* the evaluated set: images #off..#off+count-1 (--offset, --limit) */
    int64_t first, n_eval;  /* the part of it this session runs (xb_session_select), absolute */
    int32_t *pred[3];       /* per mode: top-1 class of each image run */
    float *scores[3];       /* per mode, with opts.keep_scores: [n_eval][n_outputs] */
    /* calibration images */
    xb_dataset *train;      /* the training split, when the policy chose it */
    xb_session_calib cal;
    bool cal_chosen;
    float *cal_images;      /* preprocessed, for PTQ (lazy) */
    /* quantization */
    xb_graph *qg;           /* fg when the file is quantized */
    xb_quant_opts qo;
    bool int8_done;
    /* analog */
    xb_arch arch;
    bool have_arch;
    xb_backend *be;
    xb_mapping *map;        /* xb_session_map only; else be->map */
    xb_cost *cost;
    /* classify */
    xb_exec *exec;
    int64_t n_classified;
    xb_run_result r[3];
    uint64_t mem_used;      /* --max-memory: model and threads, as charged at open */
};

static const xb_session_opts default_opts = {.profile_images = 16};

xb_status xb_session_open(const char *model, const xb_session_opts *opts, xb_session **out,
                          xb_ctx *ctx) {
    *out = NULL;
    xb_session *s = xb_calloc(ctx, 1, sizeof *s);
    if (!s) return ctx->status;
    s->opts = opts ? *opts : default_opts;
    s->model = strdup(model);
    if (!s->model) {
        free(s);
        return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    }
    if (xb_model_load(model, &s->opts.pre, &s->fg, &s->pp, ctx) != XB_OK ||
        (s->opts.max_memory && xb_mem_check_model(s->fg, model, s->opts.threads, s->opts.max_memory,
                                                  &s->mem_used, ctx) != XB_OK)) {
        xb_session_free(s);
        return ctx->status;
    }
    *out = s;
    return XB_OK;
}

void xb_session_set_opts(xb_session *s, const xb_session_opts *opts) {
    s->opts = opts ? *opts : default_opts;
}

static void free_analog(xb_session *s) {
    xb_cost_free(s->cost);
    xb_mapping_free(s->map);
    xb_backend_free(s->be);
    s->cost = NULL;
    s->map = NULL;
    s->be = NULL;
    s->r[XB_SESSION_ANALOG] = (xb_run_result){0};
}

static void free_int8(xb_session *s) {
    if (s->qg != s->fg) xb_graph_free(s->qg);
    s->qg = NULL;
    s->int8_done = false;
    s->r[XB_SESSION_INT8] = (xb_run_result){0};
}

void xb_session_free(xb_session *s) {
    if (!s) return;
    free_analog(s);
    free_int8(s);
    xb_exec_free(s->exec);
    free(s->cal_images);
    for (int i = 0; i < 3; i++) free(s->pred[i]);
    for (int i = 0; i < 3; i++) free(s->scores[i]);
    xb_dataset_free(s->train);
    xb_dataset_free(s->d);
    xb_preproc_free(&s->pp);
    xb_graph_free(s->fg_run);
    xb_graph_free(s->fg);
    free(s->model);
    free(s);
}

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

const char *xb_session_default_data(xb_session *s) {
    const char *ds = s->pp.dataset;
    if (!ds) return NULL;
    /* Metadata is the model author's text, not the user's: it may only name
     * a known dataset, never a path (xbar would open any file it named and
     * quote its first bytes in an error). */
    if (!xb_dataset_is_builtin(ds)) {
        xb_report_note("%s: metadata xbar.dataset '%.64s' is not a known dataset (mnist, "
                       "fashion-mnist, cifar10): ignored",
                       s->model, ds);
        return NULL;
    }
    char *buf = s->default_data;
    size_t n = sizeof s->default_data;
    const char *file = !strcmp(ds, "cifar10") ? "test_batch.bin" : "t10k-images-idx3-ubyte.gz";
    char dir[2048];
    xb_data_dir(ds, dir, sizeof dir);
    snprintf(buf, n, "%s/%s", dir, file);
    if (exists(buf)) return ds;
    if (!strcmp(ds, "mnist") || !strcmp(ds, "cifar10")) {
        snprintf(buf, n, "%s/datasets/samples/%s/%s", XBAR_SOURCE_DIR, ds, file);
        if (exists(buf)) return buf;
    }
    return ds; /* let the loader explain what is missing */
}

xb_status xb_session_open_data(xb_session *s, const char *spec, int64_t limit, xb_ctx *ctx) {
    if (s->d) return xb_fail(ctx, XB_ERR_INVALID, "session: data already open");
    xb_dataset *d = NULL;
    XB_TRY(xb_mem_check_dataset(spec, s->mem_used, s->opts.max_memory, ctx));
    XB_TRY(xb_dataset_open_opts(spec, s->pp.h, s->pp.w, &s->opts.img, &d, ctx));
    return xb_session_set_data(s, d, limit, ctx);
}

/* Relabel `d` to the model's classes and check its images fit the model. */
static xb_status check_data(const xb_session *s, xb_dataset *d, xb_ctx *ctx) {
    const xb_preproc *pp = &s->pp;
    char note[512];
    XB_TRY(xb_dataset_match_classes(d, pp->class_names, pp->n_classes, note, sizeof note, ctx));
    if (note[0]) xb_report_note("%s", note);
    XB_TRY(xb_preproc_check(pp, d->c, d->h, d->w, d->path, ctx));
    if (d->c != pp->c)
        xb_report_note("%s has %s images, the model takes %s: converting (%s)", d->path,
                       d->c == 1 ? "grey" : "RGB", pp->c == 1 ? "grey" : "RGB",
                       pp->c == 1 ? "ITU-R BT.601 luma" : "grey replicated to R, G, B");
    return XB_OK;
}

xb_status xb_session_set_data(xb_session *s, xb_dataset *d, int64_t limit, xb_ctx *ctx) {
    if (s->d || check_data(s, d, ctx) != XB_OK) {
        xb_dataset_free(d);
        return s->d ? xb_fail(ctx, XB_ERR_INVALID, "session: data already open") : ctx->status;
    }
    int64_t off = s->opts.offset > 0 ? s->opts.offset : 0;
    if (off >= d->n) {
        xb_status st = xb_fail(ctx, XB_ERR_INVALID, "--offset %lld: %s has only %lld images",
                               (long long)off, d->path, (long long)d->n);
        xb_dataset_free(d);
        return st;
    }
    s->d = d;
    s->off = s->first = off;
    s->count = limit > 0 && limit < d->n - off ? limit : d->n - off;
    s->n_eval = s->count;
    for (int i = 0; i < 3; i++)
        if (!(s->pred[i] = xb_calloc(ctx, (size_t)s->count, sizeof(int32_t)))) return ctx->status;
    if (!s->opts.keep_scores) return XB_OK;
    double bytes = (double)s->count * (double)s->pp.n_outputs * sizeof(float);
    if (bytes > (double)(1 << 30))
        return xb_fail(ctx, XB_ERR_INVALID, "keeping the scores of %lld images x %d classes needs "
                       "%.0f MB per mode (limit 1024); evaluate fewer images (--limit)",
                       (long long)s->count, s->pp.n_outputs, bytes / 1048576.0);
    for (int i = 0; i < 3; i++)
        if (!(s->scores[i] = xb_calloc(ctx, (size_t)s->count * (size_t)s->pp.n_outputs,
                                       sizeof(float))))
            return ctx->status;
    return XB_OK;
}

xb_status xb_session_select(xb_session *s, int64_t first, int64_t n, xb_ctx *ctx) {
    if (!s->d) return xb_fail(ctx, XB_ERR_INVALID, "session: no data open");
    if (first < 0 || n < 1 || first > s->count - n)
        return xb_fail(ctx, XB_ERR_INVALID, "images #%lld..#%lld are not within the %lld evaluated",
                       (long long)first, (long long)(first + n - 1), (long long)s->count);
    /* Relative to the evaluated set; the prediction arrays hold count >= n. */
    s->first = s->off + first;
    s->n_eval = n;
    return XB_OK;
}

/* --max-memory: the pixels a dataset holds (those of a file decoded whole,
 * e.g. gzipped; none when images are read one at a time). */
static uint64_t held_images(const xb_dataset *d) {
    return d && d->images ? (uint64_t)d->n * (uint64_t)xb_dataset_image_bytes(d) : 0;
}

/* The training split at `path` beside the test data, opened for n
 * calibration images (only they are held: xb_dataset_open_head) and
 * checked, or NULL (error in ctx). */
static const xb_dataset *open_train(xb_session *s, const char *path, int64_t n, xb_ctx *ctx) {
    const xb_dataset *d = s->d;
    /* --max-memory: the test set is held while this loads (its pixels only
     * when it was decoded whole: a gzipped file). */
    uint64_t held = s->mem_used + held_images(d);
    if (xb_mem_check_dataset_head(path, n, held, s->opts.max_memory, ctx) != XB_OK)
        return NULL;
    if (xb_dataset_open_head(path, s->pp.h, s->pp.w, n, &s->train, ctx) != XB_OK) return NULL;
    const xb_dataset *t = s->train;
    if (t->c != d->c || t->h != d->h || t->w != d->w) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: training images are %dx%dx%d, test images %dx%dx%d",
                t->path, t->c, t->h, t->w, d->c, d->h, d->w);
        return NULL;
    }
    return t;
}

xb_status xb_session_choose_calibration(xb_session *s, int64_t n, xb_ctx *ctx) {
    if (!s->d) return xb_fail(ctx, XB_ERR_INVALID, "session: no data open");
    if (s->cal_chosen) return xb_fail(ctx, XB_ERR_INVALID, "session: calibration already chosen");
    const xb_dataset *d = s->d;
    xb_session_calib *c = &s->cal;
    char train[4096];
    c->set = d;
    c->n = n < d->n ? n : d->n;
    c->first = 0;
    /* Around the whole evaluated set, not a shard's part of it: every
     * --shard then quantizes and calibrates on the same images. */
    if (s->off + s->count + c->n <= d->n) {
        c->first = s->off + s->count;
        c->how = "after the evaluated ones: disjoint from them";
    } else if (s->off >= c->n) {
        c->first = s->off - c->n;
        c->how = "before the evaluated ones (--offset): disjoint from them";
    } else if (xb_dataset_train_split(d->path, train, sizeof train)) {
        const xb_dataset *t = open_train(s, train, n, ctx);
        if (!t) return ctx->status;
        c->set = t;
        c->n = n < t->n ? n : t->n;
        c->how = "of the training split: disjoint from the evaluated images";
    } else {
        c->how = "of the same data: they overlap the evaluated images";
    }
    c->source = c->set->path;
    s->cal_chosen = true;
    return XB_OK;
}

const xb_session_calib *xb_session_calibration(const xb_session *s) {
    return s->cal_chosen ? &s->cal : NULL;
}

static xb_status preprocess_calibration(xb_session *s, xb_ctx *ctx) {
    if (s->cal_images) return XB_OK;
    if (!s->cal_chosen) return xb_fail(ctx, XB_ERR_INVALID, "session: no calibration images chosen");
    const xb_session_calib *c = &s->cal;
    size_t per = (size_t)s->pp.c * (size_t)s->pp.h * (size_t)s->pp.w;
    s->cal_images = xb_calloc(ctx, (size_t)c->n * per, sizeof(float));
    uint8_t *buf = xb_malloc(ctx, xb_dataset_image_bytes(c->set));
    if (!s->cal_images || !buf) {
        free(buf);
        free(s->cal_images);
        s->cal_images = NULL;
        return ctx->status;
    }
    for (int64_t i = 0; i < c->n; i++) {
        const uint8_t *px = xb_dataset_pixels(c->set, c->first + i, buf, ctx);
        if (!px) { /* the message names the file */
            free(buf);
            free(s->cal_images);
            s->cal_images = NULL;
            xb_ctx_prefix(ctx, "calibration image %lld", (long long)(c->first + i));
            return ctx->status;
        }
        xb_preproc_image(&s->pp, px, c->set->c, s->cal_images + (size_t)i * per);
    }
    free(buf);
    return XB_OK;
}

static bool same_quant(const xb_quant_opts *a, const xb_quant_opts *b) {
    return a->w_bits == b->w_bits && a->x_bits == b->x_bits && a->method == b->method &&
           a->percentile == b->percentile && a->calib_images == b->calib_images &&
           !memcmp(a->layer_w_bits, b->layer_w_bits, sizeof a->layer_w_bits) &&
           !memcmp(a->layer_x_bits, b->layer_x_bits, sizeof a->layer_x_bits);
}

xb_status xb_session_quantize(xb_session *s, const xb_quant_opts *qo, xb_ctx *ctx) {
    if (xb_session_prequantized(s)) {
        if (!s->qg) s->qg = s->fg;
        return XB_OK;
    }
    XB_TRY(preprocess_calibration(s, ctx));
    xb_quant_opts o = *qo;
    o.calib_images = (int)s->cal.n;
    if (!o.cancel) o.cancel = s->opts.cancel; /* Ctrl-C stops calibration too */
    if (s->qg && same_quant(&o, &s->qo)) return XB_OK;
    free_analog(s); /* built on the old graph */
    free_int8(s);
    XB_TRY(xb_quantize(s->fg, s->cal_images, (int)s->cal.n, &o, &s->qg, ctx));
    s->qo = o;
    return XB_OK;
}

const xb_quant_opts *xb_session_quant_opts(const xb_session *s) {
    return s->qg && !xb_session_prequantized(s) ? &s->qo : NULL;
}

static xb_status run(xb_session *s, const xb_graph *g, const xb_dataset *d, int64_t first,
                     int64_t limit, const xb_engine *e, const char *label, xb_run_result *r,
                     int which, xb_ctx *ctx) {
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.first = first;
    o.limit = limit;
    o.threads = s->opts.threads;
    o.progress = s->opts.progress;
    o.progress_mode = s->opts.progress_mode;
    o.engine = e;
    o.label = label;
    o.cancel = s->opts.cancel;
    o.pred = which >= 0 ? s->pred[which] : NULL;
    o.logits = which >= 0 ? s->scores[which] : NULL;
    *r = (xb_run_result){0};
    return xb_run_dataset(g, &s->pp, d, &o, r, ctx);
}

xb_status xb_session_float_run_graph(xb_session *s, const xb_graph **out, xb_ctx *ctx) {
    if (!s->fg_run_done) {
        XB_TRY(xb_float_run_graph(s->fg, &s->fg_run, ctx));
        s->fg_run_done = true;
    }
    *out = s->fg_run ? s->fg_run : s->fg;
    return XB_OK;
}

xb_status xb_session_run_float(xb_session *s, xb_ctx *ctx) {
    if (!s->d) return xb_fail(ctx, XB_ERR_INVALID, "session: no data open");
    const xb_graph *g;
    XB_TRY(xb_session_float_run_graph(s, &g, ctx));
    return run(s, g, s->d, s->first, s->n_eval, NULL, "float", &s->r[XB_SESSION_FLOAT],
               XB_SESSION_FLOAT, ctx);
}

xb_status xb_session_run_int8(xb_session *s, xb_ctx *ctx) {
    if (!s->d || !s->qg) return xb_fail(ctx, XB_ERR_INVALID, "session: no data or no int8 model");
    if (s->int8_done) return XB_OK;
    XB_TRY(run(s, s->qg, s->d, s->first, s->n_eval, NULL, "int8", &s->r[XB_SESSION_INT8],
               XB_SESSION_INT8, ctx));
    s->int8_done = true;
    return XB_OK;
}

xb_status xb_session_build_backend(xb_session *s, const xb_arch *arch, xb_ctx *ctx) {
    free_analog(s);
    if (!s->qg) return xb_fail(ctx, XB_ERR_INVALID, "session: no int8 model for the backend");
    s->arch = *arch;
    s->have_arch = true;
    s->be = xb_backend_new(s->qg, arch, ctx);
    if (!s->be) return ctx->status;
    if (s->opts.profile_images >= 0) s->be->profile_images = s->opts.profile_images;
    /* Row reorder (ORSS'23): count each row's nonzero inputs on the
     * calibration images, then rebuild the crossbars in that order. */
    if (arch->row_reorder) {
        if (!s->cal_chosen)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "mapping.row_reorder needs calibration images (none chosen)");
        xb_run_result r;
        XB_TRY(xb_backend_activity_begin(s->be, ctx));
        XB_TRY(run(s, s->qg, s->cal.set, s->cal.first, s->cal.n, xb_backend_engine(s->be),
                   "row-activity", &r, -1, ctx));
        XB_TRY(xb_backend_activity_end(s->be, s->qg, ctx));
    }
    return XB_OK;
}

xb_status xb_session_calibrate_adc(xb_session *s, xb_ctx *ctx) {
    if (!s->be || !s->cal_chosen)
        return xb_fail(ctx, XB_ERR_INVALID, "session: no backend or no calibration images");
    xb_backend_calibration_begin(s->be);
    xb_run_result r;
    XB_TRY(run(s, s->qg, s->cal.set, s->cal.first, s->cal.n, xb_backend_engine(s->be), "adc-cal",
               &r, -1, ctx));
    return xb_backend_calibration_end(s->be, ctx);
}

xb_status xb_session_run_analog(xb_session *s, xb_ctx *ctx) {
    if (!s->be || !s->d) return xb_fail(ctx, XB_ERR_INVALID, "session: no backend or no data");
    xb_cost_free(s->cost);
    s->cost = NULL;
    s->be->profile_first = s->off; /* the window's first images, whatever the shard */
    XB_TRY(run(s, s->qg, s->d, s->first, s->n_eval, xb_backend_engine(s->be), "analog",
               &s->r[XB_SESSION_ANALOG], XB_SESSION_ANALOG, ctx));
    s->cost = xb_cost_compute(s->be->map, ctx);
    return s->cost ? XB_OK : ctx->status;
}

xb_status xb_session_map(xb_session *s, const xb_arch *arch, xb_ctx *ctx) {
    free_analog(s);
    s->arch = *arch;
    s->have_arch = true;
    xb_layer_shape *sh = NULL;
    int n = 0;
    XB_TRY(xb_layer_shapes_of_graph(s->fg, &sh, &n, ctx));
    if (n == 0) {
        free(sh);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: no matrix layers (Conv, Gemm, MatMul) to map",
                       s->model);
    }
    s->map = xb_compile_shapes(arch, sh, n, ctx);
    free(sh);
    if (!s->map) return ctx->status;
    s->cost = xb_cost_compute(s->map, ctx);
    return s->cost ? XB_OK : ctx->status;
}

/* Softmax, unless the model already ends in one (then its outputs are
 * probabilities and a second softmax would flatten them). */
static void probabilities(const float *sc, int k, bool already, double *p) {
    if (already) {
        for (int i = 0; i < k; i++) p[i] = sc[i];
        return;
    }
    double m = -INFINITY, sum = 0;
    for (int i = 0; i < k; i++)
        if (sc[i] > m) m = sc[i];
    for (int i = 0; i < k; i++) sum += (p[i] = exp((double)sc[i] - m));
    for (int i = 0; i < k; i++) p[i] /= sum;
}

xb_status xb_session_classify_png(xb_session *s, const char *png, double *prob, xb_ctx *ctx) {
    const xb_graph *g = s->fg;
    s->n_classified++; /* the executor's image index: the call's number */
    if (!s->exec && !(s->exec = xb_exec_new(g, ctx))) return ctx->status;
    uint8_t *px = NULL;
    int c, h, w;
    if (xb_image_load(png, s->pp.h, s->pp.w, &s->opts.img, &px, &c, &h, &w, ctx) != XB_OK ||
        xb_preproc_check(&s->pp, c, h, w, png, ctx) != XB_OK) {
        free(px);
        return ctx->status;
    }
    xb_preproc_image(&s->pp, px, c, (float *)s->exec->buf[g->inputs[0]]);
    free(px);
    s->exec->image_index = s->n_classified - 1;
    if (xb_exec_run(s->exec, ctx) != XB_OK) {
        xb_ctx_prefix(ctx, "%s", png);
        return ctx->status;
    }
    const xb_node *last = g->n_nodes ? &g->nodes[g->n_nodes - 1] : NULL;
    bool is_softmax = last && !strcmp(last->op_type, "Softmax") && last->out[0] == g->outputs[0];
    probabilities((const float *)s->exec->buf[g->outputs[0]], s->pp.n_outputs, is_softmax, prob);
    return XB_OK;
}

/* --- results and parts ------------------------------------------------------- */

const xb_run_result *xb_session_result(const xb_session *s, int which) { return &s->r[which]; }
uint64_t xb_session_mem_left(const xb_session *s) {
    if (!s->opts.max_memory) return UINT64_MAX;
    /* As charged at open, plus the decoded pixels the session holds. */
    uint64_t held = s->mem_used + held_images(s->d) + held_images(s->train);
    return held < s->opts.max_memory ? s->opts.max_memory - held : 0;
}

const char *xb_session_model(const xb_session *s) { return s->model; }
const xb_graph *xb_session_graph(const xb_session *s) { return s->fg; }
const xb_graph *xb_session_int8_graph(const xb_session *s) { return s->qg; }
const xb_preproc *xb_session_preproc(const xb_session *s) { return &s->pp; }
const xb_dataset *xb_session_data(const xb_session *s) { return s->d; }
int64_t xb_session_count(const xb_session *s) { return s->n_eval; }
int64_t xb_session_first(const xb_session *s) { return s->first; }
const int32_t *xb_session_predictions(const xb_session *s, int which) {
    return s->r[which].total ? s->pred[which] : NULL;
}
const float *xb_session_scores(const xb_session *s, int which) {
    return s->r[which].total ? s->scores[which] : NULL;
}
int64_t xb_session_evaluated(const xb_session *s) { return s->count; }
bool xb_session_prequantized(const xb_session *s) { return xb_graph_count_quantized(s->fg) > 0; }
const xb_arch *xb_session_arch(const xb_session *s) { return s->have_arch ? &s->arch : NULL; }
xb_backend *xb_session_backend(const xb_session *s) { return s->be; }
const xb_mapping *xb_session_mapping(const xb_session *s) { return s->be ? s->be->map : s->map; }
const xb_cost *xb_session_cost(const xb_session *s) { return s->cost; }

void xb_session_adc_counts(const xb_session *s, int64_t *conversions, int64_t *saturated) {
    *conversions = *saturated = 0;
    if (!s->be) return;
    for (int i = 0; i < s->be->n; i++) {
        *conversions += s->be->stats[i].conversions;
        *saturated += s->be->stats[i].saturated;
    }
}
