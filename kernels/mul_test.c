#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status bin(xb_test_graph *tg, int opset, xb_dtype dt, int ra, const int64_t *da, int rb,
                     const int64_t *db) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "a", dt, ra, da), xb_test_input(tg, "b", dt, rb, db)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Mul", opset, in, 2, &y, 1);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(mul, f32_outer_product_by_broadcast) {
    xb_test_graph tg;
    int64_t da[] = {3, 1}, db[] = {4};
    cr_assert_eq(bin(&tg, 13, XB_F32, 2, da, 1, db), XB_OK, "%s", tg.ctx.msg);
    float a[3] = {1, -2, 0.5f}, b[4] = {1, 2, 3, 4};
    const void *in[2] = {a, b};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) cr_assert_float_eq(y[i * 4 + j], a[i] * b[j], 0.0f);
    xb_test_end(&tg);
}

Test(mul, i64_shape_arithmetic_and_wrap) {
    xb_test_graph tg;
    int64_t d[] = {3};
    cr_assert_eq(bin(&tg, 7, XB_I64, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int64_t a[3] = {8, -3, (int64_t)1 << 62}, b[3] = {3 * 32 * 32, 4, 4};
    const void *in[2] = {a, b};
    int64_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], 24576);
    cr_assert_eq(y[1], -12);
    cr_assert_eq(y[2], 0); /* 2^64 wraps to 0 */
    xb_test_end(&tg);
}

Test(mul, i32) {
    xb_test_graph tg;
    int64_t d[] = {2};
    cr_assert_eq(bin(&tg, 14, XB_I32, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    int32_t a[2] = {-7, 65536}, b = 65536;
    const void *in[2] = {a, &b};
    int32_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], -7 * 65536);
    cr_assert_eq(y[1], 0);
    xb_test_end(&tg);
}

Test(mul, i8_and_u8) {
    xb_test_graph tg;
    int64_t d[] = {3};
    cr_assert_eq(bin(&tg, 14, XB_I8, 1, d, 1, d), XB_OK, "%s", tg.ctx.msg);
    int8_t a[3] = {-3, 16, 100}, b[3] = {5, 8, 2};
    const void *in[2] = {a, b};
    int8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(y[0], -15);
    cr_assert_eq(y[1], -128); /* 128 wraps */
    cr_assert_eq(y[2], -56);  /* 200 - 256 */
    xb_test_end(&tg);
    cr_assert_eq(bin(&tg, 14, XB_U8, 1, d, 0, NULL), XB_OK, "%s", tg.ctx.msg);
    uint8_t au[3] = {3, 128, 255}, bu = 2;
    const void *inu[2] = {au, &bu};
    uint8_t *yu = xb_test_run(&tg, inu, 0);
    cr_assert_not_null(yu, "%s", tg.ctx.msg);
    cr_assert_eq(yu[0], 6);
    cr_assert_eq(yu[1], 0);
    cr_assert_eq(yu[2], 254);
    xb_test_end(&tg);
}
