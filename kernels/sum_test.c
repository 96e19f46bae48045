#include <criterion/criterion.h>

#include "tests/test_util.h"

/* Broadcasting folds: kernels/max_test.c (variadic.random_broadcast). */
Test(sum, three_inputs_and_folding) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2, 2}, dc[] = {2, 1};
    float c1[2] = {100.0f, 200.0f};
    int in[3] = {xb_test_input(&tg, "a", XB_F32, 1, d + 1), xb_test_input(&tg, "b", XB_F32, 2, d),
                 xb_test_const(&tg, "c", XB_F32, 2, dc, c1)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Sum", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float a[2] = {1, 2}, b[4] = {10, 20, 30, 40};
    const void *inp[2] = {a, b};
    float *out = xb_test_run(&tg, inp, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    float want[4] = {111, 122, 231, 242};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(out[i], want[i], 0.0f, "at %d", i);
    xb_test_end(&tg);
}

Test(sum, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Sum", 13, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
