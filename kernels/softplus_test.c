#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(softplus, values_and_extremes) {
    xb_test_graph tg;
    int64_t d[] = {7};
    xb_test_unary_begin(&tg, "Softplus", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[7] = {0.0f, 1.0f, -1.0f, 20.0f, 1000.0f, -100.0f, -1000.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) {
        double ref = log(exp((double)x[i]) + 1.0);
        cr_assert_float_eq(y[i], (float)ref, 1e-6 * fabs(ref) + 1e-7, "x = %g", (double)x[i]);
    }
    /* ln(1 + e^1000) = 1000 without overflowing; e^-100 is below float's
     * normal range but log1p keeps it: 3.7e-44. */
    cr_assert_float_eq(y[4], 1000.0f, 0.0f);
    cr_assert(y[5] > 0.0f && y[5] < 1e-40f, "softplus(-100) = %g", (double)y[5]);
    cr_assert_float_eq(y[6], 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(softplus, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Softplus", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
