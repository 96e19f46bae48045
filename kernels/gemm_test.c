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

Test(gemm, hand_computed_alpha_beta_broadcast_c) {
    /* A = [1 2 3; 4 5 6], B^T given as [2,3] = [1 0 1; 0 1 1] (transB = 1),
     * AB = [4 5; 10 11]; C = [10, 20] broadcast over rows;
     * Y = 2*AB + 0.5*C = [13 20; 25 32] */
    xb_test_graph tg;
    xb_test_begin(&tg);
    float bt[6] = {1, 0, 1, 0, 1, 1}, c[2] = {10, 20};
    int in[3] = {xb_test_input(&tg, "a", XB_F32, 2, (int64_t[]){2, 3}),
                 xb_test_const(&tg, "b", XB_F32, 2, (int64_t[]){2, 3}, bt),
                 xb_test_const(&tg, "c", XB_F32, 1, (int64_t[]){2}, c)};
    int y = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "Gemm", 9, in, 3, &y, 1);
    xb_test_output(&tg, y);
    xb_test_attr_int(&tg, nd, "transB", 1);
    xb_test_attr_float(&tg, nd, "alpha", 2.0f);
    xb_test_attr_float(&tg, nd, "beta", 0.5f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float a[6] = {1, 2, 3, 4, 5, 6};
    float *o = xb_test_run1(&tg, a);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    float want[4] = {13, 20, 25, 32};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(o[i], want[i], 1e-5, "y[%d] = %g", i, o[i]);
    xb_test_end(&tg);
}

Test(gemm, randomized_against_reference) {
    rs = 99;
    int64_t dims[] = {1, 2, 5, 10, 17, 33, 64, 120};
    for (int it = 0; it < 120; it++) {
        int64_t M = dims[irand(8)], N = dims[irand(8)], K = dims[irand(8)];
        bool ta = irand(2), tb = irand(2);
        int cmode = (int)irand(7); /* 0 none, 1 scalar, 2 [N], 3 [1,N], 4 [M,1], 5 [M,N], 6 [1] */
        int opset = cmode == 0 ? 11 + (int)irand(3) * 2 : 7 + (int)irand(7);
        float alpha = irand(2) ? 1.0f : frand() * 2, beta = irand(3) == 0 ? 1.0f : frand() * 2;
        int64_t cd[2] = {1, 1};
        int crank = 0;
        switch (cmode) {
        case 2: crank = 1, cd[0] = N; break;
        case 3: crank = 2, cd[1] = N; break;
        case 4: crank = 2, cd[0] = M; break;
        case 5: crank = 2, cd[0] = M, cd[1] = N; break;
        case 6: crank = 1; break;
        default: break;
        }
        float *A = malloc(sizeof(float) * (size_t)(M * K));
        float *B = malloc(sizeof(float) * (size_t)(K * N));
        float *C = malloc(sizeof(float) * (size_t)(M * N));
        for (int64_t i = 0; i < M * K; i++) A[i] = frand();
        for (int64_t i = 0; i < K * N; i++) B[i] = frand();
        for (int64_t i = 0; i < M * N; i++) C[i] = frand();
        xb_test_graph tg;
        xb_test_begin(&tg);
        int in[3];
        in[0] = xb_test_input(&tg, "a", XB_F32, 2, ta ? (int64_t[]){K, M} : (int64_t[]){M, K});
        in[1] = xb_test_input(&tg, "b", XB_F32, 2, tb ? (int64_t[]){N, K} : (int64_t[]){K, N});
        if (cmode) in[2] = xb_test_const(&tg, "c", XB_F32, crank, cd, C);
        int y = xb_test_tensor(&tg, "y");
        int nd = xb_test_node(&tg, "Gemm", opset, in, cmode ? 3 : 2, &y, 1);
        xb_test_output(&tg, y);
        xb_test_attr_int(&tg, nd, "transA", ta);
        xb_test_attr_int(&tg, nd, "transB", tb);
        xb_test_attr_float(&tg, nd, "alpha", alpha);
        xb_test_attr_float(&tg, nd, "beta", beta);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "it %d: %s", it, tg.ctx.msg);
        const void *ins[2] = {A, B};
        const float *o = xb_test_run(&tg, ins, 0);
        cr_assert_not_null(o, "%s", tg.ctx.msg);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0, mag = 0;
                for (int64_t k = 0; k < K; k++) {
                    double t = (double)(ta ? A[k * M + i] : A[i * K + k]) *
                               (tb ? B[j * K + k] : B[k * N + j]);
                    s += t, mag += fabs(t);
                }
                s *= alpha, mag *= fabs(alpha);
                if (cmode) {
                    int64_t ci = crank == 2 && cd[0] == M ? i : 0;
                    int64_t cj = (crank == 2 && cd[1] == N) || (crank == 1 && cd[0] == N) ? j : 0;
                    double cv = (double)beta * C[ci * (crank == 2 ? cd[1] : 0) + cj];
                    s += cv, mag += fabs(cv);
                }
                cr_assert(fabs(o[i * N + j] - s) <= 1e-5 * mag + 1e-7,
                          "it %d M=%ld N=%ld K=%ld: y[%ld][%ld] = %.8g want %.8g", it, (long)M,
                          (long)N, (long)K, (long)i, (long)j, o[i * N + j], s);
            }
        xb_test_end(&tg);
        free(A), free(B), free(C);
    }
}

static void gemm_fail(int opset, int64_t m, int64_t k, int64_t k2, int64_t n, int crank,
                      const int64_t *cd, const char *needle) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    float z[64] = {0};
    int in[3] = {xb_test_input(&tg, "a", XB_F32, 2, (int64_t[]){m, k}),
                 xb_test_input(&tg, "b", XB_F32, 2, (int64_t[]){k2, n}), -1};
    if (crank >= 0) in[2] = xb_test_const(&tg, "c", XB_F32, crank, cd, z);
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Gemm", opset, in, crank >= 0 ? 3 : 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, needle), "'%s' lacks '%s'", tg.ctx.msg, needle);
    xb_test_end(&tg);
}

Test(gemm, rejects_bad_inputs) {
    gemm_fail(9, 2, 3, 3, 4, -1, NULL, "input"); /* C required before opset 11 */
    gemm_fail(13, 2, 3, 4, 4, -1, NULL, "inner dimensions differ");
    gemm_fail(13, 2, 3, 3, 4, 1, (int64_t[]){3}, "does not broadcast");
    gemm_fail(13, 2, 3, 3, 4, 2, (int64_t[]){2, 3}, "does not broadcast");
    gemm_fail(13, 2, 3, 3, 4, 3, (int64_t[]){1, 2, 4}, "rank 3");
}

Test(gemm, rejects_absurd_sizes) {
    gemm_fail(13, (int64_t)1 << 20, (int64_t)1 << 20, (int64_t)1 << 20, 4, -1, NULL, "too large");
}
