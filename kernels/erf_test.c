#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(erf, values) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "Erf", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {0.0f, 0.5f, -0.5f, 1.0f, 3.0f, -10.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* erf(0.5) = 0.5204998778, erf(1) = 0.8427007929, erf(3) = 0.9999779095 */
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[1], 0.5204998778f, 1e-7f);
    cr_assert_float_eq(y[2], -0.5204998778f, 1e-7f);
    cr_assert_float_eq(y[3], 0.8427007929f, 1e-7f);
    cr_assert_float_eq(y[4], 0.9999779095f, 1e-7f);
    cr_assert_float_eq(y[5], -1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(erf, opset_8_unknown) {
    /* Erf appeared in opset 9. */
    xb_test_graph tg;
    int64_t d[] = {1};
    xb_test_unary_begin(&tg, "Erf", 8, XB_F32, 1, d);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    xb_test_end(&tg);
}
