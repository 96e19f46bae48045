#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "backend/rowmap.h"
#include "backend/crossbar/crossbar.h"

static uint64_t st;
static uint32_t rnd(void) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(st >> 33);
}

static void gemm(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P, int64_t *acc) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            int64_t s = 0;
            for (int64_t k = 0; k < K; k++) s += (int64_t)w[n * K + k] * x[k * P + p];
            acc[n * P + p] = s;
        }
}

/* Binary weights drawn from a few row patterns: renaming stores one row per
 * pattern chunk, the summed inputs give the same product as the original
 * matrix, reorder only permutes, and the stored layer run through the full
 * crossbar simulation with a lossless ADC is bit-exact. */
Test(rowmap, rename_and_reorder_are_exact) {
    st = 5;
    for (int it = 0; it < 30; it++) {
        int64_t K = 1 + rnd() % 200, N = 1 + rnd() % 10, P = 1 + rnd() % 20, pats = 1 + rnd() % 12;
        int xb = 2 + (int)(rnd() % 3);
        int8_t *pat = malloc((size_t)(pats * N)), *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int64_t *want = malloc((size_t)(N * P) * 8), *got = malloc((size_t)(N * P) * 8),
                *act = malloc((size_t)K * 8);
        for (int64_t i = 0; i < pats * N; i++) pat[i] = (rnd() & 1) ? 1 : -1;
        for (int64_t k = 0; k < K; k++) {
            int64_t q = rnd() % pats;
            for (int64_t n = 0; n < N; n++) w[n * K + k] = pat[q * N + n];
        }
        for (int64_t i = 0; i < K * P; i++) x[i] = (rnd() & 3) ? (uint8_t)(rnd() % (1u << xb)) : 0;
        for (int64_t k = 0; k < K; k++) act[k] = rnd() % 7;
        gemm(w, x, K, N, P, want);
        for (int mode = 0; mode < 3; mode++) {
            bool rename = mode != 1, reorder = mode != 0;
            xb_ctx ctx = {0};
            xb_rowmap *m = xb_rowmap_new(w, 1, N, K, xb, rename, reorder, act, &ctx);
            cr_assert_not_null(m, "%s", ctx.msg);
            int64_t cap = 255 / ((1 << xb) - 1);
            if (rename) cr_assert_leq(m->Ks, pats * ((K + cap - 1) / cap));
            else cr_assert_eq(m->Ks, K);
            cr_assert_leq(m->max_merge * ((1 << xb) - 1), 255);
            uint8_t *xr = malloc((size_t)(m->Ks * P));
            xb_rowmap_apply(m, x, P, xr);
            gemm(m->w, xr, m->Ks, N, P, got);
            cr_assert_arr_eq(got, want, (size_t)(N * P) * 8, "it=%d mode=%d", it, mode);
            if (reorder) /* most active stored rows first */
                for (int64_t u = 1; u < m->Ks && !rename; u++) {
                    int64_t a = -1, b = -1;
                    for (int64_t k = 0; k < K; k++) {
                        if (m->dest[k] == u - 1) a = act[k];
                        if (m->dest[k] == u) b = act[k];
                    }
                    cr_assert_geq(a, b);
                }
            /* through the crossbar simulation (full path, lossless) */
            xb_crossbar_config c;
            memset(&c, 0, sizeof c);
            c.K = m->Ks, c.N = N, c.groups = 1, c.rows = 32, c.dac_bits = 1;
            c.input_slices = m->in_bits, c.cell_bits = 1, c.w_slices = 1, c.weight_bits = 1;
            c.lossless = true, c.lsb = 1, c.code_lo = -(1 << 30), c.code_hi = 1 << 30;
            xb_crossbar_layer *l = xb_crossbar_layer_new(&c, m->w, &ctx);
            cr_assert_not_null(l, "%s", ctx.msg);
            int32_t *acc = malloc((size_t)(N * P) * 4);
            void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
            xb_crossbar_matmul(l, 0, xr, P, 0, true, acc, scratch, NULL);
            for (int64_t i = 0; i < N * P; i++) cr_assert_eq(acc[i], want[i]);
            free(scratch);
            free(acc);
            xb_crossbar_layer_free(l);
            free(xr);
            xb_rowmap_free(m);
        }
        free(pat), free(w), free(x), free(want), free(got), free(act);
    }
}

/* 8-bit inputs cannot be summed within 8 bits: nothing merges. */
Test(rowmap, eight_bit_inputs_do_not_merge) {
    int8_t w[8] = {1, 1, 1, 1, -1, -1, -1, -1}; /* N = 2, K = 4: all rows equal */
    xb_ctx ctx = {0};
    int64_t rows = 0;
    int bits = 0;
    cr_assert_eq(xb_rowmap_count(w, 1, 2, 4, 8, &rows, &bits, &ctx), XB_OK);
    cr_assert_eq(rows, 4);
    cr_assert_eq(bits, 8);
    cr_assert_eq(xb_rowmap_count(w, 1, 2, 4, 2, &rows, &bits, &ctx), XB_OK);
    cr_assert_eq(rows, 1);
    cr_assert_eq(bits, 4); /* 4 rows x 3 = 12 needs 4 bits */
}

/* The compiler maps the stored rows when the arch renames (and only then),
 * widens the layer's input cycles to the summed codes and reports what was
 * saved. */
Test(rowmap, compiler_maps_stored_rows) {
    xb_arch a;
    xb_arch_defaults(&a);
    a.weight_bits = 1;
    a.input_bits = 2;
    xb_layer_shape s = {.name = "fc", .K = 300, .N = 10, .groups = 1, .P = 1, .in_elems = 300,
                        .out_elems = 10, .x_bits = 2, .w_bits = 1, .rename_rows = 100,
                        .rename_in_bits = 4};
    xb_ctx ctx = {0};
    for (int on = 0; on < 2; on++) {
        a.row_rename = on;
        xb_mapping *m = xb_compile_shapes(&a, &s, 1, &ctx);
        cr_assert_not_null(m, "%s", ctx.msg);
        const xb_layer_map *l = &m->layers[0];
        cr_assert_eq(l->rows_stored, on ? 100 : 300);
        cr_assert_eq(l->row_blocks, on ? 1 : 3);
        cr_assert_eq(l->input_slices, on ? 4 : 2);
        cr_assert_eq(l->xbars_unrenamed, 3);
        cr_assert_eq(l->macs, 3000); /* logical MACs either way */
        xb_mapping_free(m);
    }
}
