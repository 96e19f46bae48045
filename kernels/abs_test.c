#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(abs, f32) {
    xb_test_graph tg;
    int64_t d[] = {4};
    xb_test_unary_begin(&tg, "Abs", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {1.5f, -2.0f, -0.0f, -INFINITY};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 1.5f, 0.0f);
    cr_assert_float_eq(y[1], 2.0f, 0.0f);
    cr_assert(y[2] == 0.0f && !signbit(y[2]));
    cr_assert(isinf(y[3]) && y[3] > 0);
    xb_test_end(&tg);
}

Test(abs, ints) {
    xb_test_graph tg;
    int64_t d[] = {3};
    xb_test_unary_begin(&tg, "Abs", 13, XB_I8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int8_t x8[3] = {-5, -128, 127};
    int8_t *y8 = xb_test_run1(&tg, x8);
    cr_assert_eq(y8[0], 5);
    cr_assert_eq(y8[1], -128, "the most negative value wraps to itself (numpy)");
    cr_assert_eq(y8[2], 127);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Abs", 13, XB_U8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    uint8_t xu[3] = {0, 200, 255};
    uint8_t *yu = xb_test_run1(&tg, xu);
    cr_assert_eq(yu[1], 200);
    cr_assert_eq(yu[2], 255);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Abs", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int32_t x32[3] = {-9, INT32_MIN, 4};
    int32_t *y32 = xb_test_run1(&tg, x32);
    cr_assert_eq(y32[0], 9);
    cr_assert_eq(y32[1], INT32_MIN);
    cr_assert_eq(y32[2], 4);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Abs", 13, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int64_t x64[3] = {-9, INT64_MIN, INT64_MAX};
    int64_t *y64 = xb_test_run1(&tg, x64);
    cr_assert_eq(y64[0], 9);
    cr_assert_eq(y64[1], INT64_MIN);
    cr_assert_eq(y64[2], INT64_MAX);
    xb_test_end(&tg);
}

Test(abs, rejects_bool) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Abs", 13, XB_BOOL, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
