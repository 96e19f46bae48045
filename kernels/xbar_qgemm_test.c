#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/qlayer.h"
#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static float rng_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_next(s) >> 40) / (float)(1 << 24);
}

static void build_gemm(xb_test_graph *tg, int rank, const int64_t *xd, int64_t N, const int8_t *w,
                       const float *ws, const float *b, float x_scale, int zp, int x_bits,
                       int w_bits) {
    xb_test_begin(tg);
    int64_t K = xd[rank - 1];
    int64_t wd[2] = {N, K}, sd[1] = {N};
    int in[4];
    in[0] = xb_test_input(tg, "x", XB_F32, rank, xd);
    in[1] = xb_test_const(tg, "w", XB_I8, 2, wd, w);
    in[2] = xb_test_const(tg, "w_scale", XB_F32, 1, sd, ws);
    in[3] = b ? xb_test_const(tg, "b", XB_F32, 1, sd, b) : -1;
    int y = xb_test_tensor(tg, "y");
    int node = xb_graph_add_node(tg->g, "fc", "XbarQGemm", "xbar", 1, in, b ? 4 : 3, &y, 1, &tg->ctx);
    xb_test_output(tg, y);
    xb_test_attr_float(tg, node, "x_scale", x_scale);
    xb_test_attr_int(tg, node, "x_zero_point", zp);
    xb_test_attr_int(tg, node, "x_bits", x_bits);
    xb_test_attr_int(tg, node, "w_bits", w_bits);
}

Test(xbar_qgemm, hand_computed) {
    /* x = [[1, -1, 2]] at scale 1, zp 2 (8-bit): codes 3, 1, 4 -> values
     * 1, -1, 2.  w rows [1,2,3] and [-1,0,1]: acc 1-2+6 = 5 and -1+0+2 = 1.
     * w_scale 0.5, 2; bias 10, -10: y = 5*0.5+10 = 12.5, 1*2-10 = -8. */
    int64_t xd[2] = {1, 3};
    int8_t w[6] = {1, 2, 3, -1, 0, 1};
    float ws[2] = {0.5f, 2.0f}, b[2] = {10.0f, -10.0f}, x[3] = {1, -1, 2};
    xb_test_graph tg;
    build_gemm(&tg, 2, xd, 2, w, ws, b, 1.0f, 2, 8, 8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 12.5f, 0.0f);
    cr_assert_float_eq(y[1], -8.0f, 0.0f);
    const xb_qlayer *q = xb_qlayer_get(tg.g, 0, NULL);
    cr_assert_eq(q->kind, XB_QL_GEMM);
    cr_assert_eq(q->K, 3);
    cr_assert_eq(q->N, 2);
    cr_assert_eq(q->P, 1);
    cr_assert_eq(q->w_rowsum[0], 6);
    cr_assert_eq(q->w_rowsum[1], 0);
    xb_test_end(&tg);
}

Test(xbar_qgemm, random_rank3_matches_naive) {
    const int64_t xd[3] = {3, 5, 70};
    const int64_t N = 11, K = 70, M = 15;
    const int bits[][2] = {{8, 8}, {5, 4}, {2, 2}};
    for (int c = 0; c < 3; c++) {
        uint64_t seed = 99 + (uint64_t)c;
        int xb = bits[c][0], wb = bits[c][1], wmax = (1 << (wb - 1)) - 1;
        int zp = (1 << xb) / 3;
        float xs = 0.07f;
        int8_t w[11 * 70];
        float ws[11], b[11], x[15 * 70], want[15 * 11];
        for (int i = 0; i < N * K; i++) w[i] = (int8_t)((int)(rng_next(&seed) % (2 * wmax + 1)) - wmax);
        for (int i = 0; i < N; i++) ws[i] = rng_uniform(&seed, 0.01f, 1), b[i] = rng_uniform(&seed, -2, 2);
        for (int i = 0; i < M * K; i++) x[i] = rng_uniform(&seed, -3, 3);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                int64_t acc = 0;
                for (int k = 0; k < K; k++) {
                    float q = nearbyintf(x[m * K + k] / xs) + (float)zp;
                    int code = q < 0 ? 0 : q > (float)((1 << xb) - 1) ? (1 << xb) - 1 : (int)q;
                    acc += (int64_t)w[n * K + k] * (code - zp);
                }
                want[m * N + n] = (float)acc * (xs * ws[n]) + b[n];
            }
        xb_test_graph tg;
        build_gemm(&tg, 3, xd, N, w, ws, b, xs, zp, xb, wb);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        const xb_shape *ys = &tg.g->tensors[tg.g->outputs[0]].shape;
        cr_assert_eq(ys->rank, 3);
        cr_assert_eq(ys->d[2], N);
        float *y = xb_test_run1(&tg, x);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        for (int i = 0; i < M * N; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "case %d i=%d", c, i);
        xb_test_end(&tg);
    }
}

Test(xbar_qgemm, rejects_k_mismatch) {
    int64_t xd[2] = {1, 4};
    int8_t w[6] = {0};
    float ws[2] = {1, 1};
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t wd[2] = {2, 3}, sd[1] = {2};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 2, xd), xb_test_const(&tg, "w", XB_I8, 2, wd, w),
                 xb_test_const(&tg, "s", XB_F32, 1, sd, ws)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_graph_add_node(tg.g, "fc", "XbarQGemm", "xbar", 1, in, 3, &y, 1, &tg.ctx);
    xb_test_attr_float(&tg, node, "x_scale", 1.0f);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "does not end in K") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* Engine receiving x as [K][P] codes (the transpose of the [M][K] rows). */
typedef struct {
    int calls;
    int64_t K, N, P;
} gemm_engine;

static xb_status gemm_qmatmul(void *self, struct xb_exec *e, const xb_node *node, int layer,
                              int group, const uint8_t *x, const int8_t *w, int64_t K, int64_t N,
                              int64_t P, int32_t *acc, xb_ctx *ctx) {
    (void)e, (void)node, (void)layer, (void)group, (void)ctx;
    gemm_engine *g = self;
    g->calls++, g->K = K, g->N = N, g->P = P;
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            int32_t s = 0;
            for (int64_t k = 0; k < K; k++) s += w[n * K + k] * x[k * P + p];
            acc[n * P + p] = s;
        }
    return XB_OK;
}

Test(xbar_qgemm, engine_hook_matches_reference) {
    /* M = 6 rows (the packed path) and M = 2 (the small-M path). */
    for (int M = 2; M <= 6; M += 4) {
        int64_t xd[2] = {M, 37};
        const int64_t N = 7, K = 37;
        uint64_t seed = 5 + (uint64_t)M;
        int8_t w[7 * 37];
        float ws[7], x[6 * 37], ref[6 * 7];
        for (int i = 0; i < N * K; i++) w[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127);
        for (int i = 0; i < N; i++) ws[i] = 0.01f * (float)(i + 1);
        for (int i = 0; i < M * K; i++) x[i] = rng_uniform(&seed, -2, 5);
        xb_test_graph tg;
        build_gemm(&tg, 2, xd, N, w, ws, NULL, 0.03f, 60, 8, 8);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        float *y = xb_test_run1(&tg, x);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        memcpy(ref, y, (size_t)(M * N) * sizeof(float));
        gemm_engine ge = {0};
        xb_engine eng = {.self = &ge, .qmatmul = gemm_qmatmul};
        tg.e->engine = &eng;
        y = xb_test_run1(&tg, x);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        cr_assert_eq(ge.calls, 1);
        cr_assert_eq(ge.K, K);
        cr_assert_eq(ge.N, N);
        cr_assert_eq(ge.P, M);
        for (int i = 0; i < M * N; i++) cr_assert_float_eq(y[i], ref[i], 0.0f, "M=%d i=%d", M, i);
        xb_test_end(&tg);
    }
}
