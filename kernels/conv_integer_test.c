#include <criterion/criterion.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void onnx_case(bool padded, const int32_t *want, int64_t ho) {
    uint8_t x[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10}, xz = 1, w[4] = {1, 1, 1, 1};
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, one[1] = {1};
    int in[3] = {xb_test_input(&tg, "x", XB_U8, 4, xd), xb_test_input(&tg, "w", XB_U8, 4, wd),
                 xb_test_input(&tg, "xz", XB_U8, 0, one)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "ConvInteger", 10, in, 3, &y, 1);
    if (padded) {
        int64_t pads[4] = {1, 1, 1, 1};
        xb_test_attr_ints(&tg, node, "pads", 4, pads);
    }
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].dtype, XB_I32);
    const void *ins[3] = {x, w, &xz};
    int32_t *out = xb_test_run(&tg, ins, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < ho * ho; i++) cr_assert_eq(out[i], want[i], "i=%d: %d", i, out[i]);
    xb_test_end(&tg);
}

Test(conv_integer, onnx_examples) {
    /* convinteger.py: without and with padding (padding contributes x_zero_point, i.e. 0). */
    int32_t a[4] = {12, 16, 24, 28};
    onnx_case(false, a, 2);
    int32_t b[16] = {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9};
    onnx_case(true, b, 4);
}

Test(conv_integer, random_signedness_per_channel_zero_points) {
    /* x i8 / w u8 with a zero point per output channel, and the reverse,
     * dilation 2 and SAME_UPPER padding (odd total pad goes at the end). */
    for (int t = 0; t < 2; t++) {
        xb_dtype xdt = t ? XB_I8 : XB_U8, wdt = t ? XB_U8 : XB_I8;
        const int64_t C = 3, H = 7, W = 6, M = 5, KH = 3, KW = 3, D = 2;
        /* SAME_UPPER, stride 1: out = in, total pad = (k-1)*d = 4 -> 2 + 2 */
        const int64_t pt = 2, pl = 2;
        uint64_t seed = 77 + (uint64_t)t;
        uint8_t x[3 * 7 * 6], w[5 * 3 * 9], wz[5], xz = (uint8_t)rng_next(&seed);
        for (size_t i = 0; i < sizeof x; i++) x[i] = (uint8_t)rng_next(&seed);
        for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)rng_next(&seed);
        for (int i = 0; i < 5; i++) wz[i] = (uint8_t)rng_next(&seed);
#define V(dt, v) ((dt) == XB_U8 ? (int64_t)(uint8_t)(v) : (int64_t)(int8_t)(v))
        int32_t want[5 * 7 * 6];
        for (int64_t m = 0; m < M; m++)
            for (int64_t oy = 0; oy < H; oy++)
                for (int64_t ox = 0; ox < W; ox++) {
                    int64_t acc = 0;
                    for (int64_t c = 0; c < C; c++)
                        for (int64_t i = 0; i < KH; i++)
                            for (int64_t j = 0; j < KW; j++) {
                                int64_t iy = oy - pt + i * D, ix = ox - pl + j * D;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                acc += (V(xdt, x[(c * H + iy) * W + ix]) - V(xdt, xz)) *
                                       (V(wdt, w[((m * C + c) * KH + i) * KW + j]) - V(wdt, wz[m]));
                            }
                    want[(m * H + oy) * W + ox] = (int32_t)acc;
                }
#undef V
        xb_test_graph tg;
        xb_test_begin(&tg);
        int64_t xd[4] = {1, C, H, W}, wd[4] = {M, C, KH, KW}, one[1] = {1}, md[1] = {M};
        int in[4] = {xb_test_input(&tg, "x", xdt, 4, xd), xb_test_const(&tg, "w", wdt, 4, wd, w),
                     xb_test_const(&tg, "xz", xdt, 0, one, &xz), xb_test_const(&tg, "wz", wdt, 1, md, wz)};
        int y = xb_test_tensor(&tg, "y");
        int node = xb_test_node(&tg, "ConvInteger", 10, in, 4, &y, 1);
        int64_t dil[2] = {D, D};
        xb_test_attr_ints(&tg, node, "dilations", 2, dil);
        xb_test_attr_str(&tg, node, "auto_pad", "SAME_UPPER");
        xb_test_output(&tg, y);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        int32_t *out = xb_test_run1(&tg, x);
        cr_assert_not_null(out, "%s", tg.ctx.msg);
        for (int i = 0; i < M * H * W; i++) cr_assert_eq(out[i], want[i], "t=%d i=%d", t, i);
        xb_test_end(&tg);
    }
}

Test(conv_integer, rejects_zero_point_type_mismatch) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 1, 2, 2}, wd[4] = {1, 1, 1, 1}, one[1] = {1};
    int8_t z = 0;
    uint8_t w = 1;
    int in[3] = {xb_test_input(&tg, "x", XB_U8, 4, xd), xb_test_const(&tg, "w", XB_U8, 4, wd, &w),
                 xb_test_const(&tg, "xz", XB_I8, 0, one, &z)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "ConvInteger", 10, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "x_zero_point") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* Fuzz finding 13: a stride far beyond the input (2^20 over a 60-wide
 * image, one output) is capped at the padded extent, so the strided phase
 * planes stay the input's size (they were 2^20 phases of 256 channels, a
 * gigabyte and half a minute per image) and the one output is unchanged. */
Test(conv_integer, huge_stride_one_output) {
    enum { C = 256, H = 4, W = 60 };
    static uint8_t x[C * H * W], w[C * H * W];
    uint64_t seed = 13;
    int64_t want = 0;
    for (int i = 0; i < C * H * W; i++) {
        x[i] = (uint8_t)(rng_next(&seed) & 7);
        w[i] = (uint8_t)(rng_next(&seed) & 7);
        want += (int64_t)x[i] * w[i];
    }
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[4] = {1, C, H, W};
    int in[2] = {xb_test_input(&tg, "x", XB_U8, 4, d), xb_test_const(&tg, "w", XB_U8, 4, d, w)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "ConvInteger", 10, in, 2, &y, 1);
    xb_test_attr_ints(&tg, node, "strides", 2, (int64_t[]){100, (int64_t)1 << 20});
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_shape_numel(&tg.g->tensors[y].shape), 1);
    cr_assert_lt(tg.g->nodes[node].scratch_bytes, (size_t)4 << 20, "scratch %zu bytes",
                 tg.g->nodes[node].scratch_bytes);
    int32_t *out = xb_test_run1(&tg, x);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    cr_assert_eq(out[0], (int32_t)want, "%d, want %lld", out[0], (long long)want);
    xb_test_end(&tg);
}
