#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

/* Broadcasting and the 1..n input folds are covered for all four variadic
 * ops by kernels/max_test.c (variadic.random_broadcast). */
Test(min, f32_nan_and_u8) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {3}, one[] = {1};
    int in[2] = {xb_test_input(&tg, "a", XB_F32, 1, d), xb_test_input(&tg, "b", XB_F32, 1, one)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Min", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float a[3] = {NAN, -1.0f, 5.0f}, b = 0.0f;
    const void *inp[2] = {a, &b};
    float *out = xb_test_run(&tg, inp, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    cr_assert(isnan(out[0]));
    cr_assert_float_eq(out[1], -1.0f, 0.0f);
    cr_assert_float_eq(out[2], 0.0f, 0.0f);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    int in8[2] = {xb_test_input(&tg, "a", XB_U8, 1, d), xb_test_input(&tg, "b", XB_U8, 1, d)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Min", 13, in8, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    uint8_t a8[3] = {255, 0, 9}, b8[3] = {254, 1, 9};
    const void *inp8[2] = {a8, b8};
    uint8_t *o8 = xb_test_run(&tg, inp8, 0);
    cr_assert_not_null(o8, "%s", tg.ctx.msg);
    cr_assert_eq(o8[0], 254);
    cr_assert_eq(o8[1], 0);
    cr_assert_eq(o8[2], 9);
    xb_test_end(&tg);
}

Test(min, single_input_is_a_copy) {
    xb_test_graph tg;
    int64_t d[] = {2, 2};
    xb_test_unary_begin(&tg, "Min", 8, XB_F32, 2, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {1, -2, 3, -4};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    xb_test_end(&tg);
}
