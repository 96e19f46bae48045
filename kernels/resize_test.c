/* Resize and Upsample (kernels/resample.c).  Expected values come from
 * PyTorch's F.interpolate on the same input, whose exports these settings
 * are: bilinear align_corners=False is pytorch_half_pixel, True is
 * align_corners, and "nearest" is asymmetric + floor. */
#include <criterion/criterion.h>

#include "tests/test_util.h"

static const int64_t xdims[4] = {1, 1, 2, 3};
static const float xv[6] = {1, 2, 4, 3, 7, 5};

typedef struct {
    int opset;
    const char *mode, *coord, *nearest;
    const float *scales; /* 4 values, or NULL */
    const int64_t *sizes; /* 4 values, or NULL */
    bool empty_roi;       /* opset 11: roi and scales as empty tensors */
} rs_case;

static xb_status build(xb_test_graph *tg, const rs_case *c) {
    xb_test_begin(tg);
    int in[4] = {xb_test_input(tg, "x", XB_F32, 4, xdims), -1, -1, -1};
    int n_in = 1;
    if (c->opset < 11) {
        in[1] = xb_test_const(tg, "scales", XB_F32, 1, (int64_t[]){4}, c->scales);
        n_in = 2;
    } else {
        if (c->empty_roi) {
            in[1] = xb_test_const(tg, "roi", XB_F32, 1, (int64_t[]){0}, NULL);
            in[2] = xb_test_const(tg, "noscales", XB_F32, 1, (int64_t[]){0}, NULL);
        }
        if (c->scales) in[2] = xb_test_const(tg, "scales", XB_F32, 1, (int64_t[]){4}, c->scales);
        n_in = 3;
        if (c->sizes)
            in[3] = xb_test_const(tg, "sizes", XB_I64, 1, (int64_t[]){4}, c->sizes), n_in = 4;
    }
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "Resize", c->opset, in, n_in, &y, 1);
    if (c->mode) xb_test_attr_str(tg, nd, "mode", c->mode);
    if (c->coord) xb_test_attr_str(tg, nd, "coordinate_transformation_mode", c->coord);
    if (c->nearest) xb_test_attr_str(tg, nd, "nearest_mode", c->nearest);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void expect(const rs_case *c, int64_t ho, int64_t wo, const float *want) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, c), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->rank == 4 && s->d[2] == ho && s->d[3] == wo, "got [%lld,%lld]",
              (long long)s->d[2], (long long)s->d[3]);
    float *y = xb_test_run1(&tg, xv);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int64_t i = 0; i < ho * wo; i++)
        cr_assert_float_eq(y[i], want[i], 1e-5f, "[%lld] = %g, want %g", (long long)i, y[i],
                           want[i]);
    xb_test_end(&tg);
}

static const int64_t to35[4] = {1, 1, 3, 5};
static const float twice[4] = {1, 1, 2, 2};

Test(resize, bilinear_like_pytorch) {
    const float half[15] = {1, 1.4f, 2, 3.2f, 4, 2, 3, 4.5f, 4.5f, 4.5f, 3, 4.6f, 7, 5.8f, 5};
    const float corners[15] = {1, 1.5f, 2, 3, 4, 2, 3.25f, 4.5f, 4.5f, 4.5f, 3, 5, 7, 6, 5};
    expect(&(rs_case){13, "linear", "pytorch_half_pixel", NULL, NULL, to35, false}, 3, 5, half);
    expect(&(rs_case){13, "linear", "half_pixel", NULL, NULL, to35, false}, 3, 5, half);
    expect(&(rs_case){11, "linear", "align_corners", NULL, NULL, to35, true}, 3, 5, corners);
}

Test(resize, nearest_like_pytorch) {
    const float up2[24] = {1, 1, 2, 2, 4, 4, 1, 1, 2, 2, 4, 4, 3, 3, 7, 7, 5, 5, 3, 3, 7, 7, 5, 5};
    const float s35[15] = {1, 1, 2, 2, 4, 1, 1, 2, 2, 4, 3, 3, 7, 7, 5};
    expect(&(rs_case){13, "nearest", "asymmetric", "floor", twice, NULL, false}, 4, 6, up2);
    expect(&(rs_case){13, "nearest", "asymmetric", "floor", NULL, to35, false}, 3, 5, s35);
    /* Resize-10: asymmetric, floor when enlarging. */
    expect(&(rs_case){10, "nearest", NULL, NULL, twice, NULL, false}, 4, 6, up2);
}

Test(resize, nearest_modes) {
    /* half_pixel, 3 -> 5 columns: x = (j + 0.5) * 0.6 - 0.5 = -0.2, 0.4, 1, 1.6, 2.2. */
    const int64_t to25[4] = {1, 1, 2, 5};
    const float rpf[10] = {1, 1, 2, 4, 4, 3, 3, 7, 5, 5};
    expect(&(rs_case){13, NULL, NULL, NULL, NULL, to25, false}, 2, 5, rpf);
    const float ceil_[10] = {1, 2, 2, 4, 4, 3, 7, 7, 5, 5};
    expect(&(rs_case){13, "nearest", "half_pixel", "ceil", NULL, to25, false}, 2, 5, ceil_);
    /* round_prefer_ceil at an exact half: 3 -> 6 asymmetric, x = j / 2. */
    const int64_t to26[4] = {1, 1, 2, 6};
    const float rpc[12] = {1, 2, 2, 4, 4, 4, 3, 7, 7, 5, 5, 5};
    expect(&(rs_case){13, "nearest", "asymmetric", "round_prefer_ceil", NULL, to26, false}, 2, 6,
           rpc);
}

static xb_status upsample(xb_test_graph *tg, int opset, const char *mode, const float *scales) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", XB_F32, 4, xdims), -1};
    if (opset >= 9) in[1] = xb_test_const(tg, "scales", XB_F32, 1, (int64_t[]){4}, scales);
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "Upsample", opset, in, opset >= 9 ? 2 : 1, &y, 1);
    xb_test_attr_str(tg, nd, "mode", mode);
    if (opset < 9) {
        xb_node *n = &tg->g->nodes[nd];
        n->attr = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof(xb_attr));
        xb_attr *a = &n->attr[n->n_attr++];
        memset(a, 0, sizeof *a);
        a->name = strdup("scales");
        a->type = XB_ATTR_FLOATS;
        a->n = 4;
        a->floats = malloc(4 * sizeof(float));
        memcpy(a->floats, scales, 4 * sizeof(float));
    }
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

Test(upsample, attribute_and_input_scales) {
    const float up2[24] = {1, 1, 2, 2, 4, 4, 1, 1, 2, 2, 4, 4, 3, 3, 7, 7, 5, 5, 3, 3, 7, 7, 5, 5};
    /* linear, asymmetric: x = j / 2 with the last column clamped. */
    const float lin[24] = {1, 1.5f, 2, 3, 4, 4, 2, 3.25f, 4.5f, 4.5f, 4.5f, 4.5f,
                           3, 5, 7, 6, 5, 5, 3, 5, 7, 6, 5, 5};
    for (int opset = 7; opset <= 9; opset += 2) {
        xb_test_graph tg;
        cr_assert_eq(upsample(&tg, opset, "nearest", twice), XB_OK, "%s", tg.ctx.msg);
        float *y = xb_test_run1(&tg, xv);
        cr_assert_not_null(y, "%s", tg.ctx.msg);
        for (int i = 0; i < 24; i++) cr_assert_eq(y[i], up2[i], "%d", i);
        xb_test_end(&tg);
        cr_assert_eq(upsample(&tg, opset, "linear", twice), XB_OK, "%s", tg.ctx.msg);
        y = xb_test_run1(&tg, xv);
        for (int i = 0; i < 24; i++) cr_assert_float_eq(y[i], lin[i], 1e-6f, "%d: %g", i, y[i]);
        xb_test_end(&tg);
    }
}

Test(resize, errors) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, &(rs_case){10, "cubic", NULL, NULL, twice, NULL, false}),
                 XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "cubic") && strstr(tg.ctx.msg, "Resize-10"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, &(rs_case){13, "linear", "tf_crop_and_resize", NULL, twice, NULL,
                                       false}),
                 XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, &(rs_case){13, NULL, NULL, NULL, twice, to35, false}), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "exactly one"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, &(rs_case){13, NULL, NULL, "nearest_odd", twice, NULL, false}),
                 XB_ERR_INVALID);
    xb_test_end(&tg);
    /* Scales fed as data cannot size the output. */
    xb_test_begin(&tg);
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 4, xdims), -1,
                 xb_test_input(&tg, "s", XB_F32, 1, (int64_t[]){4})};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Resize", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    cr_assert_eq(upsample(&tg, 10, "nearest", twice), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "deprecated"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* align_corners with a fractional scale * in: PyTorch (F.interpolate,
 * scale_factor = 0.5, align_corners = True) and the spec's "length of the
 * resized tensor" use the output size, here 2 for 5 * 0.5. */
Test(resize, align_corners_uses_the_output_length) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    const float half[1] = {0.5f};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 1, (int64_t[]){5}), -1,
                 xb_test_const(&tg, "scales", XB_F32, 1, (int64_t[]){1}, half)};
    int y = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "Resize", 13, in, 3, &y, 1);
    xb_test_attr_str(&tg, nd, "mode", "linear");
    xb_test_attr_str(&tg, nd, "coordinate_transformation_mode", "align_corners");
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y].shape.d[0], 2);
    const float x[5] = {1, 2, 3, 4, 10};
    float *yv = xb_test_run1(&tg, x);
    cr_assert_not_null(yv, "%s", tg.ctx.msg);
    cr_assert_float_eq(yv[0], 1.0f, 0.0f);
    cr_assert_float_eq(yv[1], 10.0f, 0.0f);
    xb_test_end(&tg);
}

/* Cubic along W (3 -> 6, half_pixel).  Expected values from an independent
 * transcription of ONNX's reference (onnx/backend/test/case/node/resize.py:
 * edge padding, the 4 nearest neighbours by distance, Keys' coefficients,
 * exclude_outside renormalising), in float64. */
Test(resize, cubic_like_the_onnx_reference) {
    static const float w2[4] = {1, 1, 1, 2};
    static const float def[12] = {0.89453125f, 1.15625f, 1.5625f, 2.55859375f, 3.58203125f,
                                  4.2109375f, 2.578125f, 3.9765625f, 6.3046875f, 6.96875f,
                                  5.59375f, 4.7890625f};
    static const float excl[12] = {0.911764681f, 1.14598536f, 1.6412214f, 2.51145029f,
                                   3.64233565f, 4.17647076f, 2.64705873f, 3.80291963f,
                                   6.2519083f, 6.83206129f, 5.46715307f, 4.82352924f};
    expect(&(rs_case){13, "cubic", NULL, NULL, w2, NULL, false}, 2, 6, def);
    /* cubic_coeff_a = -0.5 with exclude_outside */
    xb_test_graph tg;
    xb_test_begin(&tg);
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 4, xdims), -1,
                 xb_test_const(&tg, "scales", XB_F32, 1, (int64_t[]){4}, w2)};
    int y = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "Resize", 13, in, 3, &y, 1);
    xb_test_attr_str(&tg, nd, "mode", "cubic");
    xb_test_attr_float(&tg, nd, "cubic_coeff_a", -0.5f);
    xb_test_attr_int(&tg, nd, "exclude_outside", 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *out = xb_test_run1(&tg, xv);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < 12; i++)
        cr_assert_float_eq(out[i], excl[i], 1e-6f, "[%d] = %.9g, want %.9g", i, out[i], excl[i]);
    xb_test_end(&tg);
}
