#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, const char *op, int opset, xb_dtype dt, int ra,
                       const int64_t *da, int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, op, opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(greater_or_equal, f32_broadcast_nan_and_ints) {
    xb_test_graph tg;
    int64_t d[] = {4}, one[] = {1};
    cr_assert_eq(build(&tg, "GreaterOrEqual", 12, XB_F32, 1, d, 1, one), XB_OK, "%s", tg.ctx.msg);
    float a[4] = {1.0f, 0.0f, -1.0f, NAN}, b = 0.0f;
    const void *in[2] = {a, &b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const uint8_t wf[4] = {1,1,0,0};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], wf[i], "f32 element %d", i);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "GreaterOrEqual", 16, XB_I64, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int64_t a64[4] = {INT64_MIN, 5, INT64_MAX, 0}, b64[4] = {INT64_MAX, 5, INT64_MIN, 1};
    const void *in64[2] = {a64, b64};
    y = xb_test_run(&tg, in64, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const uint8_t wi[4] = {0,1,1,0};
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], wi[i], "i64 element %d", i);
    xb_test_end(&tg);
}

Test(greater_or_equal, errors) {
    xb_test_graph tg;
    int64_t d2[] = {2}, d3[] = {3};
    /* the op came with opset 12; bool is not comparable; shapes must broadcast */
    cr_assert_neq(build(&tg, "GreaterOrEqual", 11, XB_F32, 1, d2, 1, d2), XB_OK);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, "GreaterOrEqual", 12, XB_BOOL, 1, d2, 1, d2), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_neq(build(&tg, "GreaterOrEqual", 12, XB_F32, 1, d2, 1, d3), XB_OK);
    xb_test_end(&tg);
}
