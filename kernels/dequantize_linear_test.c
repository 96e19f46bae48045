#include <criterion/criterion.h>

#include "tests/test_util.h"

static void build(xb_test_graph *tg, xb_dtype xdt, int rank, const int64_t *xd, int srank,
                  int64_t ns, const float *scale, const void *zp, int64_t axis) {
    xb_test_begin(tg);
    int64_t sd[1] = {ns};
    int in[3];
    in[0] = xb_test_input(tg, "x", xdt, rank, xd);
    in[1] = xb_test_const(tg, "s", XB_F32, srank, sd, scale);
    in[2] = zp ? xb_test_const(tg, "z", xdt, srank, sd, zp) : -1;
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "DequantizeLinear", 13, in, zp ? 3 : 2, &y, 1);
    if (axis != 99) xb_test_attr_int(tg, node, "axis", axis);
    xb_test_output(tg, y);
}

Test(dequantize_linear, onnx_example_scalar) {
    int64_t xd[1] = {4};
    uint8_t x[4] = {0, 3, 128, 255}, z = 128;
    float s = 2, want[4] = {-256, -250, 0, 254};
    xb_test_graph tg;
    build(&tg, XB_U8, 1, xd, 0, 1, &s, &z, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 4; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    xb_test_end(&tg);
}

Test(dequantize_linear, per_axis_int8) {
    /* [2,3] with axis 1: column c uses scale s[c], zero point z[c]. */
    int64_t xd[2] = {2, 3};
    int8_t x[6] = {-128, 0, 127, 5, -5, 1}, z[3] = {-1, 2, 127};
    float s[3] = {0.5f, 3.0f, 0.25f};
    float want[6] = {(-128 + 1) * 0.5f, (0 - 2) * 3.0f, 0.0f, (5 + 1) * 0.5f, (-5 - 2) * 3.0f,
                     (1 - 127) * 0.25f};
    xb_test_graph tg;
    build(&tg, XB_I8, 2, xd, 1, 3, s, z, 1);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "i=%d", i);
    xb_test_end(&tg);
}

Test(dequantize_linear, int32_without_zero_point) {
    /* The i32 form dequantizes biases: y = x * scale. */
    int64_t xd[1] = {3};
    int32_t x[3] = {-100000, 0, 123456};
    float s = 0.001f;
    xb_test_graph tg;
    build(&tg, XB_I32, 1, xd, 0, 1, &s, NULL, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], -100000.0f * 0.001f, 0.0f);
    cr_assert_float_eq(y[1], 0.0f, 0.0f);
    cr_assert_float_eq(y[2], 123456.0f * 0.001f, 0.0f);
    xb_test_end(&tg);
}

Test(dequantize_linear, rejects_mismatched_zero_point_type) {
    int64_t xd[1] = {3};
    float s = 1;
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t sd[1] = {1};
    int8_t z = 0;
    int in[3] = {xb_test_input(&tg, "x", XB_U8, 1, xd), xb_test_const(&tg, "s", XB_F32, 0, sd, &s),
                 xb_test_const(&tg, "z", XB_I8, 0, sd, &z)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "DequantizeLinear", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "zero point") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
