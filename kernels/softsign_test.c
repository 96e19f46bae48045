#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(softsign, values) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Softsign", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {0.0f, 1.0f, -3.0f, 1e30f, -INFINITY};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[1], 0.5f, 0.0f);
    cr_assert_float_eq(y[2], -0.75f, 0.0f);
    cr_assert_float_eq(y[3], 1.0f, 1e-7f);
    cr_assert(isnan(y[4]), "-inf / inf is NaN, as in numpy");
    xb_test_end(&tg);
}

Test(softsign, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Softsign", 13, XB_I8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
