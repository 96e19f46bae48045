#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int opset, int64_t axis) {
    int64_t dims[] = {2, 3, 4, 5};
    xb_test_unary_begin(tg, "Flatten", opset, XB_F32, 4, dims);
    if (axis != 99) xb_test_attr_int(tg, 0, "axis", axis);
    return xb_test_prepare(tg);
}

static void expect(int opset, int64_t axis, int64_t d0, int64_t d1) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, opset, axis), XB_OK, "axis %lld: %s", (long long)axis, tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, 2);
    cr_assert_eq(s->d[0], d0, "axis %lld", (long long)axis);
    cr_assert_eq(s->d[1], d1, "axis %lld", (long long)axis);
    xb_test_end(&tg);
}

Test(flatten, axes_including_ends_and_negative) {
    expect(13, 99, 2, 60); /* default axis 1 */
    expect(9, 0, 1, 120);
    expect(13, 2, 6, 20);
    expect(13, 4, 120, 1);
    expect(11, -1, 24, 5);
    expect(13, -4, 1, 120);
}

Test(flatten, copies_values) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, 13, 3), XB_OK, "%s", tg.ctx.msg);
    float x[120];
    for (int i = 0; i < 120; i++) x[i] = (float)(i * 3 - 50);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 120; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    xb_test_end(&tg);
}

Test(flatten, axis_out_of_range) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, 13, 5), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "axis 5"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, -5), XB_ERR_INVALID);
    xb_test_end(&tg);
}
