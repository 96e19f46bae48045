#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

/* Softmax of [2,3,2] data under several opsets/axes, against a direct
 * computation of the spec's definition. */
static void check(int opset, int axis, bool set_axis) {
    xb_test_graph tg;
    int64_t d[3] = {2, 3, 2};
    xb_test_unary_begin(&tg, "Softmax", opset, XB_F32, 3, d);
    if (set_axis) xb_test_attr_int(&tg, 0, "axis", axis);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)((i * 7) % 5) - 1.5f + 100.0f * (i == 3);
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    int a = axis < 0 ? axis + 3 : axis;
    if (!set_axis) a = opset >= 13 ? 2 : 1;
    for (int i = 0; i < 12; i++) {
        int c[3] = {i / 6, (i / 2) % 3, i % 2};
        double s = 0;
        for (int j = 0; j < 12; j++) {
            int cj[3] = {j / 6, (j / 2) % 3, j % 2};
            bool same;
            if (opset >= 13) /* same everywhere but the axis */
                same = (a == 0 || cj[0] == c[0]) && (a == 1 || cj[1] == c[1]) &&
                       (a == 2 || cj[2] == c[2]);
            else /* same leading (outer) coordinates */
                same = (a <= 0 || cj[0] == c[0]) && (a <= 1 || cj[1] == c[1]) &&
                       (a <= 2 || cj[2] == c[2]);
            if (same) s += exp((double)x[j] - 100.0);
        }
        double want = exp((double)x[i] - 100.0) / s;
        cr_assert(fabs(o[i] - want) <= 1e-6 * want + 1e-30, "opset %d axis %d: y[%d] = %g want %g",
                  opset, a, i, o[i], want);
    }
    xb_test_end(&tg);
}

Test(softmax, axis_semantics_by_opset) {
    check(11, 1, false); /* coerce to [2, 6] */
    check(11, 0, true);  /* [1, 12] */
    check(11, 2, true);  /* [6, 2] */
    check(11, -2, true);
    check(13, 0, false); /* axis -1 */
    check(13, 1, true);  /* along the middle dimension only */
    check(13, 0, true);
    check(13, -3, true);
}

Test(softmax, rejects_bad_axis) {
    xb_test_graph tg;
    int64_t d[2] = {2, 3};
    xb_test_unary_begin(&tg, "Softmax", 13, XB_F32, 2, d);
    xb_test_attr_int(&tg, 0, "axis", 2);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "axis"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
