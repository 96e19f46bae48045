/* Runner: counts, top-5, thread-count independence, engine state hooks. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "eval/runner.h"
#include "frontend/onnx.h"
#include "frontend/quantize.h"
#include "tests/test_util.h"

/* A "model" whose scores are the (normalised) pixels themselves:
 * [1,1,2,3] -> Flatten -> [1,6]. */
static void pixel_model(xb_test_graph *tg, xb_preproc *p) {
    int64_t dims[4] = {1, 1, 2, 3};
    xb_test_unary_begin(tg, "Flatten", 13, XB_F32, 4, dims);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
    cr_assert_eq(xb_preproc_init(p, tg->g, &tg->ctx), XB_OK, "%s", tg->ctx.msg);
}

/* n images; image i has its maximum at pixel i % 6, its second largest at
 * (i + 1) % 6, and so on down; labels are spread so that every rank occurs.
 */
static xb_dataset *ranked(int n) {
    xb_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->c = 1;
    d->h = 2;
    d->w = 3;
    d->images = malloc((size_t)n * 6);
    d->labels = malloc((size_t)n * sizeof(int32_t));
    d->path = strdup("ranked");
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < 6; r++) d->images[i * 6 + (i + r) % 6] = (uint8_t)(250 - 40 * r);
        d->labels[i] = (i * i * 3 + i / 5) % 6;
    }
    return d;
}

/* The label of image i sits at rank (label - i) mod 6. */
static void expected_counts(int first, int n, int64_t *c1, int64_t *c5) {
    *c1 = *c5 = 0;
    for (int i = first; i < first + n; i++) {
        int rank = (((i * i * 3 + i / 5) % 6) - i % 6 + 6) % 6;
        *c1 += rank == 0;
        *c5 += rank < 5;
    }
}

Test(runner, counts_top1_top5_and_range) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(100);
    xb_run_opts o;
    xb_run_opts_init(&o);
    xb_run_result r;
    cr_assert_eq(xb_run_dataset(tg.g, &p, d, &o, &r, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    int64_t c1, c5;
    expected_counts(0, 100, &c1, &c5);
    cr_assert_eq(r.total, 100);
    cr_assert_eq(r.correct1, c1);
    cr_assert_eq(r.correct5, c5);
    cr_assert(c1 > 0 && c5 > c1 && c5 < 100);
    o.first = 10;
    o.limit = 25;
    cr_assert_eq(xb_run_dataset(tg.g, &p, d, &o, &r, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    expected_counts(10, 25, &c1, &c5);
    cr_assert_eq(r.total, 25);
    cr_assert_eq(r.correct1, c1);
    cr_assert_eq(r.correct5, c5);
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(runner, identical_for_any_thread_count) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(203);
    /* perturb pixels so scores are not all alike */
    for (int i = 0; i < 203 * 6; i++) d->images[i] = (uint8_t)(d->images[i] ^ (i * 13));
    float *l1 = malloc(203 * 6 * sizeof(float)), *l2 = malloc(203 * 6 * sizeof(float));
    int32_t p1[203], p2[203];
    xb_run_opts o;
    xb_run_opts_init(&o);
    xb_run_result r1, r2;
    o.threads = 1;
    o.logits = l1;
    o.pred = p1;
    cr_assert_eq(xb_run_dataset(tg.g, &p, d, &o, &r1, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(r1.threads, 1);
    o.threads = 2;
    o.logits = l2;
    o.pred = p2;
    cr_assert_eq(xb_run_dataset(tg.g, &p, d, &o, &r2, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(r2.threads, 2);
    cr_assert_eq(memcmp(l1, l2, 203 * 6 * sizeof(float)), 0);
    cr_assert_eq(memcmp(p1, p2, sizeof p1), 0);
    cr_assert_eq(r1.correct1, r2.correct1);
    cr_assert_eq(r1.correct5, r2.correct5);
    /* and the logits are the normalised pixels */
    for (int i = 0; i < 203 * 6; i++) cr_assert_float_eq(l1[i], d->images[i] / 255.0, 1e-7);
    free(l1);
    free(l2);
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(runner, rejects_bad_labels_and_sizes) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(4);
    d->labels[3] = 6;
    xb_run_opts o;
    xb_run_opts_init(&o);
    xb_run_result r;
    cr_assert_neq(xb_run_dataset(tg.g, &p, d, &o, &r, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "image 3 has label 6") != NULL, "%s", tg.ctx.msg);
    xb_ctx_clear(&tg.ctx);
    d->labels[3] = 0;
    d->w = 2;
    d->h = 3;
    cr_assert_neq(xb_run_dataset(tg.g, &p, d, &o, &r, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "does not resize") != NULL, "%s", tg.ctx.msg);
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(runner, ranks_and_ties) {
    float s[5] = {1, 3, 3, NAN, 0};
    cr_assert_eq(xb_argmax(s, 5), 1);
    cr_assert_eq(xb_score_rank(s, 5, 1), 0);
    cr_assert_eq(xb_score_rank(s, 5, 2), 1);
    cr_assert_eq(xb_score_rank(s, 5, 0), 2);
    cr_assert_eq(xb_score_rank(s, 5, 4), 3);
    cr_assert_eq(xb_score_rank(s, 5, 3), 5);
}

/* Engine hooks: one state per worker, each merged exactly once, then freed. */
typedef struct {
    int made, merged, freed;
} counters;

static void *st_new(void *self, xb_ctx *ctx) {
    (void)ctx;
    counters *c = self;
#pragma omp atomic
    c->made++;
    return calloc(1, 16);
}
static void st_merge(void *self, void *state) {
    (void)state;
    ((counters *)self)->merged++;
}
static void st_free(void *state) { free(state); }

Test(runner, engine_state_per_worker) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(50);
    counters c = {0};
    xb_engine eng = {.self = &c, .state_new = st_new, .state_merge = st_merge, .state_free = st_free};
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.engine = &eng;
    o.threads = 2;
    xb_run_result r;
    cr_assert_eq(xb_run_dataset(tg.g, &p, d, &o, &r, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(c.made, 2);
    cr_assert_eq(c.merged, 2);
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

/* Per-image hook (xb_run_opts.hook): a per-worker tally of which images it
 * saw and what the runner handed it, merged as integer sums. */
typedef struct {
    const xb_dataset *d;
    int out_t;
    int64_t fail_a, fail_b; /* images whose hook fails (-1: none) */
    int64_t *seen;          /* [d->n] merged: calls per image */
    int64_t top1, bad;      /* merged: argmax == label; arguments not as documented */
    int made, merged, freed;
    bool keep;              /* expected e->keeps_all */
} tally;

typedef struct {
    int64_t *seen, top1, bad;
} tally_worker;

static xb_status tally_new(void *self, xb_exec *e, void **out, xb_ctx *ctx) {
    tally *t = self;
    (void)e;
#pragma omp atomic
    t->made++;
    tally_worker *w = xb_calloc(ctx, 1, sizeof *w);
    if (!w) return ctx->status;
    *out = w;
    w->seen = xb_calloc(ctx, (size_t)t->d->n, sizeof *w->seen);
    return w->seen ? XB_OK : ctx->status;
}

static xb_status tally_image(void *self, void *worker, xb_exec *e, int64_t i, int label, xb_ctx *ctx) {
    tally *t = self;
    tally_worker *w = worker;
    if (i == t->fail_a || i == t->fail_b) return xb_fail(ctx, XB_ERR_INVALID, "hook refused");
    w->seen[i]++;
    const float *s = (const float *)e->buf[t->out_t];
    w->top1 += xb_argmax(s, 6) == label;
    w->bad += label != t->d->labels[i] || e->image_index != i || e->keeps_all != t->keep ||
              xb_argmax(s, 6) != i % 6; /* ranked(): image i peaks at pixel i % 6 */
    return XB_OK;
}

static void tally_merge(void *self, void *worker) {
    tally *t = self;
    tally_worker *w = worker;
    for (int64_t i = 0; i < t->d->n; i++) t->seen[i] += w->seen[i];
    t->top1 += w->top1;
    t->bad += w->bad;
    t->merged++;
}

static void tally_free(void *self, void *worker) {
    tally *t = self;
    tally_worker *w = worker;
#pragma omp atomic
    t->freed++;
    free(w->seen);
    free(w);
}

static const xb_run_hook tally_hook = {.worker_new = tally_new, .image_done = tally_image,
                                       .merge = tally_merge, .worker_free = tally_free};

/* Runs images [10, 10 + 83) of `d` with the hook on `threads` threads. */
static xb_status run_tally(xb_test_graph *tg, const xb_preproc *p, xb_dataset *d, tally *t, int threads,
                           bool keep, xb_run_result *r) {
    *t = (tally){.d = d, .out_t = tg->g->outputs[0], .fail_a = t->fail_a, .fail_b = t->fail_b,
                 .seen = t->seen, .keep = keep};
    memset(t->seen, 0, (size_t)d->n * sizeof *t->seen);
    xb_run_hook h = tally_hook;
    h.self = t;
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.first = 10;
    o.limit = 83;
    o.threads = threads;
    o.hook = &h;
    o.keep_activations = keep;
    return xb_run_dataset(tg->g, p, d, &o, r, &tg->ctx);
}

Test(runner, hook_once_per_image_any_threads) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(120);
    int64_t seen[120];
    int64_t c1, c5;
    expected_counts(10, 83, &c1, &c5);
    for (int threads = 1; threads <= 4; threads++) {
        tally t = {.fail_a = -1, .fail_b = -1, .seen = seen};
        xb_run_result r;
        cr_assert_eq(run_tally(&tg, &p, d, &t, threads, threads % 2 == 0, &r), XB_OK, "%s", tg.ctx.msg);
        cr_assert_eq(r.threads, threads);
        cr_assert_eq(t.made, threads);
        cr_assert_eq(t.merged, threads);
        cr_assert_eq(t.freed, threads);
        for (int i = 0; i < 120; i++) cr_assert_eq(seen[i], i >= 10 && i < 93, "image %d seen %lld times", i, (long long)seen[i]);
        cr_assert_eq(t.bad, 0, "%d threads", threads);
        cr_assert_eq(t.top1, c1, "%d threads", threads);
        cr_assert_eq(r.correct1, c1);
    }
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

/* A failing hook fails the run as a failing image does: the lowest one is
 * named whatever the thread count, and nothing is merged. */
Test(runner, hook_failure_names_lowest_image) {
    xb_test_graph tg;
    xb_preproc p;
    pixel_model(&tg, &p);
    xb_dataset *d = ranked(120);
    int64_t seen[120];
    for (int threads = 1; threads <= 4; threads++) {
        tally t = {.fail_a = 61, .fail_b = 17, .seen = seen};
        xb_run_result r;
        xb_ctx_clear(&tg.ctx);
        cr_assert_eq(run_tally(&tg, &p, d, &t, threads, false, &r), XB_ERR_INVALID);
        cr_assert(strstr(tg.ctx.msg, "image 17 of ranked") && strstr(tg.ctx.msg, "hook refused"),
                  "%d threads: %s", threads, tg.ctx.msg);
        cr_assert_eq(t.merged, 0);
        cr_assert_eq(t.freed, t.made);
    }
    xb_ctx_clear(&tg.ctx);
    xb_dataset_free(d);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

/* A quantized LeNet-5 takes its images as codes through the per-pixel
 * table (its first layer quantizes the graph input): the logits are bit
 * for bit those of the general path (floats written by xb_preproc_image,
 * quantized by the layer), run here image by image without the runner and
 * through the runner with keep_activations (which keeps the float input). */
Test(runner, input_codes_same_logits_as_floats) {
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    cr_assert_eq(xb_onnx_load(XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx", 1, &g, &ctx), XB_OK,
                 "%s", ctx.msg);
    enum { N = 40, PX = 28 * 28 };
    xb_dataset *d = calloc(1, sizeof *d);
    d->n = N, d->c = 1, d->h = 28, d->w = 28, d->path = strdup("random");
    d->images = malloc((size_t)N * PX);
    d->labels = calloc(N, sizeof(int32_t));
    uint64_t s = 11;
    for (int i = 0; i < N * PX; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        /* mostly background, like digits, with every value somewhere */
        d->images[i] = (s >> 61) < 5 ? 0 : (uint8_t)(s >> 40);
    }
    xb_preproc p;
    cr_assert_eq(xb_preproc_init(&p, g, &ctx), XB_OK, "%s", ctx.msg);
    float *cal = malloc((size_t)4 * PX * sizeof(float));
    for (int i = 0; i < 4; i++) xb_preproc_image(&p, d->images + i * PX, 1, cal + i * PX);
    cr_assert_eq(xb_quantize_default(g, cal, 4, &q, &ctx), XB_OK, "%s", ctx.msg);
    float *l1 = malloc(N * 10 * sizeof(float)), *l2 = malloc(N * 10 * sizeof(float));
    xb_run_opts o;
    xb_run_opts_init(&o);
    xb_run_result r;
    o.threads = 2, o.logits = l1;
    cr_assert_eq(xb_run_dataset(q, &p, d, &o, &r, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(r.input_codes);
    xb_exec *e = xb_exec_new(q, &ctx);
    cr_assert_not_null(e, "%s", ctx.msg);
    for (int i = 0; i < N; i++) {
        xb_preproc_image(&p, d->images + i * PX, 1, e->buf[q->inputs[0]]);
        cr_assert_eq(xb_exec_run(e, &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_eq(memcmp(l1 + i * 10, e->buf[q->outputs[0]], 10 * sizeof(float)), 0, "%d", i);
    }
    xb_exec_free(e);
    o.logits = l2, o.keep_activations = true;
    cr_assert_eq(xb_run_dataset(q, &p, d, &o, &r, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(!r.input_codes);
    cr_assert_eq(memcmp(l1, l2, N * 10 * sizeof(float)), 0);
    /* the float model's input goes to a float Conv: no codes */
    o.keep_activations = false;
    cr_assert_eq(xb_run_dataset(g, &p, d, &o, &r, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(!r.input_codes);
    free(l1);
    free(l2);
    free(cal);
    xb_preproc_free(&p);
    xb_dataset_free(d);
    xb_graph_free(q);
    xb_graph_free(g);
}
