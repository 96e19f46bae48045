#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int opset, xb_dtype dt, int ra, const int64_t *da,
                       int rb, const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Less", opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(less, f32_and_ints) {
    xb_test_graph tg;
    int64_t d[] = {4}, one[] = {1};
    cr_assert_eq(build(&tg, 7, XB_F32, 1, d, 1, one), XB_OK, "%s", tg.ctx.msg);
    float a[4] = {-1.0f, 0.0f, 1.0f, NAN}, b = 0.0f;
    const void *in[2] = {a, &b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 0);
    cr_assert_eq(y[2], 0);
    cr_assert_eq(y[3], 0, "NaN compares false");
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 9, XB_I8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int8_t a8[4] = {-128, 5, 127, 0}, b8[4] = {127, 5, -128, 1};
    const void *in8[2] = {a8, b8};
    y = xb_test_run(&tg, in8, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 1);
    cr_assert_eq(y[1], 0);
    cr_assert_eq(y[2], 0);
    cr_assert_eq(y[3], 1);
    xb_test_end(&tg);
}

Test(less, errors) {
    xb_test_graph tg;
    int64_t d[] = {2};
    /* integers came with opset 9; bool never */
    cr_assert_eq(build(&tg, 8, XB_I32, 1, d, 1, d), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 13, XB_BOOL, 1, d, 1, d), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
}
