#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, const int64_t *dims, const float *scale,
                       const float *bias, float eps) {
    xb_test_begin(tg);
    int64_t c[1] = {dims[1]};
    int in[3] = {xb_test_input(tg, "x", XB_F32, 3, dims),
                 xb_test_const(tg, "s", XB_F32, 1, c, scale),
                 xb_test_const(tg, "b", XB_F32, 1, c, bias)};
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "InstanceNormalization", 7, in, 3, &y, 1);
    if (eps >= 0) xb_test_attr_float(tg, nd, "epsilon", eps);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(instancenorm, per_image_and_channel) {
    /* [2 images, 2 channels, 3]; plane {1,2,3}: mean 2, var 2/3. */
    const int64_t dims[3] = {2, 2, 3};
    const float scale[2] = {2, -1}, bias[2] = {0.5f, 1};
    xb_test_graph tg;
    cr_assert_eq(build(&tg, dims, scale, bias, 0.01f), XB_OK, "%s", tg.ctx.msg);
    float x[12] = {1, 2, 3, 10, 10, 10, -4, 0, 4, 5, 6, 7};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int p = 0; p < 4; p++) {
        const float *xp = x + 3 * p;
        double m = (xp[0] + xp[1] + xp[2]) / 3.0, v = 0;
        for (int i = 0; i < 3; i++) v += (xp[i] - m) * (xp[i] - m) / 3.0;
        for (int i = 0; i < 3; i++) {
            double want = scale[p % 2] * (xp[i] - m) / sqrt(v + 0.01) + bias[p % 2];
            cr_assert_float_eq(y[3 * p + i], (float)want, 1e-5f, "%d,%d: %g", p, i, y[3 * p + i]);
        }
    }
    /* A constant plane normalises to the bias. */
    cr_assert_float_eq(y[3], 1.0f, 1e-6f);
    xb_test_end(&tg);
}

Test(instancenorm, errors) {
    xb_test_graph tg;
    const float s[3] = {1, 1, 1};
    cr_assert_eq(build(&tg, (const int64_t[]){1, 2, 3}, s, s, -1), XB_OK, "%s", tg.ctx.msg);
    xb_test_end(&tg);
    xb_test_begin(&tg);
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 3, (int64_t[]){1, 2, 3}),
                 xb_test_const(&tg, "s", XB_F32, 1, (int64_t[]){3}, s),
                 xb_test_const(&tg, "b", XB_F32, 1, (int64_t[]){3}, s)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "InstanceNormalization", 7, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "expected [2]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
