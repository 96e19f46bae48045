#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static int bn_graph(xb_test_graph *tg, int opset, const int64_t *xd, int xr, int64_t c,
                    const float *p /* scale,B,mean,var: 4*c */) {
    xb_test_begin(tg);
    int in[5];
    in[0] = xb_test_input(tg, "x", XB_F32, xr, xd);
    const char *nm[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++) in[i + 1] = xb_test_const(tg, nm[i], XB_F32, 1, &c, p + i * c);
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "BatchNormalization", opset, in, 5, &y, 1);
    xb_test_output(tg, y);
    return nd;
}

Test(batchnorm, hand_computed) {
    /* channel 0: scale 2, B 1, mean 3, var 4-eps -> (x-3)/2*2+1 = x-2
     * channel 1: scale 1, B 0, mean 0, var 1-eps -> x */
    float eps = 0.25f;
    float p[8] = {2, 1, 1, 0, 3, 0, 4 - eps, 1 - eps};
    xb_test_graph tg;
    int nd = bn_graph(&tg, 15, (int64_t[]){1, 2, 3}, 3, 2, p);
    xb_test_attr_float(&tg, nd, "epsilon", eps);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {0, 3, 5, -1, 2, 7};
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    float want[6] = {-2, 1, 3, -1, 2, 7};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(o[i], want[i], 1e-6, "y[%d] = %g", i, o[i]);
    xb_test_end(&tg);
}

Test(batchnorm, random_4d_default_epsilon) {
    float p[12] = {0.5f, -1.5f, 2, 0.1f, 0.2f, -0.3f, 1, -2, 0.5f, 0.9f, 2.5f, 0.01f};
    xb_test_graph tg;
    int64_t xd[4] = {2, 3, 2, 2};
    bn_graph(&tg, 9, xd, 4, 3, p);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)(i % 7) * 0.37f - 1.0f;
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        double want = (x[i] - p[6 + c]) / sqrt((double)p[9 + c] + 1e-5) * p[c] + p[3 + c];
        cr_assert(fabs(o[i] - want) <= 1e-5 * (1 + fabs(want)), "y[%d] = %g want %g", i, o[i],
                  want);
    }
    xb_test_end(&tg);
}

Test(batchnorm, rejects_training_and_bad_shapes) {
    float p[8] = {1, 1, 1, 1, 0, 0, 1, 1};
    xb_test_graph tg;
    int nd = bn_graph(&tg, 15, (int64_t[]){1, 2, 3}, 3, 2, p);
    xb_test_attr_int(&tg, nd, "training_mode", 1);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "training_mode"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    nd = bn_graph(&tg, 7, (int64_t[]){1, 2, 3}, 3, 2, p);
    xb_test_attr_int(&tg, nd, "spatial", 0);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "spatial"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    bn_graph(&tg, 15, (int64_t[]){1, 3, 3}, 3, 2, p);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "expected [3]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
