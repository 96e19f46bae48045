#include "eval/runner.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eval/progress.h"
#include "kernels/qlayer.h"

int xb_argmax(const float *s, int k) {
    int best = 0;
    for (int i = 1; i < k; i++)
        if (s[i] > s[best]) best = i;
    return best;
}

int xb_score_rank(const float *s, int k, int label) {
    float v = s[label];
    if (isnan(v)) return k;
    int rank = 0;
    for (int i = 0; i < k; i++) {
        if (isnan(s[i])) continue;
        if (s[i] > v || (s[i] == v && i < label)) rank++;
    }
    return rank;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    xb_exec *e;
    void *state;
    void *hook_state;  /* o->hook's worker state */
    uint8_t *px;       /* one image's pixels when the dataset reads files */
    uint8_t *codes;    /* one image's input codes (run_shared.codes) */
    xb_ctx ctx;
    xb_status st;
    int64_t fail_at;   /* lowest failing image, or INT64_MAX */
    int64_t done;      /* images completed */
    bool cancelled;
} worker;

/* What every worker of one xb_run_dataset call shares. */
typedef struct {
    const xb_graph *g;
    const xb_preproc *pp;
    const xb_dataset *d;
    const xb_run_opts *o;
    int K, in_t, out_t;
    int64_t first, count;
    uint8_t *hit;            /* [count][2]: top-1, top-5 */
    xb_progress *bar;   /* eval/progress.h, or NULL */
    int64_t done, next_draw, step;
    double t0;
    /* The graph's first node quantizes its float input itself: the
     * images go in as codes through a table per pixel value (plan_codes). */
    bool codes;
    uint8_t tab[XB_PP_MAX_CHANNELS][256];
} run_shared;

/* Whether the images can go in as codes: the graph input feeds only a
 * quantizing matrix layer (xb_qlayer_input_quant), each model value comes
 * from one pixel (xb_preproc_code_table), and nothing but the graph reads
 * the float input (a hook may, or re-run layers from it: the diagnosis's
 * delta runs).  The codes are the ones that layer would compute. */
static bool plan_codes(run_shared *rs) {
    float scale;
    int32_t zp, hi;
    if (rs->o->hook || rs->o->keep_activations) return false;
    if (!xb_qlayer_input_quant(rs->g, &scale, &zp, &hi)) return false;
    return xb_preproc_code_table(rs->pp, rs->d->c, scale, zp, hi, rs->tab);
}

/* Images [first, first + count) after checking their labels. */
static xb_status image_range(const xb_dataset *d, const xb_run_opts *o, int K, int64_t *first,
                             int64_t *count, xb_ctx *ctx) {
    *first = o->first < 0 ? 0 : o->first;
    if (*first > d->n) *first = d->n;
    *count = d->n - *first;
    if (o->limit > 0 && o->limit < *count) *count = o->limit;
    for (int64_t i = *first; i < *first + *count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= K)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: image %lld has label %d; the model has %d outputs",
                           d->path, (long long)i, d->labels[i], K);
    return XB_OK;
}

/* One worker's exec and engine state (called inside the parallel region,
 * so first-touch puts each exec's buffers near its thread). */
static void worker_init(worker *me, const run_shared *rs, int t) {
    const xb_engine *eng = rs->o->engine;
    me->fail_at = INT64_MAX;
    me->e = rs->o->keep_activations ? xb_exec_new_keep(rs->g, &me->ctx) : xb_exec_new(rs->g, &me->ctx);
    if (!me->e) me->st = me->ctx.status;
    if (me->st == XB_OK && !rs->d->images) {
        me->px = xb_malloc(&me->ctx, xb_dataset_image_bytes(rs->d));
        if (!me->px) me->st = me->ctx.status;
    }
    if (me->st == XB_OK && rs->codes) {
        me->codes = xb_malloc(&me->ctx, (size_t)rs->pp->c * (size_t)rs->pp->h * (size_t)rs->pp->w);
        if (!me->codes) me->st = me->ctx.status;
    }
    if (me->st == XB_OK && eng && eng->state_new) {
        me->state = eng->state_new(eng->self, &me->ctx);
        if (!me->state) me->st = me->ctx.status ? me->ctx.status : XB_ERR_NOMEM;
    }
    if (me->e) {
        me->e->engine = eng;
        me->e->engine_state = me->state;
        me->e->thread = t;
    }
    const xb_run_hook *h = rs->o->hook;
    if (me->st == XB_OK && h && h->worker_new) {
        me->st = h->worker_new(h->self, me->e, &me->hook_state, &me->ctx);
        if (me->st != XB_OK && !me->ctx.status) me->st = xb_fail(&me->ctx, me->st, "run hook failed");
    }
}

/* Advance the progress bar by one image (any thread; one draws). */
static void bar_tick(run_shared *rs) {
    int64_t now, due;
#pragma omp atomic capture
    now = ++rs->done;
#pragma omp atomic read
    due = rs->next_draw;
    if (now >= due) {
#pragma omp critical(xb_runner_bar)
        if (now >= rs->next_draw) {
            xb_progress_update(rs->bar, now);
#pragma omp atomic write
            rs->next_draw = now + rs->step;
        }
    }
}

/* Image j of the range on worker `me`: preprocess, run, score. */
static void run_image(worker *me, run_shared *rs, int64_t j) {
    const xb_run_opts *o = rs->o;
    if (me->st != XB_OK || me->cancelled) return; /* failed or stopping */
    if (o->cancel && *o->cancel) {
        me->cancelled = true;
        return;
    }
    int64_t i = rs->first + j;
    xb_exec *e = me->e;
    const uint8_t *px = xb_dataset_pixels(rs->d, i, me->px, &me->ctx);
    if (!px) {
        me->st = me->ctx.status;
        me->fail_at = i;
        return;
    }
    if (rs->codes) {
        xb_preproc_image_codes(rs->pp, (const uint8_t(*)[256])rs->tab, px, rs->d->c, me->codes);
        e->input_codes = me->codes;
    } else {
        xb_preproc_image(rs->pp, px, rs->d->c, (float *)e->buf[rs->in_t]);
    }
    e->image_index = i;
    xb_status st = xb_exec_run(e, &me->ctx);
    if (st != XB_OK) {
        me->st = st;
        me->fail_at = i;
        return;
    }
    const float *s = (const float *)e->buf[rs->out_t];
    int K = rs->K, rank = xb_score_rank(s, K, rs->d->labels[i]);
    rs->hit[2 * j] = rank == 0;
    rs->hit[2 * j + 1] = rank < 5;
    if (o->logits) memcpy(o->logits + (size_t)j * (size_t)K, s, (size_t)K * sizeof(float));
    if (o->pred) o->pred[j] = xb_argmax(s, K);
    if (o->hook && (st = o->hook->image_done(o->hook->self, me->hook_state, e, i, rs->d->labels[i],
                                              &me->ctx)) != XB_OK) {
        me->st = st;
        me->fail_at = i;
        return;
    }
    me->done++;
    if (rs->bar) bar_tick(rs);
}

/* The run's status: the first failing image (by index) decides the
 * message, so it does not depend on which thread hit an error first. */
static xb_status run_status(const worker *w, int nt, const run_shared *rs, xb_ctx *ctx) {
    int bad = -1;
    for (int t = 0; t < nt; t++) {
        if (w[t].st == XB_OK) continue;
        if (bad < 0 || w[t].fail_at < w[bad].fail_at) bad = t;
    }
    if (bad >= 0) {
        xb_status st = xb_fail(ctx, w[bad].st, "%s", w[bad].ctx.msg);
        if (w[bad].fail_at != INT64_MAX)
            xb_ctx_prefix(ctx, "image %lld of %s", (long long)w[bad].fail_at, rs->d->path);
        return st;
    }
    if (rs->o->cancel && *rs->o->cancel) {
        int64_t n_done = 0;
        for (int t = 0; t < nt; t++) n_done += w[t].done;
        return xb_fail(ctx, XB_ERR_INTERRUPTED, "%s: interrupted after %lld of %lld images",
                       rs->o->label ? rs->o->label : "run", (long long)n_done,
                       (long long)rs->count);
    }
    return XB_OK;
}

/* Merge the engine and hook states in thread order (totals are integer
 * sums) when the run succeeded, then free the workers' states and execs. */
static void workers_finish(worker *w, int nt, const xb_run_opts *o, xb_status st) {
    const xb_engine *eng = o->engine;
    const xb_run_hook *h = o->hook;
    for (int t = 0; t < nt; t++) {
        if (h && st == XB_OK && h->merge) h->merge(h->self, w[t].hook_state);
        if (h && h->worker_free && w[t].hook_state) h->worker_free(h->self, w[t].hook_state);
        if (w[t].state) {
            if (st == XB_OK && eng->state_merge) eng->state_merge(eng->self, w[t].state);
            if (eng->state_free) eng->state_free(w[t].state);
        }
        xb_exec_free(w[t].e);
        free(w[t].px);
        free(w[t].codes);
    }
}

xb_status xb_run_dataset(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                         const xb_run_opts *o, xb_run_result *r, xb_ctx *ctx) {
    memset(r, 0, sizeof *r);
    XB_TRY(xb_preproc_check(pp, d->c, d->h, d->w, d->path, ctx));
    run_shared rs = {.g = g, .pp = pp, .d = d, .o = o, .K = pp->n_outputs,
                     .in_t = g->inputs[0], .out_t = g->outputs[0]};
    XB_TRY(image_range(d, o, rs.K, &rs.first, &rs.count, ctx));
    rs.codes = plan_codes(&rs);
    int64_t count = rs.count;
    int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (nt < 1) nt = 1;
    if (count < nt) nt = count > 0 ? (int)count : 1;
    rs.hit = xb_calloc(ctx, (size_t)(count ? count : 1), 2);
    worker *w = xb_calloc(ctx, (size_t)nt, sizeof *w);
    if (!rs.hit || !w) {
        free(rs.hit);
        free(w);
        return ctx->status;
    }
    rs.bar = o->progress ? xb_progress_start(o->progress_mode, o->label, count) : NULL;
    rs.step = count / 100 > 0 ? count / 100 : 1;
    double t1 = 0;
    int chunk = o->hook ? 1 : 4;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        worker_init(&w[t], &rs, t);
        bool all_ok = true;
#pragma omp barrier
        for (int i = 0; i < nt; i++)
            if (w[i].st != XB_OK) all_ok = false;
#pragma omp single
        rs.t0 = now_s();
        if (all_ok) {
/* a hooked image costs many runs (the diagnosis: one per layer): one at a
 * time keeps the threads busy to the end */
#pragma omp for schedule(dynamic, chunk)
            for (int64_t j = 0; j < count; j++) run_image(&w[t], &rs, j);
        }
#pragma omp single
        t1 = now_s();
    }
    if (rs.bar) {
        xb_progress_update(rs.bar, o->cancel && *o->cancel ? rs.done : count);
        xb_progress_done(rs.bar);
    }
    xb_status st = run_status(w, nt, &rs, ctx);
    workers_finish(w, nt, o, st);
    if (st == XB_OK) {
        r->total = count;
        for (int64_t j = 0; j < count; j++) {
            r->correct1 += rs.hit[2 * j];
            r->correct5 += rs.hit[2 * j + 1];
        }
        r->seconds = t1 - rs.t0;
        r->images_per_s = r->seconds > 0 ? (double)count / r->seconds : 0.0;
        r->threads = nt;
        r->input_codes = rs.codes;
    }
    free(rs.hit);
    free(w);
    return st;
}
