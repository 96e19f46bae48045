#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static void check(float alpha, float gamma, int set) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Selu", 13, XB_F32, 1, d);
    if (set) {
        xb_test_attr_float(&tg, 0, "alpha", alpha);
        xb_test_attr_float(&tg, 0, "gamma", gamma);
    }
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {0.0f, 1.0f, -1.0f, -20.0f, 3.5f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 5; i++) {
        double ref = x[i] > 0 ? (double)gamma * x[i] : (double)gamma * ((double)alpha * exp(x[i]) - alpha);
        cr_assert_float_eq(y[i], (float)ref, 1e-6 * fabs(ref) + 1e-7, "x = %g", (double)x[i]);
    }
    xb_test_end(&tg);
}

Test(selu, defaults) { check(1.67326319217681884765625f, 1.05070102214813232421875f, 0); }
Test(selu, attributes) { check(2.0f, 3.0f, 1); }

Test(selu, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Selu", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
