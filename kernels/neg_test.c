#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(neg, f32) {
    xb_test_graph tg;
    int64_t d[] = {3};
    xb_test_unary_begin(&tg, "Neg", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[3] = {1.5f, -2.0f, 0.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], -1.5f, 0.0f);
    cr_assert_float_eq(y[1], 2.0f, 0.0f);
    cr_assert(y[2] == 0.0f && signbit(y[2]));
    xb_test_end(&tg);
}

Test(neg, ints_wrap) {
    xb_test_graph tg;
    int64_t d[] = {3};
    xb_test_unary_begin(&tg, "Neg", 13, XB_I8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int8_t x8[3] = {5, -128, 127};
    int8_t *y8 = xb_test_run1(&tg, x8);
    cr_assert_eq(y8[0], -5);
    cr_assert_eq(y8[1], -128);
    cr_assert_eq(y8[2], -127);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Neg", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int32_t x32[3] = {5, INT32_MIN, 0};
    int32_t *y32 = xb_test_run1(&tg, x32);
    cr_assert_eq(y32[0], -5);
    cr_assert_eq(y32[1], INT32_MIN);
    cr_assert_eq(y32[2], 0);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Neg", 7, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int64_t x64[3] = {-7, INT64_MIN, INT64_MAX};
    int64_t *y64 = xb_test_run1(&tg, x64);
    cr_assert_eq(y64[0], 7);
    cr_assert_eq(y64[1], INT64_MIN);
    cr_assert_eq(y64[2], -INT64_MAX);
    xb_test_end(&tg);
}

Test(neg, rejects_unsigned_and_bool) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Neg", 13, XB_U8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Neg", 13, XB_BOOL, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
