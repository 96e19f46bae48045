#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}
static int64_t irand(int64_t n) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((rs >> 33) % (uint64_t)n);
}

/* Build a MatMul of the given shapes, check the output shape, run it. */
static const float *mm(xb_test_graph *tg, int ar, const int64_t *ad, int br, const int64_t *bd,
                       const float *a, const float *b, int yr, const int64_t *yd) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", XB_F32, ar, ad), xb_test_input(tg, "b", XB_F32, br, bd)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(tg, y);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
    const xb_shape *ys = &tg->g->tensors[y].shape;
    cr_assert_eq(ys->rank, yr);
    for (int i = 0; i < yr; i++)
        cr_assert_eq(ys->d[i], yd[i], "dim %d: %ld vs %ld", i, (long)ys->d[i], (long)yd[i]);
    const void *ins[2] = {a, b};
    const float *o = xb_test_run(tg, ins, 0);
    cr_assert_not_null(o, "%s", tg->ctx.msg);
    return o;
}

Test(matmul, hand_computed_vector_promotions) {
    xb_test_graph tg;
    float a[3] = {1, 2, 3}, b[3] = {4, -5, 6};
    const float *o = mm(&tg, 1, (int64_t[]){3}, 1, (int64_t[]){3}, a, b, 0, NULL);
    cr_assert_float_eq(o[0], 12.0f, 1e-6); /* 4 - 10 + 18 */
    xb_test_end(&tg);
    float m[6] = {1, 2, 3, 4, 5, 6};
    o = mm(&tg, 2, (int64_t[]){2, 3}, 1, (int64_t[]){3}, m, b, 1, (int64_t[]){2});
    cr_assert_float_eq(o[0], 12.0f, 1e-6);
    cr_assert_float_eq(o[1], 16.0f - 25.0f + 36.0f, 1e-6);
    xb_test_end(&tg);
    float v[2] = {1, -1};
    o = mm(&tg, 1, (int64_t[]){2}, 2, (int64_t[]){2, 3}, v, m, 1, (int64_t[]){3});
    for (int j = 0; j < 3; j++) cr_assert_float_eq(o[j], -3.0f, 1e-6);
    xb_test_end(&tg);
}

Test(matmul, randomized_broadcast_batches) {
    rs = 5;
    for (int it = 0; it < 150; it++) {
        int64_t M = 1 + irand(20), K = 1 + irand(40), N = 1 + irand(40);
        if (irand(4) == 0) N = 1;
        int ar = 1 + (int)irand(4), br = 1 + (int)irand(4);
        int64_t ad[4], bd[4];
        /* Batch dims: each side 1 or the common size, right-aligned. */
        int64_t common[2] = {1 + irand(3), 1 + irand(3)};
        int abr = ar > 2 ? ar - 2 : 0, bbr = br > 2 ? br - 2 : 0;
        int yr = abr > bbr ? abr : bbr;
        int64_t yd[6];
        for (int i = 0; i < yr; i++) yd[i] = 1;
        for (int i = 0; i < abr; i++) {
            int pos = yr - abr + i;
            ad[i] = irand(3) == 0 ? 1 : common[pos];
            if (ad[i] > yd[pos]) yd[pos] = ad[i];
        }
        for (int i = 0; i < bbr; i++) {
            int pos = yr - bbr + i;
            bd[i] = irand(3) == 0 ? 1 : common[pos];
            if (bd[i] > yd[pos]) yd[pos] = bd[i];
        }
        if (ar >= 2) ad[ar - 2] = M;
        ad[ar - 1] = K;
        if (br >= 2) bd[br - 2] = K, bd[br - 1] = N;
        else bd[0] = K;
        int yrank = yr;
        if (ar >= 2) yd[yrank++] = M;
        if (br >= 2) yd[yrank++] = N;
        int64_t an = 1, bn = 1;
        for (int i = 0; i < ar; i++) an *= ad[i];
        for (int i = 0; i < br; i++) bn *= bd[i];
        float *a = malloc(sizeof(float) * (size_t)an), *b = malloc(sizeof(float) * (size_t)bn);
        for (int64_t i = 0; i < an; i++) a[i] = frand();
        for (int64_t i = 0; i < bn; i++) b[i] = frand();
        xb_test_graph tg;
        const float *o = mm(&tg, ar, ad, br, bd, a, b, yrank, yd);
        int64_t Me = ar >= 2 ? M : 1, Ne = br >= 2 ? N : 1;
        int64_t nb = 1;
        for (int i = 0; i < yr; i++) nb *= yd[i];
        for (int64_t t = 0; t < nb; t++) {
            /* Decompose t into batch coordinates and map to each input. */
            int64_t co[2] = {0, 0}, rem = t;
            for (int i = yr - 1; i >= 0; i--) co[i] = rem % yd[i], rem /= yd[i];
            int64_t ao = 0, bo = 0;
            for (int i = 0; i < abr; i++) ao = ao * ad[i] + (ad[i] == 1 ? 0 : co[yr - abr + i]);
            for (int i = 0; i < bbr; i++) bo = bo * bd[i] + (bd[i] == 1 ? 0 : co[yr - bbr + i]);
            for (int64_t i = 0; i < Me; i++)
                for (int64_t j = 0; j < Ne; j++) {
                    double s = 0, mag = 0;
                    for (int64_t k = 0; k < K; k++) {
                        double v = (double)a[(ao * Me + i) * K + k] * b[(bo * K + k) * Ne + j];
                        s += v, mag += fabs(v);
                    }
                    float got = o[(t * Me + i) * Ne + j];
                    cr_assert(fabs(got - s) <= 1e-5 * mag + 1e-7, "it %d: %.8g vs %.8g", it, got,
                              s);
                }
        }
        xb_test_end(&tg);
        free(a), free(b);
    }
}

Test(matmul, rejects_mismatch) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "a", XB_F32, 3, (int64_t[]){2, 3, 4}),
                 xb_test_input(&tg, "b", XB_F32, 3, (int64_t[]){3, 4, 5})};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "do not broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_begin(&tg);
    in[0] = xb_test_input(&tg, "a", XB_F32, 2, (int64_t[]){2, 3});
    in[1] = xb_test_input(&tg, "b", XB_F32, 2, (int64_t[]){4, 5});
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "inner dimensions differ"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(matmul, rejects_absurd_sizes) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "a", XB_F32, 4, (int64_t[]){1 << 16, 1 << 16, 1 << 10, 8}),
                 xb_test_input(&tg, "b", XB_F32, 2, (int64_t[]){8, 5})};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "too large"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* Fuzz finding (fuzz_onnx_struct, session 4): batch dims 1 x 0 broadcast to
 * 0, as in numpy; MatMul took the larger (1) and read a batch from an empty
 * B.  The output is empty and nothing is read. */
Test(matmul, batch_one_against_zero_is_empty) {
    xb_test_graph tg;
    float a[9] = {0}, b[1] = {0};
    mm(&tg, 4, (int64_t[]){1, 1, 3, 3}, 4, (int64_t[]){1, 0, 3, 3}, a, b, 4, (int64_t[]){1, 0, 3, 3});
    xb_test_end(&tg);
    mm(&tg, 3, (int64_t[]){0, 3, 3}, 3, (int64_t[]){1, 3, 2}, b, a, 3, (int64_t[]){0, 3, 2});
    xb_test_end(&tg);
}

/* An empty inner dimension: every output is the empty sum, 0. */
Test(matmul, empty_inner_dimension_gives_zeros) {
    xb_test_graph tg;
    float a[1] = {0}, b[1] = {0};
    const float *o = mm(&tg, 2, (int64_t[]){2, 0}, 2, (int64_t[]){0, 3}, a, b, 2, (int64_t[]){2, 3});
    for (int i = 0; i < 6; i++) cr_assert_eq(o[i], 0.0f, "y[%d] = %g", i, (double)o[i]);
    xb_test_end(&tg);
}
