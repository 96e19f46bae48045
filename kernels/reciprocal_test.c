#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(reciprocal, values) {
    xb_test_graph tg;
    int64_t d[] = {2, 2};
    xb_test_unary_begin(&tg, "Reciprocal", 13, XB_F32, 2, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {2.0f, -4.0f, 0.0f, 3.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.5f, 0.0f);
    cr_assert_float_eq(y[1], -0.25f, 0.0f);
    cr_assert(isinf(y[2]) && y[2] > 0);
    cr_assert_float_eq(y[3], 1.0f / 3.0f, 0.0f);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.rank, 2);
    xb_test_end(&tg);
}

Test(reciprocal, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Reciprocal", 7, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
