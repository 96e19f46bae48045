#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(log, values_and_domain) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Log", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {1.0f, 2.7182818f, 10.0f, 0.0f, -1.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[1], 1.0f, 1e-6f);
    cr_assert_float_eq(y[2], 2.3025851f, 1e-6f);
    cr_assert(isinf(y[3]) && y[3] < 0);
    cr_assert(isnan(y[4]));
    xb_test_end(&tg);
}

Test(log, rejects_u8) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Log", 13, XB_U8, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
