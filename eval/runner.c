#include "eval/runner.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void draw_bar(const char *label, int64_t done, int64_t total, double t0) {
    int width = 30, fill = total ? (int)(width * done / total) : width;
    double el = now_s() - t0;
    fprintf(stderr, "\r%-8s [", label ? label : "run");
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %lld/%lld  %.0f img/s ", (long long)done, (long long)total,
            el > 0 ? (double)done / el : 0.0);
    fflush(stderr);
}

typedef struct {
    xb_exec *e;
    void *state;
    xb_ctx ctx;
    xb_status st;
    int64_t fail_at;   /* lowest failing image, or INT64_MAX */
    int64_t done;      /* images completed */
    bool cancelled;
} worker;

xb_status xb_run_dataset(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                         const xb_run_opts *o, xb_run_result *r, xb_ctx *ctx) {
    memset(r, 0, sizeof *r);
    XB_TRY(xb_preproc_check(pp, d->c, d->h, d->w, d->path, ctx));
    int64_t first = o->first < 0 ? 0 : o->first;
    if (first > d->n) first = d->n;
    int64_t count = d->n - first;
    if (o->limit > 0 && o->limit < count) count = o->limit;
    const int K = pp->n_outputs;
    for (int64_t i = first; i < first + count; i++)
        if (d->labels[i] < 0 || d->labels[i] >= K)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: image %lld has label %d; the model has %d outputs",
                           d->path, (long long)i, d->labels[i], K);
    int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (nt < 1) nt = 1;
    if (count < nt) nt = count > 0 ? (int)count : 1;
    uint8_t *hit = xb_calloc(ctx, (size_t)(count ? count : 1), 2);
    worker *w = xb_calloc(ctx, (size_t)nt, sizeof *w);
    if (!hit || !w) {
        free(hit);
        free(w);
        return ctx->status;
    }
    const xb_engine *eng = o->engine;
    const int in_t = g->inputs[0], out_t = g->outputs[0];
    const bool bar = o->progress && isatty(STDERR_FILENO) && count > 0;
    int64_t done = 0, next_draw = 0;
    const int64_t step = count / 100 > 0 ? count / 100 : 1;
    double t0 = 0, t1 = 0;

    /* Workers are created in parallel (first-touch puts each exec's
     * buffers near its thread), outside the timed loop. */
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
        worker *me = &w[t];
        me->fail_at = INT64_MAX;
        me->e = xb_exec_new(g, &me->ctx);
        if (!me->e) me->st = me->ctx.status;
        if (me->st == XB_OK && eng && eng->state_new) {
            me->state = eng->state_new(eng->self, &me->ctx);
            if (!me->state) me->st = me->ctx.status ? me->ctx.status : XB_ERR_NOMEM;
        }
        if (me->e) {
            me->e->engine = eng;
            me->e->engine_state = me->state;
            me->e->thread = t;
        }
        bool all_ok = true;
#pragma omp barrier
        for (int i = 0; i < nt; i++)
            if (w[i].st != XB_OK) all_ok = false;
#pragma omp single
        t0 = now_s();
        if (all_ok) {
#pragma omp for schedule(dynamic, 4)
            for (int64_t j = 0; j < count; j++) {
                if (me->st != XB_OK || me->cancelled) continue; /* failed or stopping */
                if (o->cancel && *o->cancel) {
                    me->cancelled = true;
                    continue;
                }
                int64_t i = first + j;
                xb_exec *e = me->e;
                xb_preproc_image(pp, xb_dataset_image(d, i), d->c, (float *)e->buf[in_t]);
                e->image_index = i;
                xb_status st = xb_exec_run(e, &me->ctx);
                if (st != XB_OK) {
                    me->st = st;
                    me->fail_at = i;
                    continue;
                }
                const float *s = (const float *)e->buf[out_t];
                int rank = xb_score_rank(s, K, d->labels[i]);
                hit[2 * j] = rank == 0;
                hit[2 * j + 1] = rank < 5;
                if (o->logits) memcpy(o->logits + (size_t)j * (size_t)K, s, (size_t)K * sizeof(float));
                if (o->pred) o->pred[j] = xb_argmax(s, K);
                me->done++;
                if (bar) {
                    int64_t now, due;
#pragma omp atomic capture
                    now = ++done;
#pragma omp atomic read
                    due = next_draw;
                    if (now >= due) {
#pragma omp critical(xb_runner_bar)
                        if (now >= next_draw) {
                            draw_bar(o->label, now, count, t0);
#pragma omp atomic write
                            next_draw = now + step;
                        }
                    }
                }
            }
        }
#pragma omp single
        t1 = now_s();
    }
    if (bar) {
        draw_bar(o->label, o->cancel && *o->cancel ? done : count, count, t0);
        fputc('\n', stderr);
    }
    /* The first failing image (by index) decides the message, so it does not
     * depend on which thread hit an error first. */
    xb_status st = XB_OK;
    int bad = -1;
    for (int t = 0; t < nt; t++) {
        if (w[t].st == XB_OK) continue;
        if (bad < 0 || w[t].fail_at < w[bad].fail_at) bad = t;
    }
    if (bad >= 0) {
        st = xb_fail(ctx, w[bad].st, "%s", w[bad].ctx.msg);
        if (w[bad].fail_at != INT64_MAX)
            xb_ctx_prefix(ctx, "image %lld of %s", (long long)w[bad].fail_at, d->path);
    } else if (o->cancel && *o->cancel) {
        int64_t n_done = 0;
        for (int t = 0; t < nt; t++) n_done += w[t].done;
        st = xb_fail(ctx, XB_ERR_INTERRUPTED, "%s: interrupted after %lld of %lld images",
                     o->label ? o->label : "run", (long long)n_done, (long long)count);
    }
    for (int t = 0; t < nt; t++) {
        if (w[t].state) {
            /* Merge in thread order, then free: totals are integer sums. */
            if (st == XB_OK && eng->state_merge) eng->state_merge(eng->self, w[t].state);
            if (eng->state_free) eng->state_free(w[t].state);
        }
        xb_exec_free(w[t].e);
    }
    if (st == XB_OK) {
        r->total = count;
        for (int64_t j = 0; j < count; j++) {
            r->correct1 += hit[2 * j];
            r->correct5 += hit[2 * j + 1];
        }
        r->seconds = t1 - t0;
        r->images_per_s = r->seconds > 0 ? (double)count / r->seconds : 0.0;
        r->threads = nt;
    }
    free(hit);
    free(w);
    return st;
}
