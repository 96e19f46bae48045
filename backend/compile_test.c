#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/compile.h"

static xb_layer_shape shape(const char *name, int64_t K, int64_t N, int64_t groups, int64_t P) {
    xb_layer_shape s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.K = K;
    s.N = N;
    s.groups = groups;
    s.P = P;
    s.in_elems = K * P;
    s.out_elems = N * P;
    s.x_bits = s.w_bits = 8;
    return s;
}

Test(compile, hand_computed_isaac_mapping) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.pack_groups = XB_PACK_FALSE; /* packing: compile/pack_groups_block_diagonal */
    xb_layer_shape sh[2] = {shape("a", 300, 40, 1, 10), shape("b", 27, 16, 2, 5)};
    xb_mapping *m = xb_compile_shapes(&a, sh, 2, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    const xb_layer_map *l = &m->layers[0];
    /* 300 rows -> 3 row blocks; 40 weights x 4 slices = 160 columns -> 2. */
    cr_assert_eq(l->row_blocks, 3);
    cr_assert_eq(l->col_blocks, 2);
    cr_assert_eq(l->xbars, 6);
    cr_assert_float_eq(l->utilisation, 300.0 * 160 / (6 * 16384.0), 1e-12);
    cr_assert_eq(l->macs, 300 * 40 * 10);
    cr_assert_eq(l->conversions, 3 * 40 * 4 * 8 * 10); /* per row block */
    cr_assert_eq(l->dac_acts, 300 * 2 * 8 * 10);
    cr_assert_eq(l->xbar_reads, 6 * 8 * 10);
    cr_assert_eq(l->partitions, 1);
    /* Second layer: 2 groups, 1 crossbar each, starts a new partition. */
    const xb_layer_map *l2 = &m->layers[1];
    cr_assert_eq(l2->xbars, 2);
    cr_assert_eq(l2->first_partition, 1);
    cr_assert_eq(l2->first_xbar, 6);
    cr_assert_eq(m->partitions, 2);
    cr_assert_eq(m->tiles, 1);
    cr_assert(m->fits);
    int64_t ru, cu;
    xb_layer_xbar_usage(&a, l, 5, &ru, &cu); /* row block 2, column block 1 */
    cr_assert_eq(ru, 300 - 256);
    cr_assert_eq(cu, 160 - 128);
    xb_mapping_free(m);
}

Test(compile, differential_doubles_columns) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.encoding = XB_ENC_DIFFERENTIAL;
    xb_layer_shape sh = shape("d", 128, 32, 1, 1);
    xb_mapping *m = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    /* 7 magnitude bits -> 4 slices, x2 columns: 256 columns, 2 crossbars. */
    cr_assert_eq(m->layers[0].col_blocks, 2);
    cr_assert_eq(m->layers[0].conversions, 32 * 4 * 2 * 8);
    a.adc_signed = true; /* one conversion per pair */
    xb_mapping_free(m);
    m = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_eq(m->layers[0].conversions, 32 * 4 * 8);
    xb_mapping_free(m);
}

/* ISAAC's sanity figures: 128 rows, 2-bit cells, 1-bit DACs give 0.25
 * conversions per MAC at 8b/8b and 1.0 at 16b/16b. */
Test(compile, isaac_conversions_per_mac) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape sh = shape("fc", 128 * 3, 64, 1, 7);
    xb_mapping *m = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    cr_assert_float_eq((double)m->layers[0].conversions / m->layers[0].macs, 0.25, 1e-12);
    xb_mapping_free(m);
    a.weight_bits = 16;
    a.input_bits = 16;
    m = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    cr_assert_float_eq((double)m->layers[0].conversions / m->layers[0].macs, 1.0, 1e-12);
    xb_mapping_free(m);
}

Test(compile, capacity_and_heatmap) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.tiles = 1;
    a.partitions_per_tile = 2;
    xb_layer_shape sh[2] = {shape("big", 1000, 100, 1, 1), shape("small", 10, 3, 1, 1)};
    xb_mapping *m = xb_compile_shapes(&a, sh, 2, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    /* 8 row blocks x 4 column blocks = 32 crossbars = 4 partitions, +1. */
    cr_assert_eq(m->layers[0].xbars, 32);
    cr_assert_eq(m->partitions, 5);
    cr_assert_eq(m->tiles, 3);
    cr_assert(!m->fits);
    char path[] = "/tmp/xbar_heatmap_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(xb_mapping_heatmap(m, path, &ctx), XB_OK, "%s", ctx.msg);
    FILE *f = fopen(path, "rb");
    unsigned char sig[8];
    cr_assert_eq(fread(sig, 1, 8, f), 8);
    fclose(f);
    cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0);
    remove(path);
    xb_mapping_free(m);
}

Test(compile, rejects_empty_layer) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape sh = shape("e", 0, 3, 1, 1);
    cr_assert_null(xb_compile_shapes(&a, &sh, 1, &ctx));
    cr_assert(strstr(ctx.msg, "'e'"), "%s", ctx.msg);
}

/* Slowest layer time of a replica assignment, and whether it fits. */
static double slowest(const xb_arch *a, xb_mapping *m, const int64_t *rep, int64_t *tiles) {
    int64_t part = 0;
    double worst = 0;
    for (int i = 0; i < m->n; i++) {
        xb_layer_map *l = &m->layers[i];
        int64_t saved = l->replicas;
        l->replicas = rep[i];
        double t = xb_layer_latency_ns(a, l);
        l->replicas = saved;
        if (t > worst) worst = t;
        int64_t x = rep[i] * xb_layer_copy_xbars(l);
        part += (x + a->xbars_per_partition - 1) / a->xbars_per_partition;
    }
    *tiles = (part + a->partitions_per_tile - 1) / a->partitions_per_tile;
    return worst;
}

/* Replication (LRMP-style balance): within the tile budget, and no replica
 * assignment under the same budget has a faster slowest layer (checked by
 * enumerating every assignment of a small 3-layer network). */
Test(compile, replication_balance_is_optimal_under_budget) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    a.xbars_per_partition = 2;
    a.partitions_per_tile = 2;
    a.tiles = 64;
    xb_layer_shape sh[3] = {shape("big_p", 27, 16, 1, 900), shape("mid", 300, 40, 1, 200),
                            shape("fc", 400, 120, 1, 1)};
    for (int budget = 1; budget <= 12; budget++) {
        a.replication = XB_REP_NONE;
        a.budget_tiles = budget;
        xb_mapping *m0 = xb_compile_shapes(&a, sh, 3, &ctx);
        cr_assert_not_null(m0, "%s", ctx.msg);
        for (int i = 0; i < 3; i++) cr_assert_eq(m0->layers[i].replicas, 1);
        a.replication = XB_REP_BALANCE;
        xb_mapping *m = xb_compile_shapes(&a, sh, 3, &ctx);
        if (m0->tiles > budget) {
            /* Does not fit even once: an error (replicate_milp.h). */
            cr_assert_null(m);
            cr_assert(strstr(ctx.msg, "below the minimum mapping"), "%s", ctx.msg);
            xb_mapping_free(m0);
            continue;
        }
        cr_assert_not_null(m, "%s", ctx.msg);
        int64_t rep[3], tiles;
        for (int i = 0; i < 3; i++) rep[i] = m->layers[i].replicas;
        double got = slowest(&a, m, rep, &tiles);
        cr_assert_eq(tiles, m->tiles);
        cr_assert_leq(m->tiles, budget);
        cr_assert_eq(rep[2], 1, "a layer with one position gains nothing from copies");
        double best = 1e300;
        for (int64_t r0 = 1; r0 <= 60; r0++)
            for (int64_t r1 = 1; r1 <= 30; r1++) {
                int64_t r[3] = {r0, r1, 1}, t;
                double s = slowest(&a, m, r, &t);
                if (t <= budget && s < best) best = s;
            }
        cr_assert_float_eq(got, best, 1e-9, "budget %d: greedy %g, best %g", budget, got, best);
        xb_mapping_free(m0);
        xb_mapping_free(m);
    }
}

/* mapping.row_split: the same crossbars and event counts, blocks of equal
 * rows (150 -> 75 + 75) instead of filled ones (128 + 22); the largest
 * possible column sum follows the largest block. */
Test(compile, even_row_split) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape s = shape("c", 150, 16, 1, 4);
    xb_mapping *f = xb_compile_shapes(&a, &s, 1, &ctx);
    cr_assert_eq(xb_arch_set(&a, "mapping.row_split=even", &ctx), XB_OK, "%s", ctx.msg);
    xb_mapping *e = xb_compile_shapes(&a, &s, 1, &ctx);
    cr_assert_eq(e->layers[0].row_blocks, 2);
    cr_assert_eq(e->layers[0].xbars, f->layers[0].xbars);
    cr_assert_eq(e->layers[0].conversions, f->layers[0].conversions);
    cr_assert_eq(e->layers[0].dac_acts, f->layers[0].dac_acts);
    int64_t ru, cu;
    xb_layer_xbar_usage(&a, &e->layers[0], 1, &ru, &cu);
    cr_assert_eq(ru, 75);
    xb_layer_xbar_usage(&f->arch, &f->layers[0], 1, &ru, &cu);
    cr_assert_eq(ru, 22);
    cr_assert_eq(e->layers[0].max_column_sum, 75 * 3);
    cr_assert_eq(f->layers[0].max_column_sum, 128 * 3);
    xb_mapping_free(f);
    xb_mapping_free(e);
}

/* Depthwise 3x3 (K = 9, N = 1) with 100 groups on ISAAC (128 rows, 8-bit
 * weights in 4 slices): 128 / 9 = 14 groups per crossbar by rows, 128 / 4
 * = 32 by columns, so 14; ceil(100 / 14) = 8 crossbars instead of 100.
 * Conversions, row activations and driven cells do not change (every
 * group's columns are still converted), crossbar reads drop 14-fold and a
 * read converts 14 x 4 columns. */
Test(compile, pack_groups_block_diagonal) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape sh = shape("dw", 9, 1, 100, 64);
    a.pack_groups = XB_PACK_FALSE;
    xb_mapping *m0 = xb_compile_shapes(&a, &sh, 1, &ctx);
    a.pack_groups = XB_PACK_AUTO;
    xb_mapping *m1 = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert(m0 && m1, "%s", ctx.msg);
    const xb_layer_map *l0 = &m0->layers[0], *l1 = &m1->layers[0];
    cr_assert_eq(l0->groups_per_xbar, 1);
    cr_assert_eq(l0->xbars, 100);
    cr_assert_eq(l1->groups_per_xbar, 14);
    cr_assert_eq(l1->xbars, 8);
    cr_assert_eq(l1->conversions, l0->conversions);
    cr_assert_eq(l1->dac_acts, l0->dac_acts);
    cr_assert_eq(l1->col_samples, l0->col_samples);
    cr_assert_float_eq(l1->cells_driven, l0->cells_driven, 0);
    cr_assert_float_eq(l1->cells_idle, l0->cells_idle, 0);
    cr_assert_eq(l0->xbar_reads, 100 * 8 * 64);
    cr_assert_eq(l1->xbar_reads, 8 * 8 * 64);
    cr_assert_float_eq(l1->utilisation, 9.0 * 4 * 100 / (8 * 16384.0), 1e-12);
    /* the last crossbar holds 100 - 7 x 14 = 2 groups */
    int64_t ru, cu;
    xb_layer_xbar_usage(&a, l1, 7, &ru, &cu);
    cr_assert(ru == 18 && cu == 8, "%lld x %lld", (long long)ru, (long long)cu);
    xb_layer_xbar_usage(&a, l1, 0, &ru, &cu);
    cr_assert(ru == 14 * 9 && cu == 14 * 4);
    /* cost: energy the same but for the crossbar-count terms; a read now
     * converts 56 columns, still within ISAAC's 100 ns read */
    cr_assert_float_eq(xb_layer_cycle_ns(&a, l1), xb_layer_cycle_ns(&a, l0), 0);
    xb_mapping_free(m0);
    xb_mapping_free(m1);
    /* with 1 ADC at 0.1 GS/s the conversions set the cycle: 14x longer */
    a.adc_gsps = 0.1;
    m0 = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_float_eq(xb_layer_cycle_ns(&a, &m0->layers[0]), 56 / 0.1, 1e-9);
    xb_mapping_free(m0);
    /* a device model that couples the groups: auto does not pack, and K
     * larger than the rows or too many columns never packs */
    a.adc_gsps = 1.28;
    a.on_off_ratio = 100;
    m0 = xb_compile_shapes(&a, &sh, 1, &ctx);
    cr_assert_eq(m0->layers[0].groups_per_xbar, 1);
    xb_mapping_free(m0);
    a.on_off_ratio = 0;
    xb_layer_shape big[2] = {shape("k", 200, 1, 4, 1), shape("n", 9, 40, 4, 1)};
    m0 = xb_compile_shapes(&a, big, 2, &ctx);
    cr_assert_eq(m0->layers[0].groups_per_xbar, 1);
    cr_assert_eq(m0->layers[1].groups_per_xbar, 1); /* 40 x 4 = 160 columns > 128 */
    xb_mapping_free(m0);
}
