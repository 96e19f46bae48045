/* LayCO's layer-centric voltage / bit-width search (optimize_layco.h). */
#include "eval/optimize_layco.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/analog_buffer.h"

typedef struct {
    xb_session *s;
    const xb_arch *base;
    const xb_layco_opts *o;
    int n;
    double *v;   /* [n] voltage per layer */
    int *bits;   /* [n] converter bits per layer */
    int64_t floor_correct; /* the least validation top-1 accepted */
    xb_layco_result *r;
} search;

/* The base with the per-layer voltages and bits written into it. */
static xb_status compose(const search *sr, xb_arch *t, xb_ctx *ctx) {
    *t = *sr->base;
    char vs[256] = "", bs[256] = "";
    size_t lv = 0, lb = 0;
    for (int i = 0; i < sr->n; i++) {
        int a = snprintf(vs + lv, sizeof vs - lv, "%s%d=%.3g", i ? "/" : "", i, sr->v[i]);
        int b = snprintf(bs + lb, sizeof bs - lb, "%s%d=%d", i ? "/" : "", i, sr->bits[i]);
        if (a < 0 || b < 0 || lv + (size_t)a >= sizeof vs || lb + (size_t)b >= sizeof bs)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "optimize: %d layers do not fit buffer.layer_voltage / layer_bits "
                           "(255 characters)", sr->n);
        lv += (size_t)a;
        lb += (size_t)b;
    }
    snprintf(t->buf_layer_v, sizeof t->buf_layer_v, "%s", vs);
    snprintf(t->buf_layer_bits, sizeof t->buf_layer_bits, "%s", bs);
    return xb_arch_validate(t, ctx);
}

/* One analog run of the validation images under arch t. */
static xb_status evaluate(search *sr, const xb_arch *t, int64_t *correct, double *pj,
                          xb_ctx *ctx) {
    XB_TRY(xb_session_build_backend(sr->s, t, ctx));
    if (xb_arch_needs_calibration(t)) XB_TRY(xb_session_calibrate_adc(sr->s, ctx));
    XB_TRY(xb_session_run_analog(sr->s, ctx));
    *correct = xb_session_result(sr->s, XB_SESSION_ANALOG)->correct1;
    *pj = xb_session_cost(sr->s)->energy_pj;
    sr->r->evaluations++;
    return XB_OK;
}

/* Evaluate the current per-layer setting; *ok when within the budget. */
static xb_status try_current(search *sr, bool *ok, double *pj, xb_ctx *ctx) {
    xb_arch t;
    int64_t c;
    XB_TRY(compose(sr, &t, ctx));
    XB_TRY(evaluate(sr, &t, &c, pj, ctx));
    *ok = c >= sr->floor_correct;
    if (sr->o->progress)
        fprintf(stderr, "optimize: evaluation %d: %lld/%lld correct, %.4g pJ%s\n",
                sr->r->evaluations, (long long)c, (long long)sr->r->images, *pj,
                *ok ? "" : " (over the loss budget)");
    if (*ok) {
        sr->r->tuned_correct = c;
        sr->r->tuned_energy_pj = *pj;
    }
    return XB_OK;
}

/* Lowest acceptable rung of a ladder of `m` settings for one layer
 * (rung 0 = the current, known acceptable): the last rung first, then a
 * bisection.  set(k) applies rung k; the layer ends on the best rung. */
typedef void (*set_rung)(search *sr, int layer, int k);
static xb_status descend(search *sr, int layer, int m, set_rung set, xb_ctx *ctx) {
    int good = 0, bad = m;
    double pj;
    bool ok;
    while (bad - good > 1) {
        int k = bad == m ? m - 1 : (good + bad) / 2;
        set(sr, layer, k);
        XB_TRY(try_current(sr, &ok, &pj, ctx));
        if (ok) good = k;
        else bad = k;
    }
    set(sr, layer, good);
    return XB_OK;
}

static double v0_of(const search *sr, int layer) {
    return xb_buffer_layer_voltage(sr->base, layer, sr->n);
}
static int v_rungs(const search *sr, int layer) {
    double v0 = v0_of(sr, layer);
    int m = 1;
    while (v0 - m * sr->o->v_step >= sr->o->v_min - 1e-9) m++;
    return m;
}
static void set_v(search *sr, int layer, int k) {
    sr->v[layer] = v0_of(sr, layer) - k * sr->o->v_step;
}
static int b0_of(const search *sr, int layer) {
    return xb_arch_layer_adc_bits(sr->base, layer, sr->n, NULL);
}
static void set_b(search *sr, int layer, int k) { sr->bits[layer] = b0_of(sr, layer) - k; }

typedef struct {
    int layer;
    int64_t drop;
    double saving;
} rank;

static int by_sensitivity(const void *pa, const void *pb) {
    const rank *a = pa, *b = pb;
    if (a->drop != b->drop) return a->drop < b->drop ? -1 : 1;
    if (a->saving != b->saving) return a->saving > b->saving ? -1 : 1;
    return a->layer - b->layer;
}

/* Step 2: each layer alone at the bottom of both ladders. */
static xb_status sensitivity(search *sr, rank *rk, xb_ctx *ctx) {
    for (int i = 0; i < sr->n; i++) {
        double v = sr->v[i];
        int b = sr->bits[i];
        set_v(sr, i, v_rungs(sr, i) - 1);
        if (b0_of(sr, i) > sr->o->bits_min) set_b(sr, i, b0_of(sr, i) - sr->o->bits_min);
        xb_arch t;
        int64_t c;
        double pj;
        XB_TRY(compose(sr, &t, ctx));
        XB_TRY(evaluate(sr, &t, &c, &pj, ctx));
        rk[i] = (rank){i, sr->r->base_correct - c, sr->r->base_energy_pj - pj};
        if (sr->o->progress)
            fprintf(stderr, "optimize: layer %d alone at %.2f V, %d bits: %lld/%lld correct, %.4g pJ\n",
                    i, sr->v[i], sr->bits[i], (long long)c, (long long)sr->r->images, pj);
        sr->v[i] = v;
        sr->bits[i] = b;
    }
    qsort(rk, (size_t)sr->n, sizeof *rk, by_sensitivity);
    return XB_OK;
}

static xb_status run_search(search *sr, xb_ctx *ctx) {
    xb_arch t = *sr->base;
    int64_t c;
    double pj;
    XB_TRY(evaluate(sr, &t, &c, &pj, ctx));
    sr->r->images = xb_session_result(sr->s, XB_SESSION_ANALOG)->total;
    sr->r->layers = sr->n = xb_session_mapping(sr->s)->n;
    sr->r->base_correct = sr->r->tuned_correct = c;
    sr->r->base_energy_pj = sr->r->tuned_energy_pj = pj;
    /* loss budget in images: max_loss points of the validation images */
    sr->floor_correct = c - (int64_t)floor(sr->o->max_loss / 100.0 * (double)sr->r->images + 1e-9);
    sr->v = calloc((size_t)(sr->n ? sr->n : 1), sizeof *sr->v);
    sr->bits = calloc((size_t)(sr->n ? sr->n : 1), sizeof *sr->bits);
    rank *rk = calloc((size_t)(sr->n ? sr->n : 1), sizeof *rk);
    if (!sr->v || !sr->bits || !rk) {
        free(rk);
        return xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
    }
    for (int i = 0; i < sr->n; i++) {
        sr->v[i] = v0_of(sr, i);
        sr->bits[i] = b0_of(sr, i);
    }
    xb_status st = sensitivity(sr, rk, ctx);
    for (int j = 0; st == XB_OK && j < sr->n; j++) {
        int i = rk[j].layer;
        st = descend(sr, i, v_rungs(sr, i), set_v, ctx);
        int mb = b0_of(sr, i) - sr->o->bits_min + 1;
        if (st == XB_OK && mb > 1) st = descend(sr, i, mb, set_b, ctx);
    }
    free(rk);
    return st;
}

xb_status xb_optimize_layco(xb_session *s, const xb_arch *base, const xb_layco_opts *o,
                            xb_arch *tuned, xb_layco_result *r, xb_ctx *ctx) {
    if (!base->buf_on)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "optimize --method layco: the arch '%s' has no analog buffers "
                       "(buffer.enabled = false); start from --arch layco",
                       base->name);
    if (!(o->v_step > 0) || !(o->v_min > 0) || o->bits_min < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "optimize: v_step, v_min and bits_min must be > 0");
    *r = (xb_layco_result){0};
    search sr = {.s = s, .base = base, .o = o, .r = r};
    xb_status st = run_search(&sr, ctx);
    if (st == XB_OK) st = compose(&sr, tuned, ctx);
    if (st == XB_OK) snprintf(tuned->name, sizeof tuned->name, "%.57s-tuned", base->name);
    free(sr.v);
    free(sr.bits);
    return st;
}
