#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(sigmoid, values_and_extremes) {
    xb_test_graph tg;
    int64_t d[] = {7};
    xb_test_unary_begin(&tg, "Sigmoid", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[7] = {0.0f, 1.0f, -1.0f, 10.0f, -100.0f, 1000.0f, -1000.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* 1 / (1 + e^-1) = 0.7310585786300049 */
    cr_assert_float_eq(y[0], 0.5f, 0.0f);
    cr_assert_float_eq(y[1], 0.7310585786f, 1e-7f);
    cr_assert_float_eq(y[2], 1.0f - 0.7310585786f, 1e-7f);
    cr_assert_float_eq(y[3], 0.9999546021f, 1e-7f);
    cr_assert(y[4] > 0.0f && y[4] < 1e-40f, "sigmoid(-100) = %g", (double)y[4]);
    cr_assert_float_eq(y[5], 1.0f, 0.0f);
    cr_assert_float_eq(y[6], 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(sigmoid, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Sigmoid", 6 + 1, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
