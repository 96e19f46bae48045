#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

static xb_status bin(xb_test_graph *tg, xb_dtype dt, int ra, const int64_t *da, int rb,
                     const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Div", 14, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(div, f32_with_broadcast_and_ieee_zero) {
    xb_test_graph tg;
    int64_t da[] = {2, 2}, db[] = {2};
    cr_assert_eq(bin(&tg, XB_F32, 2, da, 1, db), XB_OK, "%s", tg.ctx.msg);
    float a[4] = {1, 3, -4, 0}, b[2] = {2, 0};
    const void *in[2] = {a, b};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.5f, 0.0f);
    cr_assert(isinf(y[1]) && y[1] > 0);
    cr_assert_float_eq(y[2], -2.0f, 0.0f);
    cr_assert(isnan(y[3]));
    xb_test_end(&tg);
}

Test(div, ints_truncate_toward_zero) {
    xb_test_graph tg;
    int64_t d[] = {5};
    cr_assert_eq(bin(&tg, XB_I64, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int64_t a[5] = {7, -7, 7, -7, INT64_MIN}, b[5] = {2, 2, -2, -2, -1};
    const void *in[2] = {a, b};
    int64_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    int64_t want[5] = {3, -3, -3, 3, INT64_MIN};
    for (int i = 0; i < 5; i++) cr_assert_eq(y[i], want[i], "at %d", i);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, XB_I32, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int32_t a32[5] = {9, -9, 0, INT32_MIN, 1}, b32 = -1;
    const void *in32[2] = {a32, &b32};
    int32_t *y32 = xb_test_run(&tg, in32, 0);
    cr_assert_not_null(y32, "%s", tg.ctx.msg);
    int32_t w32[5] = {-9, 9, 0, INT32_MIN, -1};
    for (int i = 0; i < 5; i++) cr_assert_eq(y32[i], w32[i], "at %d", i);
    xb_test_end(&tg);
}

Test(div, integer_division_by_zero_is_runtime_error) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(bin(&tg, XB_I32, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int32_t a[2] = {1, 2}, b[2] = {1, 0};
    const void *in[2] = {a, b};
    cr_assert_null(xb_test_run(&tg, in, 0));
    cr_assert_eq(tg.ctx.status, XB_ERR_RUNTIME);
    cr_assert(strstr(tg.ctx.msg, "division by zero") && strstr(tg.ctx.msg, "Div"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(div, u8_and_i8) {
    xb_test_graph tg;
    int64_t d[] = {3};
    cr_assert_eq(bin(&tg, XB_U8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    uint8_t a[3] = {255, 7, 0}, b[3] = {2, 7, 3};
    const void *in[2] = {a, b};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 127);
    cr_assert_eq(y[1], 1);
    cr_assert_eq(y[2], 0);
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, XB_I8, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int8_t a8[3] = {-128, 7, -7}, b8 = -1;
    const void *in8[2] = {a8, &b8};
    int8_t *y8 = xb_test_run(&tg, in8, 0);
    cr_assert_not_null(y8, "%s", tg.ctx.msg);
    cr_assert_eq(y8[0], -128);
    cr_assert_eq(y8[1], -7);
    cr_assert_eq(y8[2], 7);
    xb_test_end(&tg);
}
