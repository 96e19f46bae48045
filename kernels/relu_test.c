#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(relu, clamps_negatives_and_keeps_shape) {
    xb_test_graph tg;
    int64_t dims[] = {2, 3};
    xb_test_unary_begin(&tg, "Relu", 13, XB_F32, 2, dims);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {-1.5f, 0.0f, 2.0f, -0.0f, 3.25f, -7.0f};
    float want[6] = {0, 0, 2.0f, 0, 3.25f, 0};
    float *y = (float *)xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.d[1], 3);
    xb_test_end(&tg);
}

Test(relu, rejects_integer_input) {
    xb_test_graph tg;
    int64_t dims[] = {4};
    xb_test_unary_begin(&tg, "Relu", 13, XB_I32, 1, dims);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "Relu") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
