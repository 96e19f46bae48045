#include <criterion/criterion.h>
#include <math.h>

#include "eval/preprocess.h"
#include "kernels/qmath.h"
#include "tests/test_util.h"

/* input [1,c,h,w] -> Flatten -> output [1, c*h*w], with metadata. */
static void model(xb_test_graph *tg, int c, int h, int w, const char *mean, const char *std,
                  const char *classes) {
    int64_t dims[4] = {1, c, h, w};
    xb_test_unary_begin(tg, "Flatten", 13, XB_F32, 4, dims);
    if (mean) xb_graph_set_meta(tg->g, "xbar.mean", mean, &tg->ctx);
    if (std) xb_graph_set_meta(tg->g, "xbar.std", std, &tg->ctx);
    if (classes) xb_graph_set_meta(tg->g, "xbar.classes", classes, &tg->ctx);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
}

Test(preprocess, per_channel_mean_std) {
    xb_test_graph tg;
    model(&tg, 3, 1, 2, "0.5,0.25,0", "0.5, 2, 0.1", NULL);
    xb_preproc p;
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(p.c, 3);
    cr_assert_eq(p.h, 1);
    cr_assert_eq(p.w, 2);
    cr_assert_eq(p.n_outputs, 6);
    cr_assert_str_eq(p.note, "");
    cr_assert_not(p.default_norm);
    uint8_t img[6] = {0, 255, 51, 102, 255, 0}; /* R plane, G plane, B plane */
    float out[6];
    cr_assert_eq(xb_preproc_check(&p, 3, 1, 2, "x", &tg.ctx), XB_OK);
    xb_preproc_image(&p, img, 3, out);
    double want[6] = {(0 - 0.5) / 0.5, (1 - 0.5) / 0.5, (0.2 - 0.25) / 2, (0.4 - 0.25) / 2,
                      1.0 / 0.1, 0.0};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(out[i], want[i], 1e-6, "%d: %f", i, out[i]);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(preprocess, defaults_broadcast_and_notes) {
    xb_test_graph tg;
    model(&tg, 3, 1, 1, NULL, NULL, NULL);
    xb_preproc p;
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert(p.default_norm);
    cr_assert(strstr(p.warning, "assuming mean 0, std 1") != NULL, "%s", p.warning);
    cr_assert_str_eq(p.note, "");
    uint8_t img[3] = {255, 0, 51};
    float out[3];
    xb_preproc_image(&p, img, 3, out);
    cr_assert_float_eq(out[0], 1.0, 1e-7);
    cr_assert_float_eq(out[2], 0.2, 1e-7);
    xb_preproc_free(&p);
    xb_test_end(&tg);

    model(&tg, 3, 1, 1, "0.5", "0.25", "a,b,c");
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    for (int k = 0; k < 3; k++) {
        cr_assert_float_eq(p.mean[k], 0.5, 0);
        cr_assert_float_eq(p.std[k], 0.25, 0);
    }
    cr_assert_eq(p.n_classes, 3);
    cr_assert_str_eq(xb_preproc_class(&p, 2), "c");
    cr_assert_null(xb_preproc_class(&p, 3));
    xb_preproc_free(&p);
    xb_test_end(&tg);

    model(&tg, 1, 1, 2, "0", "1", "a,b,c"); /* 2 outputs, 3 names */
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(p.n_classes, 0);
    cr_assert(strstr(p.note, "names 3 classes but the output has 2") != NULL, "%s", p.note);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(preprocess, bad_metadata) {
    const char *cases[][3] = {{"0.1,0.2", "1", "has 2 values"},
                              {"0", "0", "not a positive"},
                              {"x", "1", "not a finite"},
                              {"0", "-1,1,1", "not a positive"}};
    for (int i = 0; i < 4; i++) {
        xb_test_graph tg;
        model(&tg, 3, 2, 2, cases[i][0], cases[i][1], NULL);
        xb_preproc p;
        cr_assert_neq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK);
        cr_assert(strstr(tg.ctx.msg, cases[i][2]) != NULL, "%s", tg.ctx.msg);
        xb_preproc_free(&p);
        xb_test_end(&tg);
    }
}

Test(preprocess, grey_rgb_conversion_and_size_check) {
    xb_test_graph tg;
    model(&tg, 3, 1, 2, "0", "1", NULL);
    xb_preproc p;
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    uint8_t grey[2] = {51, 255};
    float out[6];
    cr_assert_eq(xb_preproc_check(&p, 1, 1, 2, "g", &tg.ctx), XB_OK);
    xb_preproc_image(&p, grey, 1, out);
    for (int k = 0; k < 3; k++) {
        cr_assert_float_eq(out[2 * k], 0.2, 1e-7);
        cr_assert_float_eq(out[2 * k + 1], 1.0, 1e-7);
    }
    cr_assert_neq(xb_preproc_check(&p, 3, 2, 2, "data.bin", &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "data.bin: images are 2x2") && strstr(tg.ctx.msg, "takes 2x1"),
              "%s", tg.ctx.msg);
    xb_preproc_free(&p);
    xb_test_end(&tg);

    model(&tg, 1, 1, 3, "0.5", "0.5", NULL);
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    /* pixels: pure red, pure green, pure blue */
    uint8_t rgb[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    float y[3];
    xb_preproc_image(&p, rgb, 3, y);
    double luma[3] = {0.299, 0.587, 0.114}; /* ITU-R BT.601 */
    for (int i = 0; i < 3; i++) cr_assert_float_eq(y[i], (luma[i] - 0.5) / 0.5, 1e-6);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(preprocess, flags_override_metadata) {
    xb_test_graph tg;
    model(&tg, 3, 1, 1, "0.5", "0.25", "a,b,c");
    xb_preproc p;
    xb_preproc_opts o = {.mean = "0.1,0.2,0.3", .std = "2"};
    cr_assert_eq(xb_preproc_init_opts(&p, tg.g, &o, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    /* the same parser as the metadata: double, then rounded to float */
    cr_assert_eq(p.mean[1], (float)0.2);
    cr_assert_eq(p.std[2], 2.0f);
    cr_assert_str_eq(p.warning, "");
    xb_preproc_free(&p);
    o = (xb_preproc_opts){.std = "0.5,x,1"};
    cr_assert_neq(xb_preproc_init_opts(&p, tg.g, &o, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "--std='0.5,x,1'"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* only a mean: a warning naming the std assumed */
    model(&tg, 1, 1, 1, NULL, NULL, NULL);
    o = (xb_preproc_opts){.mean = "0.5"};
    cr_assert_eq(xb_preproc_init_opts(&p, tg.g, &o, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert(strstr(p.warning, "no --std given: assuming std 1"), "%s", p.warning);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

Test(preprocess, channels_last_input) {
    /* [1, H=1, W=2, C=3]: detected (dim 1 cannot be 2 channels... it is 1
     * here, so --layout nhwc is needed) */
    xb_test_graph tg;
    model(&tg, 1, 2, 3, "0", "1", NULL); /* dims [1,1,2,3] */
    xb_preproc p;
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert(!p.nhwc && p.c == 1 && p.h == 2 && p.w == 3); /* NCHW reading wins when valid */
    xb_preproc_free(&p);
    xb_preproc_opts o = {.layout = XB_LAYOUT_NHWC};
    cr_assert_eq(xb_preproc_init_opts(&p, tg.g, &o, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert(p.nhwc && p.c == 3 && p.h == 1 && p.w == 2);
    uint8_t img[6] = {0, 255, 51, 102, 153, 204}; /* planar R, G, B of 2 pixels */
    float out[6];
    xb_preproc_image(&p, img, 3, out);
    /* interleaved: pixel 0 (R, G, B), pixel 1 (R, G, B) */
    const uint8_t want[6] = {0, 51, 153, 255, 102, 204};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(out[i], want[i] / 255.0, 1e-6, "%d", i);
    xb_preproc_free(&p);
    xb_test_end(&tg);
    /* [1, 4, 4, 3]: only the last dimension can be channels, detected */
    model(&tg, 4, 4, 3, NULL, NULL, NULL);
    cr_assert_eq(xb_preproc_init(&p, tg.g, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert(p.nhwc && p.c == 3 && p.h == 4 && p.w == 4);
    cr_assert(strstr(p.note, "channels-last"), "%s", p.note);
    xb_preproc_free(&p);
    xb_test_end(&tg);
}

/* The code table against the general path: every pixel value through
 * xb_preproc_image, then xb_quantize_u8 (what a quantizing first layer
 * does), for 1 and 3 channels, grey into RGB, channels last, and scales,
 * zero points and bit widths of several kinds; RGB into grey has none. */
Test(preprocess, code_table_matches_float_then_quantize) {
    static const struct {
        int c, src_c;
        bool nhwc;
        float mean[3], std[3];
    } pcs[] = {{1, 1, false, {0.1307f, 0, 0}, {0.3081f, 1, 1}},
               {3, 3, false, {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}},
               {3, 1, false, {0.5f, 0.25f, 0.0f}, {0.5f, 0.3f, 1.0f}},
               {3, 3, true, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}}};
    static const struct {
        float scale;
        int32_t zp, bits;
    } qs[] = {{0.01273f, 33, 8}, {0.0209f, 128, 8}, {1.0f / 255.0f, 0, 8}, {0.1f, 3, 4},
              {0.007f, 255, 8}, {0.5f, 1, 2}};
    uint8_t img[3 * 256], codes[3 * 256], want[3 * 256];
    float x[3 * 256];
    /* every value in every plane */
    for (int i = 0; i < 3 * 256; i++) img[i] = (uint8_t)(i * 7 + i / 256);
    for (size_t a = 0; a < sizeof pcs / sizeof pcs[0]; a++)
        for (size_t b = 0; b < sizeof qs / sizeof qs[0]; b++) {
            xb_preproc p = {.c = pcs[a].c, .h = 16, .w = 16, .nhwc = pcs[a].nhwc};
            for (int k = 0; k < 3; k++) p.mean[k] = pcs[a].mean[k], p.std[k] = pcs[a].std[k];
            const int32_t hi = (1 << qs[b].bits) - 1, n = p.c * 256;
            uint8_t tab[XB_PP_MAX_CHANNELS][256];
            cr_assert(xb_preproc_code_table(&p, pcs[a].src_c, qs[b].scale, qs[b].zp, hi, tab));
            xb_preproc_image(&p, img, pcs[a].src_c, x);
            xb_quantize_u8(x, n, qs[b].scale, qs[b].zp, hi, want);
            xb_preproc_image_codes(&p, (const uint8_t(*)[256])tab, img, pcs[a].src_c, codes);
            for (int i = 0; i < n; i++)
                cr_assert_eq(codes[i], want[i], "case %zu/%zu element %d: %d, want %d", a, b, i,
                             codes[i], want[i]);
        }
    xb_preproc p = {.c = 1, .h = 16, .w = 16, .mean = {0}, .std = {1}};
    uint8_t tab[XB_PP_MAX_CHANNELS][256];
    cr_assert(!xb_preproc_code_table(&p, 3, 0.01f, 0, 255, tab));
}
