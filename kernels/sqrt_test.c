#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(sqrt, values) {
    xb_test_graph tg;
    int64_t d[] = {5};
    xb_test_unary_begin(&tg, "Sqrt", 13, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[5] = {0.0f, 4.0f, 2.0f, -1.0f, INFINITY};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[1], 2.0f, 0.0f);
    cr_assert_float_eq(y[2], 1.41421356f, 1e-7f);
    cr_assert(isnan(y[3]));
    cr_assert(isinf(y[4]) && y[4] > 0);
    xb_test_end(&tg);
}

Test(sqrt, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Sqrt", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "i32") && strstr(tg.ctx.msg, "f32"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
