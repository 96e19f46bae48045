#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static void check(float alpha, int set) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "Celu", 12, XB_F32, 1, d);
    if (set) xb_test_attr_float(&tg, 0, "alpha", alpha);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {0.0f, 2.0f, -1.0f, -3.0f, 100.0f, -100.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) {
        double neg = alpha * (exp((double)x[i] / alpha) - 1.0);
        double ref = fmax(0.0, x[i]) + fmin(0.0, neg);
        cr_assert_float_eq(y[i], (float)ref, 1e-6 * fabs(ref) + 1e-7, "alpha %g x %g: %g vs %g",
                           (double)alpha, (double)x[i], (double)y[i], ref);
    }
    xb_test_end(&tg);
}

Test(celu, default_alpha) { check(1.0f, 0); }
Test(celu, alpha_half) { check(0.5f, 1); }
Test(celu, negative_alpha_follows_formula) { check(-2.0f, 1); }

Test(celu, errors) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Celu", 12, XB_F32, 1, d);
    xb_test_attr_float(&tg, 0, "alpha", 0.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "alpha"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* Celu appeared in opset 12. */
    xb_test_unary_begin(&tg, "Celu", 11, XB_F32, 1, d);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    xb_test_end(&tg);
}
