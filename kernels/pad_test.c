#include <criterion/criterion.h>

#include "tests/test_util.h"

static const float X23[6] = {1, 2, 3, 4, 5, 6};

/* Opset >= 11 form: pads (const input) and optional constant value input
 * (has_value: 1 const, 2 fed at run time). */
static xb_status build11(xb_test_graph *tg, int opset, const char *mode, int r, const int64_t *dims,
                         const int64_t *pads, int has_value, float value) {
    xb_test_begin(tg);
    int64_t pd[1] = {2 * r};
    int in[3] = {xb_test_input(tg, "x", XB_F32, r, dims), xb_test_const(tg, "pads", XB_I64, 1, pd, pads),
                 -1};
    if (has_value == 1) in[2] = xb_test_const(tg, "v", XB_F32, 0, NULL, &value);
    if (has_value == 2) in[2] = xb_test_input(tg, "v", XB_F32, 0, NULL);
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Pad", opset, in, has_value ? 3 : 2, &y, 1);
    if (mode) xb_test_attr_str(tg, node, "mode", mode);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void expect_out(xb_test_graph *tg, const float *x, const void *v, int rows, int cols,
                       const float *want) {
    const xb_shape *s = &tg->g->tensors[tg->g->outputs[0]].shape;
    cr_assert_eq(s->d[0], rows);
    cr_assert_eq(s->d[1], cols);
    const void *in[2] = {x, v};
    float *y = xb_test_run(tg, in, 0);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    for (int i = 0; i < rows * cols; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "at %d", i);
}

Test(pad, constant_input_form) {
    xb_test_graph tg;
    int64_t d[] = {2, 3};
    int64_t pads[] = {0, 1, 1, 2};
    cr_assert_eq(build11(&tg, 13, NULL, 2, d, pads, 1, 9.0f), XB_OK, "%s", tg.ctx.msg);
    float want[18] = {9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9, 9, 9, 9, 9, 9, 9};
    expect_out(&tg, X23, NULL, 3, 6, want);
    xb_test_end(&tg);
    /* default value 0 when the input is absent; value fed at run time */
    cr_assert_eq(build11(&tg, 11, "constant", 2, d, pads, 0, 0), XB_OK, "%s", tg.ctx.msg);
    float want0[18] = {0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_out(&tg, X23, NULL, 3, 6, want0);
    xb_test_end(&tg);
    cr_assert_eq(build11(&tg, 13, "constant", 2, d, pads, 2, 0), XB_OK, "%s", tg.ctx.msg);
    float v = -1.5f;
    float wantv[18] = {v, 1, 2, 3, v, v, v, 4, 5, 6, v, v, v, v, v, v, v, v};
    expect_out(&tg, X23, &v, 3, 6, wantv);
    xb_test_end(&tg);
}

Test(pad, reflect_and_edge) {
    xb_test_graph tg;
    int64_t d[] = {2, 3};
    int64_t pr[] = {1, 2, 1, 2};
    cr_assert_eq(build11(&tg, 13, "reflect", 2, d, pr, 0, 0), XB_OK, "%s", tg.ctx.msg);
    /* np.pad(x, ((1,1),(2,2)), mode='reflect') */
    float wr[28] = {6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1,
                    6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1};
    expect_out(&tg, X23, NULL, 4, 7, wr);
    xb_test_end(&tg);
    int64_t pe[] = {1, 1, 0, 2};
    cr_assert_eq(build11(&tg, 13, "edge", 2, d, pe, 0, 0), XB_OK, "%s", tg.ctx.msg);
    /* np.pad(x, ((1,0),(1,2)), mode='edge') */
    float we[18] = {1, 1, 2, 3, 3, 3, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6};
    expect_out(&tg, X23, NULL, 3, 6, we);
    xb_test_end(&tg);
}

Test(pad, negative_pads_crop) {
    xb_test_graph tg;
    int64_t d[] = {2, 3};
    int64_t pc[] = {0, -1, 0, 1};
    cr_assert_eq(build11(&tg, 13, "constant", 2, d, pc, 0, 0), XB_OK, "%s", tg.ctx.msg);
    float wc[6] = {2, 3, 0, 5, 6, 0};
    expect_out(&tg, X23, NULL, 2, 3, wc);
    xb_test_end(&tg);
    /* Crop one at the start, then reflect two at the end: [2,3,4] -> [2,3,4,3,2]. */
    int64_t d14[] = {1, 4};
    int64_t prc[] = {0, -1, 0, 2};
    cr_assert_eq(build11(&tg, 13, "reflect", 2, d14, prc, 0, 0), XB_OK, "%s", tg.ctx.msg);
    float x4[4] = {1, 2, 3, 4};
    float w4[5] = {2, 3, 4, 3, 2};
    expect_out(&tg, x4, NULL, 1, 5, w4);
    xb_test_end(&tg);
    /* Crop everything on an axis: empty output is fine. */
    int64_t pall[] = {-2, 0, 0, 0};
    cr_assert_eq(build11(&tg, 13, "constant", 2, d, pall, 0, 0), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.d[0], 0);
    cr_assert_not_null(xb_test_run1(&tg, X23), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(pad, attribute_form_before_11_on_4d) {
    xb_test_graph tg;
    int64_t d[] = {1, 1, 2, 2};
    xb_test_unary_begin(&tg, "Pad", 7, XB_F32, 4, d);
    int64_t pads[] = {0, 0, 1, 0, 0, 0, 0, 1};
    xb_test_attr_ints(&tg, 0, "pads", 8, pads);
    xb_test_attr_float(&tg, 0, "value", 7.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(s->d[2] == 3 && s->d[3] == 3);
    float x[4] = {1, 2, 3, 4};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    float want[9] = {7, 7, 7, 1, 2, 7, 3, 4, 7};
    for (int i = 0; i < 9; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "at %d", i);
    xb_test_end(&tg);
}

Test(pad, i32_edge_3d) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2, 1, 2}, pd[] = {6};
    int64_t pads[] = {1, 1, 0, 1, 1, 1};
    int in[2] = {xb_test_input(&tg, "x", XB_I32, 3, d), xb_test_const(&tg, "pads", XB_I64, 1, pd, pads)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_test_node(&tg, "Pad", 13, in, 2, &y, 1);
    xb_test_attr_str(&tg, node, "mode", "edge");
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int32_t x[4] = {1, 2, 3, 4};
    int32_t *out = xb_test_run1(&tg, x);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    /* np.pad(x, ((1,1),(1,1),(0,1)), 'edge') with x shape (2,1,2): 4 x 3 x 3 */
    int32_t want[36] = {1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2,
                        3, 4, 4, 3, 4, 4, 3, 4, 4, 3, 4, 4, 3, 4, 4, 3, 4, 4};
    for (int i = 0; i < 36; i++) cr_assert_eq(out[i], want[i], "at %d", i);
    xb_test_end(&tg);
}

Test(pad, errors) {
    xb_test_graph tg;
    int64_t d[] = {2, 3};
    int64_t big[] = {0, 3, 0, 0};
    cr_assert_eq(build11(&tg, 13, "reflect", 2, d, big, 0, 0), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "reflect"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t ok[] = {0, 1, 0, 1};
    cr_assert_eq(build11(&tg, 13, "wrap", 2, d, ok, 0, 0), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    int64_t neg[] = {-3, 0, 0, 0};
    cr_assert_eq(build11(&tg, 13, NULL, 2, d, neg, 0, 0), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* wrong pads length */
    xb_test_begin(&tg);
    int64_t pd[] = {2};
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 2, d), xb_test_const(&tg, "pads", XB_I64, 1, pd, ok)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Pad", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "2 * rank"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* non-constant pads */
    xb_test_begin(&tg);
    int64_t p4[] = {4};
    int in2[2] = {xb_test_input(&tg, "x", XB_F32, 2, d), xb_test_input(&tg, "pads_dyn", XB_I64, 1, p4)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Pad", 13, in2, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "Pad") && strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* attribute form requires pads */
    xb_test_unary_begin(&tg, "Pad", 7, XB_F32, 2, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);
}
