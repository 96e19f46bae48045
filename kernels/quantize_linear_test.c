#include <criterion/criterion.h>
#include <math.h>

#include "tests/test_util.h"

/* x -> QuantizeLinear(scale, zp) -> y; scale/zp constants or graph inputs. */
static void build(xb_test_graph *tg, int opset, xb_dtype xdt, int rank, const int64_t *xd,
                  int srank, int64_t ns, const float *scale, xb_dtype zdt, const void *zp,
                  bool as_inputs, int64_t axis) {
    xb_test_begin(tg);
    int64_t sd[1] = {ns};
    int in[3];
    in[0] = xb_test_input(tg, "x", xdt, rank, xd);
    if (as_inputs) {
        in[1] = xb_test_input(tg, "s", XB_F32, srank, sd);
        in[2] = zdt != XB_UNDEF ? xb_test_input(tg, "z", zdt, srank, sd) : -1;
    } else {
        in[1] = xb_test_const(tg, "s", XB_F32, srank, sd, scale);
        in[2] = zdt != XB_UNDEF ? xb_test_const(tg, "z", zdt, srank, sd, zp) : -1;
    }
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "QuantizeLinear", opset, in, zdt != XB_UNDEF ? 3 : 2, &y, 1);
    if (axis != 99) xb_test_attr_int(tg, node, "axis", axis);
    xb_test_output(tg, y);
}

Test(quantize_linear, onnx_example_scalar) {
    /* onnx/backend/test/case/node/quantizelinear.py: 3/2 = 1.5 rounds to 2. */
    int64_t xd[1] = {6};
    float x[6] = {0, 2, 3, 1000, -254, -1000}, s = 2;
    uint8_t z = 128, want[6] = {128, 129, 130, 255, 1, 0};
    xb_test_graph tg;
    build(&tg, 13, XB_F32, 1, xd, 0, 1, &s, XB_U8, &z, false, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_U8);
    uint8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) cr_assert_eq(y[i], want[i], "i=%d: %d", i, y[i]);
    xb_test_end(&tg);
}

Test(quantize_linear, onnx_example_axis_with_inputs) {
    /* quantizelinear.py export_axis, scale and zero point fed as inputs. */
    int64_t xd[4] = {1, 3, 3, 2};
    float x[18] = {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252,
                   32,   -44, 245, -485, -960, -270, -375, -470};
    float s[3] = {2, 4, 5};
    uint8_t z[3] = {84, 24, 196};
    uint8_t want[18] = {3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102};
    xb_test_graph tg;
    build(&tg, 13, XB_F32, 4, xd, 1, 3, NULL, XB_U8, NULL, true, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *in[3] = {x, s, z};
    uint8_t *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 18; i++) cr_assert_eq(y[i], want[i], "i=%d: %d", i, y[i]);
    xb_test_end(&tg);
}

Test(quantize_linear, ties_to_even_int8_saturation_nan) {
    int64_t xd[1] = {10};
    float x[10] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 300, -300, NAN, -127.5f};
    float s = 1;
    int8_t z = 0, want[10] = {0, 2, 2, 0, -2, -2, 127, -128, -128, -128};
    xb_test_graph tg;
    build(&tg, 13, XB_F32, 1, xd, 1, 1, &s, XB_I8, &z, false, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_I8);
    int8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 10; i++) cr_assert_eq(y[i], want[i], "i=%d: %d", i, y[i]);
    xb_test_end(&tg);
}

Test(quantize_linear, int32_input_and_absent_zero_point) {
    /* No zero point: u8 output, zp 0.  i32 x: 7/2 = 3.5 -> 4, 5/2 -> 2. */
    int64_t xd[1] = {5};
    int32_t x[5] = {7, 5, -3, 1000, 100};
    float s = 2;
    uint8_t want[5] = {4, 2, 0, 255, 50};
    xb_test_graph tg;
    build(&tg, 10, XB_I32, 1, xd, 0, 1, &s, XB_UNDEF, NULL, false, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_U8);
    uint8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 5; i++) cr_assert_eq(y[i], want[i], "i=%d: %d", i, y[i]);
    xb_test_end(&tg);
}

Test(quantize_linear, random_per_axis_negative_axis) {
    /* axis = -2 on [2,3,4,5] is axis 2 (4 channels).  Expected values from
     * coordinates, independently of the kernel's outer/C/inner walk. */
    int64_t xd[4] = {2, 3, 4, 5};
    float x[120], s[4] = {0.1f, 0.37f, 1.0f, 0.013f};
    int8_t z[4] = {-5, 0, 17, 100};
    uint64_t r = 12345;
    for (int i = 0; i < 120; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((int64_t)(r >> 40) % 4000 - 2000) / 37.0f;
    }
    xb_test_graph tg;
    build(&tg, 13, XB_F32, 4, xd, 1, 4, s, XB_I8, z, false, -2);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 5; d++) {
                    int i = ((a * 3 + b) * 4 + c) * 5 + d;
                    float v = nearbyintf(x[i] / s[c]) + (float)z[c];
                    int want = v < -128 ? -128 : v > 127 ? 127 : (int)v;
                    cr_assert_eq(y[i], want, "i=%d", i);
                }
    xb_test_end(&tg);
}

Test(quantize_linear, rejects_per_axis_before_13_and_bad_shapes) {
    int64_t xd[2] = {2, 3};
    float s[3] = {1, 1, 1};
    uint8_t z[3] = {0};
    xb_test_graph tg;
    build(&tg, 10, XB_F32, 2, xd, 1, 3, s, XB_U8, z, false, 99);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "opset 13") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* 3 scales along axis 0 of length 2 */
    build(&tg, 13, XB_F32, 2, xd, 1, 3, s, XB_U8, z, false, 0);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "per-axis") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
