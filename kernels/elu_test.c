#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static void check(float alpha, int set_alpha) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "Elu", 13, XB_F32, 1, d);
    if (set_alpha) xb_test_attr_float(&tg, 0, "alpha", alpha);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {0.0f, 2.0f, -1.0f, -1e-6f, -50.0f, -0.5f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) {
        double ref = x[i] >= 0 ? x[i] : alpha * (exp((double)x[i]) - 1.0);
        cr_assert_float_eq(y[i], (float)ref, 1e-7 + 1e-6 * fabs(ref), "x = %g", (double)x[i]);
    }
    xb_test_end(&tg);
}

Test(elu, default_alpha) { check(1.0f, 0); }
Test(elu, alpha_2) { check(2.0f, 1); }

Test(elu, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Elu", 13, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
