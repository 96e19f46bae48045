#include <criterion/criterion.h>

#include "tests/test_util.h"

/* Broadcasting folds: kernels/max_test.c (variadic.random_broadcast). */
Test(mean, two_and_three_inputs) {
    xb_test_graph tg;
    for (int n = 2; n <= 3; n++) {
        xb_test_begin(&tg);
        int64_t d[] = {3};
        int in[3];
        for (int i = 0; i < n; i++) {
            char name[4] = {'x', (char)('0' + i), 0};
            in[i] = xb_test_input(&tg, name, XB_F32, 1, d);
        }
        int y = xb_test_tensor(&tg, "y");
        xb_test_node(&tg, "Mean", 13, in, n, &y, 1);
        xb_test_output(&tg, y);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        float a[3] = {1, 2, 3}, b[3] = {3, 4, -3}, c[3] = {2, 0, 9};
        const void *inp[3] = {a, b, c};
        float *out = xb_test_run(&tg, inp, 0);
        cr_assert_not_null(out, "%s", tg.ctx.msg);
        for (int i = 0; i < 3; i++) {
            float want = n == 2 ? (a[i] + b[i]) / 2 : (a[i] + b[i] + c[i]) / 3;
            cr_assert_float_eq(out[i], want, 0.0f, "n %d at %d", n, i);
        }
        xb_test_end(&tg);
    }
}

Test(mean, rejects_ints) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Mean", 13, XB_I32, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
