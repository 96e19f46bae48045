#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

Test(qlinear_conv, onnx_example) {
    /* onnx/backend/test/case/node/qlinearconv.py, inputs fed as graph
     * inputs the way the node test does. */
    static const uint8_t x[49] = {255, 174, 162, 25,  203, 168, 58,  15,  59,  237, 95,  129, 0,
                                  64,  56,  242, 153, 221, 168, 12,  166, 232, 178, 186, 195, 237,
                                  162, 237, 188, 39,  124, 77,  80,  102, 43,  127, 230, 21,  83,
                                  41,  40,  134, 255, 154, 92,  141, 42,  148, 247};
    static const uint8_t want[49] = {0,   81,  93,  230, 52,  87,  197, 240, 196, 18,  160, 126, 255,
                                     191, 199, 13,  102, 34,  87,  243, 89,  23,  77,  69,  60,  18,
                                     93,  18,  67,  216, 131, 178, 175, 153, 212, 128, 25,  234, 172,
                                     214, 215, 121, 0,   101, 163, 114, 213, 107, 8};
    float xs = 0.00369204697f, ws = 0.00172794575f, ys = 0.00162681262f;
    uint8_t xz = 132, w = 0, wz = 255, yz = 123;
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 1, 7, 7}, wd[4] = {1, 1, 1, 1}, one[1] = {1};
    int in[8] = {xb_test_input(&tg, "x", XB_U8, 4, xd),     xb_test_input(&tg, "xs", XB_F32, 0, one),
                 xb_test_input(&tg, "xz", XB_U8, 0, one),   xb_test_input(&tg, "w", XB_U8, 4, wd),
                 xb_test_input(&tg, "ws", XB_F32, 1, one),  xb_test_input(&tg, "wz", XB_U8, 1, one),
                 xb_test_input(&tg, "ys", XB_F32, 0, one),  xb_test_input(&tg, "yz", XB_U8, 0, one)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "QLinearConv", 10, in, 8, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *ins[8] = {x, &xs, &xz, &w, &ws, &wz, &ys, &yz};
    uint8_t *out = xb_test_run(&tg, ins, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < 49; i++) cr_assert_eq(out[i], want[i], "i=%d: %d vs %d", i, out[i], want[i]);
    xb_test_end(&tg);
}

/* Random QLinearConv against a direct loop: signed/unsigned x, w and y,
 * per-channel w scale and zero point, bias, groups, stride and padding. */
static void random_case(xb_dtype xdt, xb_dtype wdt, xb_dtype ydt, uint64_t seed) {
    const int64_t Nb = 2, C = 4, H = 6, W = 5, M = 6, G = 2, KH = 3, KW = 2;
    const int64_t pt = 1, pl = 0, pb = 2, pr = 1, sh = 2, sw = 1;
    const int64_t HO = (H + pt + pb - KH) / sh + 1, WO = (W + pl + pr - KW) / sw + 1;
    const int64_t Cg = C / G, Mg = M / G;
    uint8_t x[2 * 4 * 6 * 5], w[6 * 2 * 3 * 2], wz[6];
    float ws[6];
    int32_t bias[6];
    for (size_t i = 0; i < sizeof x; i++) x[i] = (uint8_t)rng_next(&seed);
    for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)rng_next(&seed);
    for (int i = 0; i < M; i++) {
        wz[i] = (uint8_t)rng_next(&seed);
        ws[i] = 0.001f + (float)(rng_next(&seed) % 1000) * 1e-5f;
        bias[i] = (int32_t)(rng_next(&seed) % 20001) - 10000;
    }
    uint8_t xz = (uint8_t)rng_next(&seed), yz = (uint8_t)rng_next(&seed);
    float xs = 0.02f, ys = 0.3f;
    /* reads as the declared types */
#define XV(i) (xdt == XB_U8 ? (int)x[i] : (int)(int8_t)x[i])
#define WV(i) (wdt == XB_U8 ? (int)w[i] : (int)(int8_t)w[i])
    int xzv = xdt == XB_U8 ? xz : (int8_t)xz, yzv = ydt == XB_U8 ? yz : (int8_t)yz;
    int lo = ydt == XB_U8 ? 0 : -128, hi = ydt == XB_U8 ? 255 : 127;
    int want[2 * 6 * 4 * 5];
    for (int64_t b = 0; b < Nb; b++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oy = 0; oy < HO; oy++)
                for (int64_t ox = 0; ox < WO; ox++) {
                    int64_t g = m / Mg, acc = bias[m];
                    int wzv = wdt == XB_U8 ? wz[m] : (int8_t)wz[m];
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t i = 0; i < KH; i++)
                            for (int64_t j = 0; j < KW; j++) {
                                int64_t iy = oy * sh - pt + i, ix = ox * sw - pl + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                int64_t xi = ((b * C + g * Cg + c) * H + iy) * W + ix;
                                int64_t wi = ((m * Cg + c) * KH + i) * KW + j;
                                acc += (int64_t)(XV(xi) - xzv) * (WV(wi) - wzv);
                            }
                    float mult = xs * ws[m] / ys;
                    double v = nearbyint((double)acc * (double)mult) + yzv;
                    want[((b * M + m) * HO + oy) * WO + ox] = v < lo ? lo : v > hi ? hi : (int)v;
                }
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {Nb, C, H, W}, wd[4] = {M, Cg, KH, KW}, one[1] = {1}, md[1] = {M};
    int in[9] = {xb_test_input(&tg, "x", xdt, 4, xd),        xb_test_const(&tg, "xs", XB_F32, 0, one, &xs),
                 xb_test_const(&tg, "xz", xdt, 0, one, &xz), xb_test_const(&tg, "w", wdt, 4, wd, w),
                 xb_test_const(&tg, "ws", XB_F32, 1, md, ws), xb_test_const(&tg, "wz", wdt, 1, md, wz),
                 xb_test_const(&tg, "ys", XB_F32, 0, one, &ys), xb_test_const(&tg, "yz", ydt, 0, one, &yz),
                 xb_test_const(&tg, "b", XB_I32, 1, md, bias)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "QLinearConv", 10, in, 9, &y, 1);
    int64_t pads[4] = {pt, pl, pb, pr}, strides[2] = {sh, sw};
    xb_test_attr_ints(&tg, node, "pads", 4, pads);
    xb_test_attr_ints(&tg, node, "strides", 2, strides);
    xb_test_attr_int(&tg, node, "group", G);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].dtype, ydt);
    void *out = xb_test_run1(&tg, x);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int64_t i = 0; i < Nb * M * HO * WO; i++) {
        int got = ydt == XB_U8 ? ((uint8_t *)out)[i] : ((int8_t *)out)[i];
        cr_assert_eq(got, want[i], "types %d%d%d i=%lld: %d vs %d", xdt, wdt, ydt, (long long)i,
                     got, want[i]);
    }
    xb_test_end(&tg);
#undef XV
#undef WV
}

Test(qlinear_conv, random_all_signedness_combinations) {
    xb_dtype t[2] = {XB_U8, XB_I8};
    uint64_t seed = 5;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++) random_case(t[a], t[b], t[c], seed++);
}

Test(qlinear_conv, rejects_per_channel_x_scale) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {1, 2, 1, 1}, one[1] = {1}, two[1] = {2};
    float s2[2] = {1, 1}, s = 1;
    uint8_t z2[2] = {0, 0}, z = 0, w[2] = {1, 1};
    int in[8] = {xb_test_input(&tg, "x", XB_U8, 4, xd),      xb_test_const(&tg, "xs", XB_F32, 1, two, s2),
                 xb_test_const(&tg, "xz", XB_U8, 1, two, z2), xb_test_const(&tg, "w", XB_U8, 4, wd, w),
                 xb_test_const(&tg, "ws", XB_F32, 0, one, &s), xb_test_const(&tg, "wz", XB_U8, 0, one, &z),
                 xb_test_const(&tg, "ys", XB_F32, 0, one, &s), xb_test_const(&tg, "yz", XB_U8, 0, one, &z)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "QLinearConv", 10, in, 8, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "x_scale") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
