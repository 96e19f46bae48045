/* mapping.replication = milp: against brute-force enumeration of every
 * replica assignment on small random networks (the interval, then the
 * latency at that interval), and never slower than the greedy `balance`
 * in either. */
#include <criterion/criterion.h>
#include <string.h>

#include "backend/replicate_milp.h"
#include <stdio.h>

static xb_layer_shape rshape(int i, uint64_t *st) {
    xb_layer_shape s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "l%d", i);
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t r = *st >> 17;
    s.K = 1 + (int64_t)(r % 400);
    s.N = 1 + (int64_t)((r >> 9) % 100);
    s.groups = 1;
    s.P = 1 + (int64_t)((r >> 17) % 40);
    s.in_elems = s.K * s.P;
    s.out_elems = s.N * s.P;
    s.x_bits = s.w_bits = 8;
    return s;
}

/* Smallest slowest-layer time over every assignment within the budget. */
static double brute(const xb_arch *a, const xb_mapping *m, int64_t budget, int i, int64_t parts,
                    double worst) {
    if (i == m->n) return parts <= budget * a->partitions_per_tile ? worst : 1e300;
    const xb_layer_map *l = &m->layers[i];
    double best = 1e300;
    for (int64_t k = 1; k <= l->s.P; k++) {
        int64_t p = (k * xb_layer_copy_xbars(l) + a->xbars_per_partition - 1) /
                    a->xbars_per_partition;
        if (parts + p > budget * a->partitions_per_tile) break;
        double t = xb_replica_time_ns(a, l, k), w = t > worst ? t : worst;
        double b = brute(a, m, budget, i + 1, parts + p, w);
        if (b < best) best = b;
    }
    return best;
}

/* Least summed layer time (latency) over the assignments within the
 * budget whose every layer takes at most T. */
static double brute_latency(const xb_arch *a, const xb_mapping *m, int64_t budget, int i,
                            int64_t parts, double T) {
    if (i == m->n) return 0;
    const xb_layer_map *l = &m->layers[i];
    double best = 1e300;
    for (int64_t k = 1; k <= l->s.P; k++) {
        int64_t p = (k * xb_layer_copy_xbars(l) + a->xbars_per_partition - 1) /
                    a->xbars_per_partition;
        if (parts + p > budget * a->partitions_per_tile) break;
        double t = xb_replica_time_ns(a, l, k);
        if (t > T * (1 + 1e-12)) continue;
        double b = t + brute_latency(a, m, budget, i + 1, parts + p, T);
        if (b < best) best = b;
    }
    return best;
}

static double latency(const xb_arch *a, const xb_mapping *m) {
    double s = 0;
    for (int i = 0; i < m->n; i++) s += xb_layer_latency_ns(a, &m->layers[i]);
    return s;
}

static double slowest(const xb_arch *a, const xb_mapping *m) {
    double w = 0;
    for (int i = 0; i < m->n; i++) {
        double t = xb_layer_latency_ns(a, &m->layers[i]);
        if (t > w) w = t;
    }
    return w;
}

Test(replicate_milp, matches_enumeration_and_beats_greedy) {
    if (!xb_have_milp()) cr_skip_test("built without GLPK");
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.xbars_per_partition = 2;
    a.partitions_per_tile = 2;
    a.tiles = 64;
    uint64_t st = 12345;
    int improved = 0, bus_bound = 0;
    for (int trial = 0; trial < 40; trial++) {
        int n = 2 + trial % 2;
        xb_layer_shape sh[3];
        for (int i = 0; i < n; i++) sh[i] = rshape(i, &st);
        if (trial % 4 == 3) a.bus_bytes_per_ns = 0.5; /* bus floor active */
        else a.bus_bytes_per_ns = 0;
        for (int budget = 1; budget <= 8; budget++) {
            a.budget_tiles = budget;
            a.replication = XB_REP_NONE;
            xb_mapping *m0 = xb_compile_shapes(&a, sh, n, &ctx);
            cr_assert_not_null(m0, "%s", ctx.msg);
            int64_t min_tiles = m0->tiles;
            xb_mapping_free(m0);
            a.replication = XB_REP_BALANCE;
            xb_mapping *g = xb_compile_shapes(&a, sh, n, &ctx);
            a.replication = XB_REP_MILP;
            xb_mapping *m = xb_compile_shapes(&a, sh, n, &ctx);
            if (min_tiles > budget) {
                /* below the minimum mapping: an error, never a larger mapping */
                cr_assert_null(g);
                cr_assert_null(m);
                cr_assert(strstr(ctx.msg, "below the minimum mapping"), "%s", ctx.msg);
                continue;
            }
            cr_assert_not_null(g, "%s", ctx.msg);
            cr_assert_not_null(m, "%s", ctx.msg);
            double tm = slowest(&a, m), tg = slowest(&a, g);
            {
                cr_assert_leq(m->tiles, budget);
                for (int i = 0; i < n; i++) improved += m->layers[i].replicas > 1;
                for (int i = 0; i < n; i++)
                    bus_bound += m->layers[i].replicas > 1 &&
                                 xb_layer_bus_ns(&a, &m->layers[i]) >= tm;
                double best = brute(&a, m, budget, 0, 0, 0);
                cr_assert_float_eq(tm, best, 1e-9 * best, "trial %d budget %d: milp %g, best %g",
                                   trial, budget, tm, best);
                cr_assert_leq(tm, tg * (1 + 1e-12), "milp %g slower than balance %g", tm, tg);
                /* Secondary objective: the least latency at that interval,
                 * never more than the greedy's. */
                double lm = latency(&a, m), lb = brute_latency(&a, m, budget, 0, 0, tm);
                cr_assert_float_eq(lm, lb, 1e-9 * lb, "trial %d budget %d: latency %g, best %g",
                                   trial, budget, lm, lb);
                cr_assert_leq(lm, latency(&a, g) * (1 + 1e-12));
            }
            xb_mapping_free(g);
            xb_mapping_free(m);
        }
    }
    cr_assert_gt(improved, 50, "too few cases where copies help: %d", improved);
    cr_assert_gt(bus_bound, 0, "no case exercised the bus floor");
}

/* Without GLPK the switch fails with a message, never exits. */
Test(replicate_milp, fails_cleanly_without_glpk) {
    if (xb_have_milp()) cr_skip_test("built with GLPK");
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.replication = XB_REP_MILP;
    xb_layer_shape s = rshape(0, &(uint64_t){1});
    cr_assert_null(xb_compile_shapes(&a, &s, 1, &ctx));
    cr_assert(strstr(ctx.msg, "GLPK"), "%s", ctx.msg);
}
