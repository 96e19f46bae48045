/* --method lrmp: per-layer weight and input bits jointly with replication
 * under a tile budget (LRMP, Frontiers in AI 2024, arXiv 2312.03146;
 * [reconstructed]: the paper's RL agent is replaced, see below).
 *
 * 1. Sensitivity: for every layer l and every candidate width b below the
 *    arch's, the validation top-1 with only that layer's weights (or only
 *    its inputs) at b; the loss against the base accuracy, clamped at 0,
 *    plus eps per bit dropped (1% of a validation image per bit: only a tie
 *    break, so that a reduction measured as free is not taken for nothing).
 *    The loss of a layer at (w, x) is estimated as the sum of its two.
 * 2. For a target interval T, each layer at each (w, x) needs the fewest
 *    copies k with max(ceil(P/k) x input slices x cycle, bus time) <= T
 *    (the same time model as compile.c and the MILP), i.e. a number of
 *    partitions; choosing one (w, x) per layer with the least estimated
 *    loss within the budget's partitions is a multiple-choice knapsack,
 *    solved exactly by dynamic programming over partitions.
 * 3. The smallest T whose least estimated loss is within the loss budget
 *    (binary search over the finitely many times a layer can take: the
 *    least loss does not grow with T) gives the precision.
 * 4. That precision is measured on the validation images.  Summed
 *    single-layer losses are only an estimate (noise adds up, effects
 *    interact), so the estimate budget B is searched: starting at
 *    --max-loss, doubled while the measured loss stays within --max-loss,
 *    bisected between the largest B that held and the smallest that did
 *    not; 8 rounds; the fastest precision whose measured loss held is kept
 *    (the arch's own bits when none did).
 * 5. The replication itself is the exact MILP (mapping.replication=milp) of
 *    the written arch, at the chosen precision and the same budget. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/replicate_milp.h"
#include "eval/optimize.h"

typedef struct {
    int nw, nx, wv[XB_OPT_MAX_CHOICES + 1], xv[XB_OPT_MAX_CHOICES + 1]; /* [0]: the arch's */
    double *sw, *sx;   /* [n][nw], [n][nx]: estimated loss of each width (points) */
    xb_mapping **maps; /* [nw * nx]: the model at global bits (wv, xv), one copy each */
    int64_t cap;       /* partitions in the budget */
} lrmp;

#define NOPT(L) ((L)->nw * (L)->nx)

static double est_loss(const lrmp *L, int l, int o) {
    return L->sw[l * L->nw + o / L->nx] + L->sx[l * L->nx + o % L->nx];
}

/* Partitions layer l needs at option o to take at most T per image; -1
 * when no number of copies gets there. */
static int64_t need_parts(const lrmp *L, int l, int o, double T) {
    const xb_mapping *m = L->maps[o];
    const xb_layer_map *y = &m->layers[l];
    double unit = y->input_slices * xb_layer_cycle_ns(&m->arch, y), tol = 1 + 1e-9;
    if (xb_layer_bus_ns(&m->arch, y) > T * tol) return -1;
    int64_t q = (int64_t)floor(T * tol / unit);
    if (q < 1) return -1;
    int64_t k = (y->s.P + q - 1) / q, xpp = m->arch.xbars_per_partition;
    return (k * xb_layer_copy_xbars(y) + xpp - 1) / xpp;
}

/* Least estimated loss at interval T within the budget (HUGE_VAL when
 * nothing fits); the option per layer into pick. */
static double knapsack(const lrmp *L, int n, double T, int *pick, xb_status *st, xb_ctx *ctx) {
    size_t W = (size_t)L->cap + 1;
    double *best = malloc(W * sizeof *best), *next = malloc(W * sizeof *next);
    int *choice = malloc((size_t)n * W * sizeof *choice);
    int64_t *parts = malloc((size_t)NOPT(L) * sizeof *parts);
    double res = HUGE_VAL;
    if (!best || !next || !choice || !parts) {
        *st = xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
        goto out;
    }
    for (size_t p = 0; p < W; p++) best[p] = p ? HUGE_VAL : 0;
    for (int l = 0; l < n; l++) {
        for (int o = 0; o < NOPT(L); o++) parts[o] = need_parts(L, l, o, T);
        for (size_t p = 0; p < W; p++) next[p] = HUGE_VAL;
        for (size_t p = 0; p < W; p++) {
            if (best[p] == HUGE_VAL) continue;
            for (int o = 0; o < NOPT(L); o++) {
                if (parts[o] < 0 || p + (size_t)parts[o] >= W) continue;
                size_t q = p + (size_t)parts[o];
                double v = best[p] + est_loss(L, l, o);
                if (v < next[q]) {
                    next[q] = v;
                    choice[(size_t)l * W + q] = o;
                }
            }
        }
        memcpy(best, next, W * sizeof *best);
    }
    size_t at = 0;
    for (size_t p = 0; p < W; p++)
        if (best[p] < res) res = best[p], at = p;
    for (int l = n - 1; l >= 0 && res < HUGE_VAL; l--) {
        int o = choice[(size_t)l * W + at];
        pick[l] = o;
        at -= (size_t)need_parts(L, l, o, T);
    }
out:
    free(best), free(next), free(choice), free(parts);
    return res;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Every time per image some layer can take at some option and copy count
 * (sorted, distinct): the optimum interval is one of them. */
static double *interval_candidates(const lrmp *L, int n, int *count, xb_ctx *ctx) {
    size_t cap = 1024, k = 0;
    double *t = malloc(cap * sizeof *t);
    for (int l = 0; l < n && t; l++)
        for (int o = 0; o < NOPT(L) && t; o++) {
            const xb_mapping *m = L->maps[o];
            const xb_layer_map *y = &m->layers[l];
            for (int64_t r = 1;;) {
                if (k == cap) {
                    double *g = realloc(t, (cap *= 2) * sizeof *t);
                    if (!g) {
                        free(t);
                        t = NULL;
                        break;
                    }
                    t = g;
                }
                t[k++] = xb_replica_time_ns(&m->arch, y, r);
                int64_t q = (y->s.P + r - 1) / r;
                if (q <= 1 || t[k - 1] <= xb_layer_bus_ns(&m->arch, y)) break;
                r = (y->s.P + q - 2) / (q - 1); /* next count with fewer steps */
            }
        }
    if (!t) {
        xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
        return NULL;
    }
    qsort(t, k, sizeof *t, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || t[i] > t[u - 1]) t[u++] = t[i];
    *count = (int)u;
    return t;
}

/* Smallest candidate interval whose least estimated loss is <= budget. */
static xb_status search_interval(const lrmp *L, int n, double budget, int *pick, double *T_out,
                                 double *est, xb_ctx *ctx) {
    int nt = 0;
    double *t = interval_candidates(L, n, &nt, ctx);
    if (!t) return ctx->status;
    xb_status st = XB_OK;
    int lo = 0, hi = nt - 1; /* hi is feasible: every layer at the base, one copy */
    while (lo < hi && st == XB_OK) {
        int mid = lo + (hi - lo) / 2;
        if (knapsack(L, n, t[mid], pick, &st, ctx) <= budget) hi = mid;
        else lo = mid + 1;
    }
    if (st == XB_OK) {
        *T_out = t[hi];
        *est = knapsack(L, n, t[hi], pick, &st, ctx);
    }
    free(t);
    return st;
}

/* Step 1: the validation loss of each layer at each width alone. */
static xb_status sensitivities(xb_opt_ctx *c, lrmp *L, xb_ctx *ctx) {
    int n = c->n, total = n * (L->nw - 1 + L->nx - 1), done = 0;
    double eps = 0.01 * 100.0 / (double)(c->o->val_images > 0 ? c->o->val_images : 1);
    signed char *wb = calloc((size_t)n + 1, 1), *xb = calloc((size_t)n + 1, 1);
    if (!wb || !xb) {
        free(wb), free(xb);
        return xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
    }
    xb_status st = XB_OK;
    for (int l = 0; l < n && st == XB_OK; l++) {
        L->sw[l * L->nw] = L->sx[l * L->nx] = 0;
        for (int k = 1; k < L->nw + L->nx - 1 && st == XB_OK; k++) {
            bool isw = k < L->nw;
            int j = isw ? k : k - L->nw + 1, b = isw ? L->wv[j] : L->xv[j];
            (isw ? wb : xb)[l] = (signed char)b;
            double acc = 0;
            st = xb_opt_accuracy(c, wb, xb, &acc, ctx);
            (isw ? wb : xb)[l] = 0;
            double loss = c->base_acc - acc, base = isw ? L->wv[0] : L->xv[0];
            (isw ? L->sw : L->sx)[l * (isw ? L->nw : L->nx) + j] =
                (loss > 0 ? loss : 0) + eps * (base - b);
            fprintf(stderr, "optimize: sensitivity %d/%d: layer %d (%s) %s %d bits: %.2f%% (%+.2f)\n",
                    ++done, total, l, c->shapes[l].name, isw ? "weights" : "inputs", b, acc,
                    acc - c->base_acc);
        }
    }
    free(wb), free(xb);
    return st;
}

static xb_status build_maps(xb_opt_ctx *c, lrmp *L, xb_ctx *ctx) {
    for (int o = 0; o < NOPT(L); o++) {
        xb_arch a = c->o->arch;
        a.weight_bits = L->wv[o / L->nx];
        a.input_bits = L->xv[o % L->nx];
        a.layer_weight_bits[0] = a.layer_input_bits[0] = '\0';
        a.replication = XB_REP_NONE;
        a.budget_tiles = 0;
        L->maps[o] = xb_compile_shapes(&a, c->shapes, c->n, ctx);
        if (!L->maps[o]) return ctx->status;
    }
    return XB_OK;
}

/* The option values: the arch's width first, then the choices below it. */
static void options(const xb_opt_ctx *c, lrmp *L) {
    const xb_optimize_opts *o = c->o;
    L->wv[0] = o->arch.weight_bits;
    L->xv[0] = o->arch.input_bits;
    L->nw = L->nx = 1;
    for (int i = 0; i < o->n_w; i++)
        if (o->w_choices[i] < L->wv[0] && !o->arch.slices[0]) L->wv[L->nw++] = o->w_choices[i];
    for (int i = 0; i < o->n_x; i++)
        if (o->x_choices[i] < L->xv[0] && o->x_choices[i] >= o->arch.dac_bits)
            L->xv[L->nx++] = o->x_choices[i];
}

/* The next estimate budget: double until a round fails, then bisect. */
static double next_budget(double *lo, double *hi, double b, bool held) {
    if (held) *lo = b;
    else *hi = b;
    return *hi > 0 ? (*lo + *hi) / 2 : 2 * b;
}

/* Steps 2-4: search the estimate budget; the fastest measured success. */
static xb_status choose(xb_opt_ctx *c, lrmp *L, signed char *wb, signed char *xb, xb_ctx *ctx) {
    int n = c->n, *pick = calloc((size_t)n + 1, sizeof *pick);
    signed char *tw = calloc((size_t)n + 1, 1), *tx = calloc((size_t)n + 1, 1);
    xb_status st = XB_OK;
    if (!pick || !tw || !tx) st = xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
    double budget = c->o->max_loss > 0 ? c->o->max_loss : 0.01, lo = 0, hi = 0;
    double best_T = HUGE_VAL, all = 0; /* all: every layer at its lossiest option */
    for (int l = 0; l < n; l++) {
        double m = 0;
        for (int o = 0; o < NOPT(L); o++) m = est_loss(L, l, o) > m ? est_loss(L, l, o) : m;
        all += m;
    }
    memset(wb, 0, (size_t)n), memset(xb, 0, (size_t)n); /* the arch's bits until one holds */
    c->tuned_acc = c->base_acc;
    for (int it = 0; it < 8 && st == XB_OK; it++) {
        double T = 0, est = 0, acc = 0;
        st = search_interval(L, n, budget, pick, &T, &est, ctx);
        if (st != XB_OK) break;
        if (T >= best_T) { /* nothing faster at this budget: look higher */
            fprintf(stderr, "optimize: round %d: estimate budget %.2f: interval %.1f us, no gain\n",
                    it + 1, budget, T / 1000);
            if (hi == 0 && budget >= all) break; /* a larger budget allows nothing more */
            budget = next_budget(&lo, &hi, budget, true);
            continue;
        }
        for (int l = 0; l < n; l++) {
            tw[l] = (signed char)L->wv[pick[l] / L->nx];
            tx[l] = (signed char)L->xv[pick[l] % L->nx];
        }
        st = xb_opt_accuracy(c, tw, tx, &acc, ctx);
        if (st != XB_OK) break;
        double loss = c->base_acc - acc;
        bool held = loss <= c->o->max_loss;
        fprintf(stderr,
                "optimize: round %d: estimate budget %.2f: interval %.1f us, estimated loss %.2f, "
                "measured %.2f%% (loss %.2f): %s\n",
                it + 1, budget, T / 1000, est, acc, loss, held ? "held" : "over --max-loss");
        if (held) {
            best_T = T;
            memcpy(wb, tw, (size_t)n), memcpy(xb, tx, (size_t)n);
            c->tuned_acc = acc;
        }
        budget = next_budget(&lo, &hi, budget, held);
    }
    free(pick), free(tw), free(tx);
    return st;
}

xb_status xb_opt_lrmp(xb_opt_ctx *c, xb_arch *tuned, xb_ctx *ctx) {
    lrmp L = {0};
    options(c, &L);
    int n = c->n;
    L.cap = (int64_t)c->budget_tiles * c->o->arch.partitions_per_tile;
    L.sw = calloc((size_t)n * L.nw + 1, sizeof *L.sw);
    L.sx = calloc((size_t)n * L.nx + 1, sizeof *L.sx);
    L.maps = calloc((size_t)NOPT(&L), sizeof *L.maps);
    signed char *wb = calloc((size_t)n + 1, 1), *xb = calloc((size_t)n + 1, 1);
    xb_status st = XB_OK;
    if (!L.sw || !L.sx || !L.maps || !wb || !xb)
        st = xb_fail(ctx, XB_ERR_NOMEM, "optimize: out of memory");
    if (st == XB_OK) st = build_maps(c, &L, ctx);
    if (st == XB_OK) st = sensitivities(c, &L, ctx);
    if (st == XB_OK) st = choose(c, &L, wb, xb, ctx);
    if (st == XB_OK) st = xb_opt_arch_with_bits(&c->o->arch, n, wb, xb, tuned, ctx);
    for (int o = 0; L.maps && o < NOPT(&L); o++) xb_mapping_free(L.maps[o]);
    free(L.maps), free(L.sw), free(L.sx), free(wb), free(xb);
    return st;
}
