#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(tanh, values) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Tanh", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {0.0f, 0.5f, -0.5f, 20.0f, -20.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* tanh(0.5) = 0.46211715726000974 */
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[1], 0.4621171573f, 1e-7f);
    cr_assert_float_eq(y[2], -0.4621171573f, 1e-7f);
    cr_assert_float_eq(y[3], 1.0f, 0.0f);
    cr_assert_float_eq(y[4], -1.0f, 0.0f);
    xb_test_end(&tg);
}

Test(tanh, rejects_u8) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Tanh", 13, XB_U8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
