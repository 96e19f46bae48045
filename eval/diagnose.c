#include "eval/diagnose.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/profile.h"
#include "eval/progress.h"
#include "kernels/qlayer.h"

/* The backend's engine with one layer forced exact, statistics discarded. */
typedef struct {
    const xb_engine *inner;
    int swap;           /* layer made exact, -1 none */
    xb_engine e;
} swap_engine;

static void *sw_state_new(void *self, xb_ctx *ctx) {
    swap_engine *w = self;
    return w->inner->state_new ? w->inner->state_new(w->inner->self, ctx) : NULL;
}

static xb_status sw_qmatmul(void *self, xb_exec *e, const xb_node *node, int layer, int group,
                            const uint8_t *x, const int8_t *w, int64_t K, int64_t N, int64_t P,
                            int32_t *acc, xb_ctx *ctx) {
    swap_engine *s = self;
    return s->inner->qmatmul(s->inner->self, e, node, layer, group, x, w, K, N, P, acc, ctx);
}

static bool sw_exact(void *self, xb_exec *e, int layer, int group, int64_t K, int64_t N, int64_t P) {
    swap_engine *s = self;
    if (layer == s->swap) return true; /* the int8 kernel computes this layer */
    return s->inner->exact ? s->inner->exact(s->inner->self, e, layer, group, K, N, P) : false;
}

/* Runs on the first n evaluated images; states freed without merging.  The
 * inner engine's state_free is kept for the real free. */
typedef struct {
    xb_session *s;
    int64_t n;
    int threads;
    xb_progress *prog;  /* one step per run */
    int64_t *steps;
} diag_run;

/* `hook` (or NULL) runs more variants of every image (the layer pass). */
static xb_status run_subset(const diag_run *dr, const xb_engine *eng, const xb_run_hook *hook,
                            double *acc, xb_ctx *ctx) {
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.limit = dr->n;
    o.threads = dr->threads;
    o.engine = eng;
    o.label = "diagnose";
    o.hook = hook;
    o.keep_activations = hook != NULL; /* its delta runs read the baseline's activations */
    xb_run_result r;
    XB_TRY(xb_run_dataset(xb_session_int8_graph(dr->s), xb_session_preproc(dr->s),
                          xb_session_data(dr->s), &o, &r, ctx));
    xb_progress_update(dr->prog, ++*dr->steps);
    *acc = r.total ? (double)r.correct1 / (double)r.total : 0;
    return XB_OK;
}

static void swap_engine_init(swap_engine *w, const xb_engine *inner, int swap) {
    *w = (swap_engine){.inner = inner, .swap = swap};
    w->e = (xb_engine){.self = w, .state_new = sw_state_new, .state_merge = NULL,
                       .state_free = inner->state_free, .qmatmul = sw_qmatmul, .exact = sw_exact};
}

/* The statistics of these runs are discarded, so no image records every
 * column sum: profile images (backend/engine.c) change statistics only,
 * never results, and cost up to 6x an ordinary image on lossy layers. */
static xb_status run_swapped(const diag_run *dr, xb_backend *be, int swap, const xb_run_hook *hook,
                             double *acc, xb_ctx *ctx) {
    swap_engine w;
    swap_engine_init(&w, xb_backend_engine(be), swap);
    int64_t keep = be->profile_images;
    be->profile_images = 0;
    xb_status st = run_subset(dr, &w.e, hook, acc, ctx);
    be->profile_images = keep;
    return st;
}

/* Per layer: saturation, bits needed vs given, accuracy with it exact
 * (acc[i], measured by measure_layers). */
static void layer_rows(const xb_backend *be, cJSON *arr, double base, const double *acc) {
    for (int i = 0; i < be->n; i++) {
        const xb_crossbar_stats *st = &be->stats[i];
        const xb_crossbar_config *c = xb_crossbar_cfg(be->layers[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "layer", i);
        cJSON_AddStringToObject(o, "name", be->map->layers[i].s.name);
        cJSON_AddNumberToObject(o, "saturation_rate",
                                st->conversions ? (double)st->saturated / (double)st->conversions : 0);
        if (st->observed)
            cJSON_AddNumberToObject(o, "bits_needed", xb_profile_bits_needed(st->max_abs, c->signed_pair));
        cJSON_AddNumberToObject(o, "bits_given", be->map->layers[i].adc_bits);
        cJSON_AddBoolToObject(o, "lossless", c->lossless);
        cJSON_AddNumberToObject(o, "accuracy_exact", acc[i]);
        cJSON_AddNumberToObject(o, "recovered_points", 100.0 * (acc[i] - base));
    }
}

/* --- the layer measurements, image-major ------------------------------------
 *
 * Run-major (one dataset run per layer made exact) recomputes, for layer L,
 * every node before L exactly as the analog baseline did.  Image-major runs
 * the baseline once (the runner's images, in execs that keep every
 * activation) and, through the runner's per-image hook, each variant as a
 * delta run (runtime/exec.h) from layer L's node: only L's node and what
 * reads a changed value are recomputed (the swap engine differs from the
 * baseline's on layer L alone, and the analog engine's result depends only
 * on the layer, its inputs and the image index).  Same accuracies, bit for
 * bit; the tests compare both paths. */

/* Each exec's activations are kept (two keep execs per thread): above
 * this the run-major path is taken instead, whose execs share memory. */
#define DIAG_KEEP_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    const xb_engine *inner;
    int n;              /* layers */
    int *node_of;       /* [n] node index of each layer */
    int K, out_t;
    int64_t images;     /* images run, and */
    int64_t *hits;      /* [n] their top-1 hits with layer L exact, merged over the workers */
} layer_pass;

/* One runner worker's share: a delta of its exec, run with one layer
 * swapped at a time, and that worker's hit counts. */
typedef struct {
    xb_exec_delta *delta;
    swap_engine sw;
    int64_t images;
    int64_t hits[];     /* [n] */
} lp_worker;

static xb_status lp_worker_new(void *self, xb_exec *e, void **out, xb_ctx *ctx) {
    layer_pass *lp = self;
    lp_worker *w = xb_calloc(ctx, 1, sizeof *w + (size_t)lp->n * sizeof w->hits[0]);
    if (!w) return ctx->status;
    *out = w;
    swap_engine_init(&w->sw, lp->inner, -1);
    if (!(w->delta = xb_exec_delta_new(e, ctx))) return ctx->status;
    w->delta->e->engine = &w->sw.e;
    w->delta->e->engine_state = e->engine_state; /* the baseline's: one per thread */
    w->delta->e->thread = e->thread;
    return XB_OK;
}

/* Image i has run in e (the baseline): every layer made exact in turn. */
static xb_status lp_image(void *self, void *worker, xb_exec *e, int64_t i, int label, xb_ctx *ctx) {
    const layer_pass *lp = self;
    lp_worker *w = worker;
    (void)e;
    w->delta->e->image_index = i;
    for (int l = 0; l < lp->n; l++) {
        w->sw.swap = l;
        XB_TRY(xb_exec_delta_run(w->delta, lp->node_of[l], ctx));
        w->hits[l] += xb_score_rank((const float *)w->delta->e->buf[lp->out_t], lp->K, label) == 0;
    }
    w->images++;
    return XB_OK;
}

static void lp_merge(void *self, void *worker) {
    layer_pass *lp = self;
    const lp_worker *w = worker;
    lp->images += w->images;
    for (int l = 0; l < lp->n; l++) lp->hits[l] += w->hits[l];
}

static void lp_worker_free(void *self, void *worker) {
    (void)self;
    lp_worker *w = worker;
    xb_exec_delta_free(w->delta);
    free(w);
}

/* Whether the image-major pass applies (the keep execs fit, every layer
 * has its node): *usable, and *lp filled when it does; fails only when its
 * arrays cannot be allocated. */
static xb_status lp_setup(const diag_run *dr, xb_backend *be, layer_pass *lp, bool *usable,
                          xb_ctx *ctx) {
    const xb_graph *g = xb_session_int8_graph(dr->s);
    size_t keep = 0;
    xb_ctx c2 = {0};
    *usable = false;
    if (xb_exec_plan_bytes_keep(g, &keep, &c2) != XB_OK || keep > DIAG_KEEP_MAX_BYTES) return XB_OK;
    /* Per thread a kept baseline and a delta exec: within --max-memory, or
     * the per-layer runs, whose execs the session's budget already covers. */
    const uint64_t nt = (uint64_t)(dr->threads > 0 ? dr->threads : omp_get_max_threads());
    if ((uint64_t)keep > xb_session_mem_left(dr->s) / (2 * nt)) return XB_OK;
    *lp = (layer_pass){.inner = xb_backend_engine(be), .n = be->n,
                       .K = xb_session_preproc(dr->s)->n_outputs, .out_t = g->outputs[0]};
    lp->node_of = xb_calloc(ctx, (size_t)(be->n ? be->n : 1), sizeof(int));
    lp->hits = xb_calloc(ctx, (size_t)(be->n ? be->n : 1), sizeof(int64_t));
    if (!lp->node_of || !lp->hits) return ctx->status;
    for (int l = 0; l < be->n; l++) {
        const xb_node *node = NULL;
        if (!xb_qlayer_get(g, l, &node) || !node) return XB_OK;
        lp->node_of[l] = (int)(node - g->nodes);
    }
    *usable = true;
    return XB_OK;
}

/* acc[0]: the analog baseline on the subset; acc[1 + i]: layer i made exact.
 * *image_major: whether the delta runs served (else one run per layer). */
static xb_status measure_layers(const diag_run *dr, xb_backend *be, bool per_run, double *acc,
                                bool *image_major, xb_ctx *ctx) {
    layer_pass lp = {0};
    *image_major = false;
    xb_status st = per_run ? XB_OK : lp_setup(dr, be, &lp, image_major, ctx);
    if (st == XB_OK && !*image_major) {
        for (int i = -1; st == XB_OK && i < be->n; i++) st = run_swapped(dr, be, i, NULL, &acc[i + 1], ctx);
    } else if (st == XB_OK) {
        xb_run_hook h = {.self = &lp, .worker_new = lp_worker_new, .image_done = lp_image,
                         .merge = lp_merge, .worker_free = lp_worker_free};
        st = run_swapped(dr, be, -1, &h, &acc[0], ctx);
        for (int l = 0; st == XB_OK && l < be->n; l++)
            acc[l + 1] = lp.images ? (double)lp.hits[l] / (double)lp.images : 0;
        xb_progress_update(dr->prog, *dr->steps += be->n);
    }
    free(lp.node_of);
    free(lp.hits);
    return st;
}

/* The arch as run plus one assignment: its accuracy on the subset. */
static xb_status try_switch(const diag_run *dr, const xb_arch *base, const char *set, double *acc,
                            xb_ctx *ctx) {
    xb_arch a = *base;
    XB_TRY(xb_arch_set(&a, set, ctx));
    xb_backend *be = xb_backend_new(xb_session_int8_graph(dr->s), &a, ctx);
    if (!be) return ctx->status;
    xb_status st = XB_OK;
    const xb_session_calib *cal = xb_session_calibration(dr->s);
    if (xb_arch_needs_calibration(&a)) {
        if (!cal || !cal->n) {
            xb_backend_free(be);
            return xb_fail(ctx, XB_ERR_INVALID, "%s: no calibration images", set);
        }
        xb_backend_calibration_begin(be);
        xb_run_opts o;
        xb_run_opts_init(&o);
        o.first = cal->first;
        o.limit = cal->n;
        o.threads = dr->threads;
        o.engine = xb_backend_engine(be);
        xb_run_result r;
        st = xb_run_dataset(xb_session_int8_graph(dr->s), xb_session_preproc(dr->s), cal->set, &o,
                            &r, ctx);
        if (st == XB_OK) st = xb_backend_calibration_end(be, ctx);
    }
    be->profile_images = 0; /* only the accuracy is kept (run_swapped) */
    if (st == XB_OK) st = run_subset(dr, xb_backend_engine(be), NULL, acc, ctx);
    xb_backend_free(be);
    return st;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Most recovered first; ties: most saturated first. */
static int by_recovered(const void *a, const void *b) {
    const cJSON *p = *(cJSON *const *)a, *q = *(cJSON *const *)b;
    double x = num(p, "recovered_points"), y = num(q, "recovered_points");
    if (x == y) x = num(p, "saturation_rate"), y = num(q, "saturation_rate");
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The responsible layers: those whose exact version recovers at least one
 * point (at most 3, most first); `top` gets their indices. */
static int responsible(cJSON *layers, int *top, cJSON *names) {
    int n = cJSON_GetArraySize(layers), k = 0;
    cJSON **v = calloc((size_t)(n ? n : 1), sizeof *v);
    if (!v) return 0;
    int i = 0;
    for (cJSON *l = layers->child; l; l = l->next) v[i++] = l;
    qsort(v, (size_t)n, sizeof *v, by_recovered);
    for (i = 0; i < n && k < 3; i++) {
        if (!(num(v[i], "recovered_points") >= 1.0)) break;
        top[k++] = (int)num(v[i], "layer");
        cJSON_AddItemToArray(names, cJSON_CreateString(
                                        cJSON_GetObjectItemCaseSensitive(v[i], "name")->valuestring));
    }
    free(v);
    return k;
}

static xb_status add_suggestion(const diag_run *dr, const xb_arch *arch, cJSON *arr, const char *set,
                                const char *why, bool measure, xb_ctx *ctx) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, o);
    cJSON_AddStringToObject(o, "set", set);
    cJSON_AddStringToObject(o, "why", why);
    if (!measure) return XB_OK;
    double acc = 0;
    xb_ctx c2 = {0};
    if (try_switch(dr, arch, set, &acc, &c2) == XB_OK) {
        cJSON_AddNumberToObject(o, "accuracy", acc);
    } else {
        if (c2.status == XB_ERR_INTERRUPTED) return xb_fail(ctx, c2.status, "%s", c2.msg);
        cJSON_AddStringToObject(o, "error", c2.msg);
    }
    return XB_OK;
}

/* Switches that address what the layers show, each measured alone. */
static xb_status suggestions(const diag_run *dr, const xb_arch *a, cJSON *d, const int *top, int nt,
                             bool measure, xb_ctx *ctx) {
    cJSON *arr = cJSON_AddArrayToObject(d, "suggestions");
    const xb_backend *be = xb_session_backend(dr->s);
    if (a->adc_bits > 0 && a->adc_range != XB_ADC_CALIBRATED)
        XB_TRY(add_suggestion(dr, a, arr, "adc.range=calibrated",
                              "scale each layer's ADC range to its measured column sums", measure, ctx));
    if (nt > 0 && a->adc_bits > 0) {
        char set[128] = "adc.layer_bits=";
        for (int k = 0; k < nt; k++) {
            const xb_crossbar_stats *st = &be->stats[top[k]];
            int need = st->observed ? xb_profile_bits_needed(st->max_abs, xb_crossbar_cfg(be->layers[top[k]])->signed_pair)
                                    : a->adc_bits + 2;
            if (need > XB_ADC_TAB_MAX) need = XB_ADC_TAB_MAX;
            if (need <= a->adc_bits) need = a->adc_bits + 1;
            snprintf(set + strlen(set), sizeof set - strlen(set), "%s%d=%d", k ? "/" : "", top[k], need);
        }
        XB_TRY(add_suggestion(dr, a, arr, set, "more ADC bits on the layers that lose the most",
                              measure, ctx));
    }
    if (a->encoding == XB_ENC_OFFSET)
        XB_TRY(add_suggestion(dr, a, arr, "encoding=differential",
                              "signed weights on column pairs: smaller column sums than the offset bias",
                              measure, ctx));
    if (a->on_off_ratio > 0 && !a->off_compensation)
        XB_TRY(add_suggestion(dr, a, arr, "crossbar.off_compensation=true",
                              "subtract the off-state current digitally", measure, ctx));
    return XB_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

cJSON *xb_diagnose(xb_session *s, const xb_diag_opts *o, xb_ctx *ctx) {
    const xb_run_result *rq = xb_session_result(s, XB_SESSION_INT8), *ra = xb_session_result(s, XB_SESSION_ANALOG);
    xb_backend *be = xb_session_backend(s);
    if (!be || !rq->total || !ra->total) {
        xb_fail(ctx, XB_ERR_INVALID, "diagnosis: needs the int8 and analog results");
        return NULL;
    }
    double qa = (double)rq->correct1 / (double)rq->total, aa = (double)ra->correct1 / (double)ra->total;
    double drop = 100.0 * (qa - aa);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "threshold_points", o->threshold);
    cJSON_AddNumberToObject(d, "drop_points", drop);
    cJSON_AddBoolToObject(d, "triggered", drop > o->threshold);
    if (!(drop > o->threshold)) return d;
    double t0 = now_s();
    int64_t steps = 0;
    /* baselines, one run per layer, at most 4 suggestions */
    diag_run dr = {.s = s, .n = o->images < xb_session_count(s) ? o->images : xb_session_count(s),
                   .threads = o->threads, .steps = &steps,
                   .prog = xb_progress_start(o->progress, "diagnose", 2 + be->n + 4)};
    if (dr.n < 1) dr.n = 1;
    cJSON_AddNumberToObject(d, "images", (double)dr.n);
    double base_q;
    cJSON *layers = cJSON_AddArrayToObject(d, "layers");
    int top[3], nt = 0;
    bool image_major = false;
    double *acc = xb_calloc(ctx, (size_t)be->n + 1, sizeof *acc);
    if (!acc || run_subset(&dr, NULL, NULL, &base_q, ctx) != XB_OK ||
        measure_layers(&dr, be, o->per_run, acc, &image_major, ctx) != XB_OK) {
        free(acc);
        goto fail;
    }
    /* how the per-layer accuracies were measured (same figures either way) */
    cJSON_AddStringToObject(d, "layer_pass", image_major ? "delta" : "per_run");
    cJSON_AddNumberToObject(d, "int8_subset", base_q);
    cJSON_AddNumberToObject(d, "analog_subset", acc[0]);
    layer_rows(be, layers, acc[0], acc + 1);
    free(acc);
    nt = responsible(layers, top, cJSON_AddArrayToObject(d, "responsible"));
    if (suggestions(&dr, xb_session_arch(s), d, top, nt, o->suggest, ctx) != XB_OK) goto fail;
    cJSON_AddNumberToObject(d, "seconds", now_s() - t0);
    xb_progress_update(dr.prog, 2 + be->n + 4);
    xb_progress_done(dr.prog);
    return d;
fail:
    xb_progress_done(dr.prog);
    cJSON_Delete(d);
    return NULL;
}

void xb_diagnose_print(FILE *f, const cJSON *d) {
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "triggered"))) return;
    fprintf(f, "\ndiagnosis: analog top-1 is %.2f points below int8 (threshold %.3g)\n",
            num(d, "drop_points"), num(d, "threshold_points"));
    fprintf(f, "  measured on images #0..#%.0f: int8 %.2f%%, analog %.2f%%; each layer made exact in turn "
               "(%.1f s):\n", num(d, "images") - 1, 100 * num(d, "int8_subset"), 100 * num(d, "analog_subset"),
            num(d, "seconds"));
    fprintf(f, "  %3s  %-40s %10s %12s %10s %12s\n", "#", "layer", "saturated", "bits needed", "bits given",
            "if exact");
    for (const cJSON *l = cJSON_GetObjectItemCaseSensitive(d, "layers")->child; l; l = l->next) {
        double bn = num(l, "bits_needed");
        char bns[16];
        if (isfinite(bn)) snprintf(bns, sizeof bns, "%.0f", bn);
        else snprintf(bns, sizeof bns, "-");
        char bgs[16];
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "lossless"))) snprintf(bgs, sizeof bgs, "lossless");
        else snprintf(bgs, sizeof bgs, "%.0f", num(l, "bits_given"));
        fprintf(f, "  %3.0f  %-40s %9.3f%% %12s %10s %11.2f%%\n", num(l, "layer"),
                cJSON_GetObjectItemCaseSensitive(l, "name")->valuestring, 100 * num(l, "saturation_rate"), bns,
                bgs, 100 * num(l, "accuracy_exact"));
    }
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(d, "responsible");
    if (cJSON_GetArraySize(resp) > 0) {
        fprintf(f, "  most responsible (accuracy recovered when made exact):");
        for (const cJSON *r = resp->child; r; r = r->next) fprintf(f, " %s", r->valuestring);
        fputc('\n', f);
    } else {
        fprintf(f, "  no single layer recovers a point when made exact: the loss is spread over the layers\n");
    }
    for (const cJSON *sg = cJSON_GetObjectItemCaseSensitive(d, "suggestions")->child; sg; sg = sg->next) {
        fprintf(f, "  try --set %s  (%s)", cJSON_GetObjectItemCaseSensitive(sg, "set")->valuestring,
                cJSON_GetObjectItemCaseSensitive(sg, "why")->valuestring);
        if (isfinite(num(sg, "accuracy"))) fprintf(f, ": %.2f%% on the subset", 100 * num(sg, "accuracy"));
        fputc('\n', f);
    }
}
