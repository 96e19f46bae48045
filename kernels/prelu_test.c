#include <criterion/criterion.h>

#include "tests/bcast_ref.h"
#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int rx, const int64_t *dx, int rs, const int64_t *ds,
                       xb_dtype st) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", XB_F32, rx, dx), xb_test_input(tg, "slope", st, rs, ds)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "PRelu", 16, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(prelu, per_channel_slope_c11) {
    /* PyTorch's export of nn.PReLU(C): slope [C,1,1] against [N,C,H,W]. */
    xb_test_graph tg;
    int64_t dx[] = {2, 3, 4, 5}, ds[] = {3, 1, 1};
    cr_assert_eq(build(&tg, 4, dx, 3, ds, XB_F32), XB_OK, "%s", tg.ctx.msg);
    float x[120], s[3] = {0.1f, -2.0f, 0.25f};
    uint32_t seed = 7;
    for (int i = 0; i < 120; i++) x[i] = xb_ref_randf(&seed);
    const void *in[2] = {x, s};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 120; i++) {
        int c = (i / 20) % 3;
        float ref = x[i] < 0 ? s[c] * x[i] : x[i];
        cr_assert_float_eq(y[i], ref, 0.0f, "at %d", i);
    }
    xb_test_end(&tg);
}

Test(prelu, random_unidirectional_shapes) {
    uint32_t seed = 11;
    for (int trial = 0; trial < 30; trial++) {
        xb_shape sx = {.rank = 1 + (int)(xb_ref_rand(&seed) % 4)}, ss;
        for (int k = 0; k < sx.rank; k++) sx.d[k] = 1 + xb_ref_rand(&seed) % 4;
        /* slope: a suffix of x's dims, some set to 1 */
        ss.rank = (int)(xb_ref_rand(&seed) % (unsigned)(sx.rank + 1));
        for (int k = 0; k < ss.rank; k++) {
            ss.d[k] = sx.d[sx.rank - ss.rank + k];
            if (xb_ref_rand(&seed) % 2) ss.d[k] = 1;
        }
        xb_test_graph tg;
        cr_assert_eq(build(&tg, sx.rank, sx.d, ss.rank, ss.d, XB_F32), XB_OK, "%s", tg.ctx.msg);
        int64_t nx = xb_shape_numel(&sx), ns = xb_shape_numel(&ss);
        float x[256], s[256];
        for (int64_t i = 0; i < nx; i++) x[i] = xb_ref_randf(&seed);
        for (int64_t i = 0; i < ns; i++) s[i] = xb_ref_randf(&seed);
        const void *in[2] = {x, s};
        float *y = xb_test_run(&tg, in, 0);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        for (int64_t i = 0; i < nx; i++) {
            float b = s[xb_ref_bcast_index(&sx, &ss, i)];
            cr_assert_float_eq(y[i], x[i] < 0 ? x[i] * b : x[i], 0.0f, "trial %d at %lld", trial,
                               (long long)i);
        }
        xb_test_end(&tg);
    }
}

Test(prelu, errors) {
    xb_test_graph tg;
    int64_t dx[] = {3}, ds[] = {2, 3};
    /* slope would grow X: only unidirectional broadcasting is allowed */
    cr_assert_eq(build(&tg, 1, dx, 2, ds, XB_F32), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "unidirectional"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t d4[] = {4};
    cr_assert_eq(build(&tg, 1, dx, 1, d4, XB_F32), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 1, dx, 1, dx, XB_I32), XB_ERR_INVALID);
    xb_test_end(&tg);
}
