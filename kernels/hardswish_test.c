#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

Test(hardswish, values) {
    xb_test_graph tg;
    int64_t d[] = {7};
    xb_test_unary_begin(&tg, "HardSwish", 14, XB_F32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[7] = {-4.0f, -3.0f, 0.0f, 1.5f, -1.5f, 3.0f, 10.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 7; i++) {
        /* PyTorch's definition: x * relu6(x + 3) / 6 */
        double r = x[i] + 3.0;
        r = r < 0 ? 0 : r > 6 ? 6 : r;
        double ref = x[i] * r / 6.0;
        cr_assert_float_eq(y[i], (float)ref, 1e-6, "x = %g: %g vs %g", (double)x[i], (double)y[i], ref);
    }
    cr_assert_float_eq(y[3], 1.125f, 1e-7f);
    xb_test_end(&tg);
}

Test(hardswish, needs_opset_14) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "HardSwish", 13, XB_F32, 1, d);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "HardSwish"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
