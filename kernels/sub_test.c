#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status bin(xb_test_graph *tg, xb_dtype dt, int ra, const int64_t *da, int rb,
                     const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Sub", 14, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(sub, f32_order_matters_with_broadcast) {
    xb_test_graph tg;
    int64_t da[] = {3, 1}, db[] = {1, 2};
    cr_assert_eq(bin(&tg, XB_F32, 2, da, 2, db), XB_OK, "%s", tg.ctx.msg);
    float a[3] = {10, 20, 30}, b[2] = {1, 2};
    const void *in[2] = {a, b};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    float want[6] = {9, 8, 19, 18, 29, 28};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    xb_test_end(&tg);
}

Test(sub, scalar_minus_tensor_i64) {
    xb_test_graph tg;
    int64_t db[] = {3};
    cr_assert_eq(bin(&tg, XB_I64, 0, NULL, 1, db), XB_OK, "%s", tg.ctx.msg);
    int64_t a = 5, b[3] = {1, 10, INT64_MIN};
    const void *in[2] = {&a, b};
    int64_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 4);
    cr_assert_eq(y[1], -5);
    cr_assert_eq(y[2], (int64_t)((uint64_t)5 - (uint64_t)INT64_MIN)); /* wraps */
    xb_test_end(&tg);
}

Test(sub, i32_per_channel) {
    xb_test_graph tg;
    int64_t da[] = {1, 2, 2, 2}, db[] = {2, 1, 1};
    cr_assert_eq(bin(&tg, XB_I32, 4, da, 3, db), XB_OK, "%s", tg.ctx.msg);
    int32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[2] = {1, 100};
    const void *in[2] = {a, b};
    int32_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    int32_t want[8] = {0, 1, 2, 3, -95, -94, -93, -92};
    for (int i = 0; i < 8; i++) cr_assert_eq(y[i], want[i]);
    xb_test_end(&tg);
}

Test(sub, u8_wraps_below_zero) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(bin(&tg, XB_U8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t a[2] = {5, 1}, b[2] = {3, 2};
    const void *in[2] = {a, b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 2);
    cr_assert_eq(y[1], 255);
    xb_test_end(&tg);
}
