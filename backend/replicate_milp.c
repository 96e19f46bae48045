/* mapping.replication = milp: exact replica counts from a mixed-integer
 * program solved with GLPK (docs/BACKEND.md, "Replication").
 *
 * Per layer l the candidate copy counts are the k at which its time per
 * image t_l(k) = max(ceil(P/k) x input slices x cycle, bus floor) strictly
 * drops (any other k costs more crossbars for the same time), stopping at
 * the first k that reaches the bus floor or that cannot fit next to one
 * copy of every other layer.  Binary z_{l,k} picks one candidate per layer:
 *   min T  s.t.  sum_k z_{l,k} = 1,  T >= sum_k t_l(k) z_{l,k}  (each l),
 *                sum_l sum_k parts_l(k) z_{l,k} <= budget x partitions/tile,
 * parts_l(k) = ceil(k x crossbars of one copy / crossbars per partition):
 * each layer starts on a fresh partition, so this is exactly the tile
 * budget of place() in compile.c.  Secondary objective, latency (one
 * image's time through the pipeline, sum_l t_l): a second solve with the
 * candidates slower than the optimum T* removed minimises
 * sum_l sum_k t_l(k) z_{l,k} under the same budget, so copies the interval
 * no longer needs still cut latency when the budget has room for them. */
#include "backend/replicate_milp.h"

#include <math.h>
#include <stdlib.h>

#ifdef XBAR_HAVE_GLPK
#include <glpk.h>
#include <setjmp.h>
#endif

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

static int64_t layer_parts(const xb_arch *a, const xb_layer_map *l, int64_t k) {
    return cdiv(k * xb_layer_copy_xbars(l), a->xbars_per_partition);
}

double xb_replica_time_ns(const xb_arch *a, const xb_layer_map *l, int64_t k) {
    double t = (double)cdiv(l->s.P, k) * l->input_slices * xb_layer_cycle_ns(a, l);
    double bus = xb_layer_bus_ns(a, l);
    return bus > t ? bus : t;
}

/* Candidate copy counts of one layer (see the top comment); `room` is the
 * partitions left for this layer beyond its first copy. */
static int candidates(const xb_arch *a, const xb_layer_map *l, int64_t room, int64_t *k,
                      double *t, int64_t *parts, int max) {
    int n = 0;
    double bus = xb_layer_bus_ns(a, l);
    int64_t base = layer_parts(a, l, 1);
    for (int64_t r = 1; n < max;) {
        if (layer_parts(a, l, r) - base > room) break;
        k[n] = r;
        t[n] = xb_replica_time_ns(a, l, r);
        parts[n] = layer_parts(a, l, r);
        n++;
        int64_t q = cdiv(l->s.P, r);
        if (q <= 1 || t[n - 1] <= bus) break;
        r = cdiv(l->s.P, q - 1); /* smallest copy count with fewer steps */
    }
    return n;
}

#ifdef XBAR_HAVE_GLPK
static void glpk_hook(void *info) { longjmp(*(jmp_buf *)info, 1); }

typedef struct {
    int n, *first, *count; /* per layer: first candidate index, number */
    int64_t *k, *parts;
    double *t;
    int total;
} cand_set;

/* Build and solve the MILP; writes the chosen candidate per layer.
 * tcap < HUGE_VAL: the second solve (candidates slower than tcap barred,
 * minimise the summed layer times). */
static xb_status solve(const cand_set *c, int64_t cap, double tcap, int *pick, xb_ctx *ctx) {
    bool latency = tcap < HUGE_VAL;
    double tmax = 0;
    for (int j = 0; j < c->total; j++)
        if (c->t[j] > tmax) tmax = c->t[j];
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_cols(lp, 1 + c->total);
    glp_set_col_bnds(lp, 1, GLP_LO, 0, 0);
    glp_set_obj_coef(lp, 1, latency ? 0 : 1);
    for (int j = 0; j < c->total; j++) {
        glp_set_col_kind(lp, 2 + j, GLP_BV);
        if (!latency) continue;
        glp_set_obj_coef(lp, 2 + j, c->t[j] / tmax);
        if (c->t[j] > tcap) glp_set_col_bnds(lp, 2 + j, GLP_FX, 0, 0);
    }
    glp_add_rows(lp, 2 * c->n + 1);
    int nnz = 3 * c->total + c->n + 1;
    int *ia = calloc((size_t)nnz + 1, sizeof *ia), *ja = calloc((size_t)nnz + 1, sizeof *ja);
    double *ar = calloc((size_t)nnz + 1, sizeof *ar);
    if (!ia || !ja || !ar) {
        free(ia), free(ja), free(ar);
        glp_delete_prob(lp);
        return xb_fail(ctx, XB_ERR_NOMEM, "replication milp: out of memory");
    }
    int e = 0;
    for (int l = 0; l < c->n; l++) {
        glp_set_row_bnds(lp, 1 + l, GLP_FX, 1, 1);         /* one choice */
        glp_set_row_bnds(lp, 1 + c->n + l, GLP_LO, 0, 0); /* T >= t_l */
        ++e, ia[e] = 1 + c->n + l, ja[e] = 1, ar[e] = 1;
        for (int j = c->first[l]; j < c->first[l] + c->count[l]; j++) {
            ++e, ia[e] = 1 + l, ja[e] = 2 + j, ar[e] = 1;
            ++e, ia[e] = 1 + c->n + l, ja[e] = 2 + j, ar[e] = -c->t[j] / tmax;
            ++e, ia[e] = 1 + 2 * c->n, ja[e] = 2 + j, ar[e] = (double)c->parts[j];
        }
    }
    glp_set_row_bnds(lp, 1 + 2 * c->n, GLP_UP, 0, (double)cap);
    glp_load_matrix(lp, e, ia, ja, ar);
    free(ia), free(ja), free(ar);
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    int rc = glp_intopt(lp, &parm), st = rc == 0 ? glp_mip_status(lp) : 0;
    xb_status s = XB_OK;
    if (rc != 0 || st != GLP_OPT) {
        s = xb_fail(ctx, XB_ERR_INVALID,
                    "replication milp: GLPK found no optimum (glp_intopt %d, status %d)", rc, st);
    } else {
        for (int l = 0; l < c->n; l++) {
            pick[l] = c->first[l];
            for (int j = c->first[l]; j < c->first[l] + c->count[l]; j++)
                if (glp_mip_col_val(lp, 2 + j) > 0.5) pick[l] = j;
        }
    }
    glp_delete_prob(lp);
    return s;
}

/* Run solve() with GLPK's fatal errors turned into a status. */
static xb_status solve_guarded(const cand_set *c, int64_t cap, double tcap, int *pick,
                               xb_ctx *ctx) {
    jmp_buf env;
    glp_term_out(GLP_OFF);
    if (setjmp(env)) {
        glp_error_hook(NULL, NULL);
        glp_free_env();
        return xb_fail(ctx, XB_ERR_RUNTIME, "replication milp: GLPK reported an internal error");
    }
    glp_error_hook(glpk_hook, &env);
    xb_status s = solve(c, cap, tcap, pick, ctx);
    glp_error_hook(NULL, NULL);
    return s;
}

xb_status xb_replicate_milp(const xb_arch *a, xb_mapping *m, int64_t budget_tiles, xb_ctx *ctx) {
    if (m->n == 0 || m->tiles > budget_tiles) return XB_OK;
    int64_t cap = budget_tiles * a->partitions_per_tile, used = 0;
    for (int i = 0; i < m->n; i++) used += layer_parts(a, &m->layers[i], 1);
    enum { MAXC = 4096 };
    cand_set c = {.n = m->n};
    size_t nl = m->n > 0 ? (size_t)m->n : 1, cap_c = nl * MAXC;
    c.first = calloc(nl, sizeof *c.first);
    c.count = calloc(nl, sizeof *c.count);
    int *pick = calloc(nl, sizeof *pick);
    c.k = malloc(cap_c * sizeof *c.k);
    c.parts = malloc(cap_c * sizeof *c.parts);
    c.t = malloc(cap_c * sizeof *c.t);
    xb_status s = XB_OK;
    if (!c.first || !c.count || !pick || !c.k || !c.parts || !c.t) {
        s = xb_fail(ctx, XB_ERR_NOMEM, "replication milp: out of memory");
        goto out;
    }
    for (int l = 0; l < m->n; l++) {
        c.first[l] = c.total;
        c.count[l] = candidates(a, &m->layers[l], cap - used, c.k + c.total, c.t + c.total,
                                c.parts + c.total, MAXC);
        c.total += c.count[l];
    }
    s = solve_guarded(&c, cap, HUGE_VAL, pick, ctx);
    if (s != XB_OK) goto out;
    /* T* exactly, then the least latency at that interval. */
    double T = 0;
    for (int l = 0; l < m->n; l++)
        if (c.t[pick[l]] > T) T = c.t[pick[l]];
    s = solve_guarded(&c, cap, T * (1 + 1e-12), pick, ctx);
    if (s != XB_OK) goto out;
    for (int l = 0; l < m->n; l++) m->layers[l].replicas = c.k[pick[l]];
out:
    free(c.first), free(c.count), free(pick), free(c.k), free(c.parts), free(c.t);
    return s;
}
#else
xb_status xb_replicate_milp(const xb_arch *a, xb_mapping *m, int64_t budget_tiles, xb_ctx *ctx) {
    (void)a, (void)m, (void)budget_tiles;
    (void)candidates;
    return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                   "mapping.replication=milp needs GLPK: this xbar was built without it "
                   "(install libglpk-dev and rebuild)");
}
#endif

xb_status xb_replication_check_budget(const xb_arch *a, const xb_mapping *m, xb_ctx *ctx) {
    if (a->replication == XB_REP_NONE || a->budget_tiles <= 0 || m->tiles <= a->budget_tiles)
        return XB_OK;
    return xb_fail(ctx, XB_ERR_INVALID,
                   "mapping.budget_tiles = %d is below the minimum mapping: one copy of every "
                   "layer needs %lld tiles (%lld crossbars); raise the budget, lower the "
                   "precision (weight_bits, layer_weight_bits) or use mapping.replication=none",
                   a->budget_tiles, (long long)m->tiles, (long long)m->xbars);
}

bool xb_have_milp(void) {
#ifdef XBAR_HAVE_GLPK
    return true;
#else
    return false;
#endif
}
