#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(exp, values_and_overflow) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Exp", 7, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {0.0f, 1.0f, -1.0f, 100.0f, -200.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 1.0f, 0.0f);
    cr_assert_float_eq(y[1], 2.7182818f, 1e-6f);
    cr_assert_float_eq(y[2], 0.36787944f, 1e-7f);
    cr_assert(isinf(y[3]));
    cr_assert_float_eq(y[4], 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(exp, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Exp", 13, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
