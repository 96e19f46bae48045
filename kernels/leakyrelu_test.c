#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(leakyrelu, alpha_attribute_and_default) {
    float x[4] = {-2.0f, -0.0f, 0.0f, 3.0f};
    for (int with_alpha = 0; with_alpha < 2; with_alpha++) {
        xb_test_graph tg;
        int64_t d[] = {2, 2};
        xb_test_unary_begin(&tg, "LeakyRelu", with_alpha ? 16 : 7, XB_F32, 2, d);
        if (with_alpha) xb_test_attr_float(&tg, 0, "alpha", 0.25f);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        float *y = xb_test_run1(&tg, x);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        float a = with_alpha ? 0.25f : 0.01f;
        cr_assert_float_eq(y[0], -2.0f * a, 0.0f);
        cr_assert_float_eq(y[1], 0.0f, 0.0f);
        cr_assert_float_eq(y[2], 0.0f, 0.0f);
        cr_assert_float_eq(y[3], 3.0f, 0.0f);
        xb_test_end(&tg);
    }
}

Test(leakyrelu, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "LeakyRelu", 16, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "LeakyRelu"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
