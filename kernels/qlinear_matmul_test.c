#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void build(xb_test_graph *tg, int rank, const int64_t *ad, const int64_t *bd, xb_dtype adt,
                  xb_dtype bdt, xb_dtype ydt, int64_t na, int64_t nb) {
    xb_test_begin(tg);
    int64_t dA[1] = {na}, dB[1] = {nb}, one[1] = {1};
    int in[8] = {xb_test_input(tg, "a", adt, rank, ad), xb_test_input(tg, "as", XB_F32, 1, dA),
                 xb_test_input(tg, "az", adt, 1, dA),   xb_test_input(tg, "b", bdt, rank, bd),
                 xb_test_input(tg, "bs", XB_F32, 1, dB), xb_test_input(tg, "bz", bdt, 1, dB),
                 xb_test_input(tg, "ys", XB_F32, 1, one), xb_test_input(tg, "yz", ydt, 1, one)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "QLinearMatMul", 10, in, 8, &y, 1);
    xb_test_output(tg, y);
}

Test(qlinear_matmul, onnx_examples_2d_and_3d) {
    uint8_t a[16] = {208, 236, 0, 238, 3, 214, 255, 29, 208, 236, 0, 238, 3, 214, 255, 29};
    uint8_t b[24] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247,
                     152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
    float as = 0.0066f, bs = 0.00705f, ys = 0.0107f;
    uint8_t az = 113, bz = 114, yz = 118;
    uint8_t want[12] = {168, 115, 255, 1, 66, 151, 168, 115, 255, 1, 66, 151};
    const void *ins[8] = {a, &as, &az, b, &bs, &bz, &ys, &yz};
    for (int rank = 2; rank <= 3; rank++) {
        int64_t ad[3] = {2, 2, 4}, bd[3] = {2, 4, 3};
        xb_test_graph tg;
        build(&tg, rank, rank == 2 ? ad + 1 : ad, rank == 2 ? bd + 1 : bd, XB_U8, XB_U8, XB_U8, 1, 1);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        uint8_t *out = xb_test_run(&tg, ins, 0);
        cr_assert_not_null(out, "%s", tg.ctx.msg);
        for (int i = 0; i < (rank == 2 ? 6 : 12); i++)
            cr_assert_eq(out[i], want[i], "rank %d i=%d: %d", rank, i, out[i]);
        xb_test_end(&tg);
    }
}

Test(qlinear_matmul, random_per_row_per_column_int8) {
    const int64_t M = 7, K = 33, N = 5;
    uint64_t seed = 11;
    uint8_t a[7 * 33], b[33 * 5], az[7], bz[5], yz = 200;
    float as[7], bs[5], ys = 0.5f;
    for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)rng_next(&seed);
    for (size_t i = 0; i < sizeof b; i++) b[i] = (uint8_t)rng_next(&seed);
    for (int i = 0; i < M; i++) az[i] = (uint8_t)rng_next(&seed), as[i] = 0.001f * (float)(i + 1);
    for (int i = 0; i < N; i++) bz[i] = (uint8_t)rng_next(&seed), bs[i] = 0.01f * (float)(i + 2);
    int64_t ad[2] = {M, K}, bd[2] = {K, N};
    xb_test_graph tg;
    build(&tg, 2, ad, bd, XB_I8, XB_U8, XB_I8, M, N);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *ins[8] = {a, as, az, b, bs, bz, &ys, &yz};
    int8_t *out = xb_test_run(&tg, ins, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            int64_t acc = 0;
            for (int k = 0; k < K; k++)
                acc += ((int64_t)(int8_t)a[m * K + k] - (int8_t)az[m]) * ((int64_t)b[k * N + n] - bz[n]);
            float mult = as[m] * bs[n] / ys;
            double v = nearbyint((double)acc * (double)mult) + (int8_t)yz;
            int want = v < -128 ? -128 : v > 127 ? 127 : (int)v;
            cr_assert_eq(out[m * N + n], want, "m=%d n=%d", m, n);
        }
    xb_test_end(&tg);
}
