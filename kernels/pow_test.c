#include <criterion/criterion.h>
#include <math.h>

#include "tests/bcast_ref.h"
#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int opset, xb_dtype ta, int ra, const int64_t *da,
                       xb_dtype tb, int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", ta, ra, da), xb_test_input(tg, "e", tb, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Pow", opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void *run2(xb_test_graph *tg, const void *a, const void *b) {
    const void *in[2] = {a, b};
    void *y = xb_test_run(tg, in, 0);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    return y;
}

Test(pow, f32_broadcast_random) {
    xb_test_graph tg;
    int64_t da[] = {2, 3, 4}, db[] = {3, 1};
    cr_assert_eq(build(&tg, 13, XB_F32, 3, da, XB_F32, 2, db), XB_OK, "%s", tg.ctx.msg);
    float a[24], b[3] = {2.0f, 0.5f, -1.0f};
    uint32_t seed = 3;
    for (int i = 0; i < 24; i++) a[i] = fabsf(xb_ref_randf(&seed)) + 0.1f;
    float *y = run2(&tg, a, b);
    xb_shape so = {3, {2, 3, 4}}, sb = {2, {3, 1}};
    for (int i = 0; i < 24; i++) {
        double ref = pow(a[i], b[xb_ref_bcast_index(&so, &sb, i)]);
        cr_assert_float_eq(y[i], (float)ref, 1e-6 * fabs(ref), "at %d", i);
    }
    xb_test_end(&tg);
}

Test(pow, f32_special_values) {
    xb_test_graph tg;
    int64_t d[] = {4};
    cr_assert_eq(build(&tg, 7, XB_F32, 1, d, XB_F32, 1, d), XB_OK, "%s", tg.ctx.msg);
    float a[4] = {-2.0f, -2.0f, 0.0f, 5.0f}, b[4] = {3.0f, 0.5f, -1.0f, 0.0f};
    float *y = run2(&tg, a, b);
    cr_assert_float_eq(y[0], -8.0f, 0.0f);
    cr_assert(isnan(y[1]));
    cr_assert(isinf(y[2]));
    cr_assert_float_eq(y[3], 1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(pow, f32_base_int_exponent) {
    xb_test_graph tg;
    int64_t d[] = {3}, one[] = {1};
    cr_assert_eq(build(&tg, 15, XB_F32, 1, d, XB_I64, 1, one), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_F32);
    float a[3] = {1.5f, -3.0f, 0.1f};
    int64_t e2 = 2;
    float *y = run2(&tg, a, &e2);
    cr_assert_float_eq(y[0], 2.25f, 0.0f);
    cr_assert_float_eq(y[1], 9.0f, 0.0f);
    cr_assert_float_eq(y[2], (float)(0.1f * (double)0.1f), 0.0f);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 12, XB_F32, 1, d, XB_I32, 1, d), XB_OK, "%s", tg.ctx.msg);
    int32_t e[3] = {-1, 3, 0};
    y = run2(&tg, a, e);
    cr_assert_float_eq(y[0], 1.0f / 1.5f, 1e-7f);
    cr_assert_float_eq(y[1], -27.0f, 0.0f);
    cr_assert_float_eq(y[2], 1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(pow, int_bases) {
    xb_test_graph tg;
    int64_t d[] = {4};
    cr_assert_eq(build(&tg, 15, XB_I32, 1, d, XB_I32, 1, d), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_I32);
    int32_t a[4] = {3, -2, 2, 10}, b[4] = {4, 3, -1, 12};
    int32_t *y = run2(&tg, a, b);
    cr_assert_eq(y[0], 81);
    cr_assert_eq(y[1], -8);
    cr_assert_eq(y[2], 0, "2 ** -1 = 0.5 truncates to 0");
    cr_assert_eq(y[3], INT32_MAX, "10 ** 12 saturates");
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 15, XB_I64, 1, d, XB_F32, 1, d), XB_OK, "%s", tg.ctx.msg);
    int64_t a64[4] = {9, 2, -3, 10};
    float bf[4] = {0.5f, 62.0f, 2.0f, 30.0f};
    int64_t *y64 = run2(&tg, a64, bf);
    cr_assert_eq(y64[0], 3);
    cr_assert_eq(y64[1], (int64_t)1 << 62);
    cr_assert_eq(y64[2], 9);
    cr_assert_eq(y64[3], INT64_MAX);
    xb_test_end(&tg);
}

Test(pow, errors) {
    xb_test_graph tg;
    int64_t d[] = {2}, d3[] = {3};
    /* mixed types only from opset 12 */
    cr_assert_eq(build(&tg, 11, XB_F32, 1, d, XB_I64, 1, d), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "opset 12"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* integer bases only from opset 12 */
    cr_assert_eq(build(&tg, 11, XB_I32, 1, d, XB_I32, 1, d), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, XB_U8, 1, d, XB_U8, 1, d), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, XB_F32, 1, d, XB_BOOL, 1, d), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "exponent"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, XB_F32, 1, d, XB_F32, 1, d3), XB_ERR_INVALID);
    xb_test_end(&tg);
}
