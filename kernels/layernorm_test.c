#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

/* X [2,3,4] normalised from `axis`; Scale/B shapes given (brank < 0: no B). */
static int build(xb_test_graph *tg, int axis, int srank, const int64_t *sdims, const float *s,
                 int brank, const int64_t *bdims, const float *b, int n_out) {
    xb_test_begin(tg);
    int in[3] = {xb_test_input(tg, "x", XB_F32, 3, (int64_t[]){2, 3, 4}),
                 xb_test_const(tg, "scale", XB_F32, srank, sdims, s), -1};
    if (brank >= 0) in[2] = xb_test_const(tg, "b", XB_F32, brank, bdims, b);
    int out[3] = {xb_test_tensor(tg, "y"), xb_test_tensor(tg, "mean"), xb_test_tensor(tg, "inv")};
    int nd = xb_test_node(tg, "LayerNormalization", 17, in, brank >= 0 ? 3 : 2, out, n_out);
    xb_test_attr_int(tg, nd, "axis", axis);
    xb_test_attr_float(tg, nd, "epsilon", 1e-3f);
    for (int i = 0; i < n_out; i++) xb_test_output(tg, out[i]);
    return xb_test_prepare(tg);
}

Test(layernorm, against_reference_with_broadcast_scale) {
    rs = 3;
    float x[24], s[12], b[12];
    for (int i = 0; i < 24; i++) x[i] = 3.0f * frand() + 1.0f;
    for (int i = 0; i < 12; i++) s[i] = frand(), b[i] = frand();
    /* axis 1: normalised shape [3,4]; Scale [4] broadcast, B [3,1] broadcast. */
    xb_test_graph tg;
    cr_assert_eq(build(&tg, 1, 1, (int64_t[]){4}, s, 2, (int64_t[]){3, 1}, b, 3), XB_OK, "%s",
                 tg.ctx.msg);
    const xb_shape *ms = &tg.g->tensors[tg.g->outputs[1]].shape;
    cr_assert(ms->rank == 3 && ms->d[0] == 2 && ms->d[1] == 1 && ms->d[2] == 1);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const float *mean = tg.e->buf[tg.g->outputs[1]], *inv = tg.e->buf[tg.g->outputs[2]];
    for (int o = 0; o < 2; o++) {
        double m = 0, v = 0;
        for (int i = 0; i < 12; i++) m += x[o * 12 + i] / 12.0;
        for (int i = 0; i < 12; i++) v += (x[o * 12 + i] - m) * (x[o * 12 + i] - m) / 12.0;
        double is = 1.0 / sqrt(v + 1e-3);
        cr_assert_float_eq(mean[o], (float)m, 1e-5f);
        cr_assert_float_eq(inv[o], (float)is, 1e-5f);
        for (int i = 0; i < 12; i++) {
            double want = (x[o * 12 + i] - m) * is * s[i % 4] + b[i / 4];
            cr_assert_float_eq(y[o * 12 + i], (float)want, 1e-5f, "%d,%d", o, i);
        }
    }
    xb_test_end(&tg);
    /* Default-like axis -1 without B: Scale [4]. */
    cr_assert_eq(build(&tg, -1, 1, (int64_t[]){4}, s, -1, NULL, NULL, 1), XB_OK, "%s", tg.ctx.msg);
    y = xb_test_run1(&tg, x);
    for (int o = 0; o < 6; o++) {
        double m = 0, v = 0;
        for (int i = 0; i < 4; i++) m += x[o * 4 + i] / 4.0;
        for (int i = 0; i < 4; i++) v += (x[o * 4 + i] - m) * (x[o * 4 + i] - m) / 4.0;
        for (int i = 0; i < 4; i++)
            cr_assert_float_eq(y[o * 4 + i], (float)((x[o * 4 + i] - m) / sqrt(v + 1e-3) * s[i]),
                               1e-5f);
    }
    xb_test_end(&tg);
}

Test(layernorm, errors) {
    xb_test_graph tg;
    float s[12] = {0};
    cr_assert_eq(build(&tg, -1, 1, (int64_t[]){3}, s, -1, NULL, NULL, 1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "broadcast"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 3, 1, (int64_t[]){4}, s, -1, NULL, NULL, 1), XB_ERR_INVALID);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 2, 2, (int64_t[]){3, 4}, s, -1, NULL, NULL, 1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "more axes"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
