#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(hardsigmoid, defaults) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "HardSigmoid", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    /* alpha 0.2, beta 0.5: saturates at x <= -2.5 and x >= 2.5 */
    float x[6] = {0.0f, 1.0f, -1.0f, 2.5f, -3.0f, NAN};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.5f, 0.0f);
    cr_assert_float_eq(y[1], 0.7f, 1e-7f);
    cr_assert_float_eq(y[2], 0.3f, 1e-7f);
    cr_assert_float_eq(y[3], 1.0f, 0.0f);
    cr_assert_float_eq(y[4], 0.0f, 0.0f);
    cr_assert(isnan(y[5]));
    xb_test_end(&tg);
}

Test(hardsigmoid, pytorch_attributes) {
    /* nn.Hardsigmoid exports alpha = 1/6, beta = 0.5: relu6(x + 3) / 6. */
    xb_test_graph tg;
    int64_t d[] = {4};
    xb_test_unary_begin(&tg, "HardSigmoid", 13, XB_F32, 1, d);
    xb_test_attr_float(&tg, 0, "alpha", 1.0f / 6.0f);
    xb_test_attr_float(&tg, 0, "beta", 0.5f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {-3.0f, 3.0f, 1.5f, -4.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.0f, 1e-7f);
    cr_assert_float_eq(y[1], 1.0f, 1e-7f);
    cr_assert_float_eq(y[2], 0.75f, 1e-7f);
    cr_assert_float_eq(y[3], 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(hardsigmoid, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "HardSigmoid", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
