#include <criterion/criterion.h>
#include <float.h>
#include <math.h>

#include "tests/test_util.h"

static const float X[6] = {-3.0f, -0.5f, 0.0f, 0.5f, 7.0f, NAN};

Test(clip, attribute_form_before_11) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "Clip", 6 + 1, XB_F32, 1, d);
    xb_test_attr_float(&tg, 0, "min", -1.0f);
    xb_test_attr_float(&tg, 0, "max", 6.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, X);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    float want[5] = {-1.0f, -0.5f, 0.0f, 0.5f, 6.0f};
    for (int i = 0; i < 5; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    cr_assert(isnan(y[5]));
    xb_test_end(&tg);
}

Test(clip, attribute_defaults_unbounded) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Clip", 10, XB_F32, 1, d);
    xb_test_attr_float(&tg, 0, "max", 0.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[2] = {-FLT_MAX, 5.0f};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], -FLT_MAX, 0.0f);
    cr_assert_float_eq(y[1], 0.0f, 0.0f);
    xb_test_end(&tg);
}

/* Opset 11+: min/max as (optional) inputs; mask bit 1 = min, 2 = max. */
static void input_form(int opset, int which, int as_const, float lo, float hi, const float *want) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {2, 3};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 2, d), -1, -1};
    if (which & 1)
        in[1] = as_const ? xb_test_const(&tg, "lo", XB_F32, 0, NULL, &lo)
                         : xb_test_input(&tg, "lo", XB_F32, 0, NULL);
    if (which & 2)
        in[2] = as_const ? xb_test_const(&tg, "hi", XB_F32, 0, NULL, &hi)
                         : xb_test_input(&tg, "hi", XB_F32, 0, NULL);
    int n_in = (which & 2) ? 3 : (which & 1) ? 2 : 1;
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", opset, in, n_in, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *inputs[3] = {X, NULL, NULL};
    int k = 1;
    if (!as_const && (which & 1)) inputs[k++] = &lo;
    if (!as_const && (which & 2)) inputs[k++] = &hi;
    float *out = xb_test_run(&tg, inputs, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(out[i], want[i], 0.0f, "opset %d which %d at %d", opset, which, i);
    cr_assert(isnan(out[5]));
    xb_test_end(&tg);
}

Test(clip, input_forms_from_11) {
    float both[5] = {0.0f, 0.0f, 0.0f, 0.5f, 6.0f};
    input_form(11, 3, 1, 0.0f, 6.0f, both);
    input_form(13, 3, 0, 0.0f, 6.0f, both); /* bounds fed at run time */
    float only_max[5] = {-3.0f, -0.5f, 0.0f, 0.5f, 1.0f};
    input_form(12, 2, 1, 0.0f, 1.0f, only_max); /* min absent (empty name) */
    float only_min[5] = {-1.0f, -0.5f, 0.0f, 0.5f, 7.0f};
    input_form(13, 1, 1, -1.0f, 0.0f, only_min);
    float none[5] = {-3.0f, -0.5f, 0.0f, 0.5f, 7.0f};
    input_form(13, 0, 1, 0, 0, none);
    /* min > max: numpy.clip semantics give max everywhere */
    float inverted[5] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    input_form(13, 3, 1, 2.0f, 1.0f, inverted);
}

Test(clip, attributes_ignored_from_11) {
    xb_test_graph tg;
    int64_t d[] = {6};
    xb_test_unary_begin(&tg, "Clip", 11, XB_F32, 1, d);
    xb_test_attr_float(&tg, 0, "min", 0.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *y = xb_test_run1(&tg, X);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], -3.0f, 0.0f);
    xb_test_end(&tg);
}

Test(clip, errors) {
    xb_test_graph tg;
    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "Clip", 11, XB_I32, 1, d); /* ints from opset 12 */
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    xb_test_unary_begin(&tg, "Clip", 13, XB_BOOL, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    xb_test_begin(&tg);
    float b[2] = {0, 1};
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 1, d), xb_test_const(&tg, "lo", XB_F32, 1, d, b)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "scalar"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* Opset 7 has no inputs for the bounds. */
    xb_test_begin(&tg);
    float lo = 0;
    int in2[2] = {xb_test_input(&tg, "x", XB_F32, 1, d), xb_test_const(&tg, "lo", XB_F32, 0, NULL, &lo)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", 7, in2, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);
}

Test(clip, integer_types_from_12) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {5};
    int8_t lo = -2;
    int in[2] = {xb_test_input(&tg, "x", XB_I8, 1, d), xb_test_const(&tg, "lo", XB_I8, 0, NULL, &lo)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", 12, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int8_t x[5] = {-128, -3, -2, 0, 127};
    int8_t *out = xb_test_run1(&tg, x);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    int8_t want[5] = {-2, -2, -2, 0, 127}; /* max unbounded: i8 limit */
    for (int i = 0; i < 5; i++) cr_assert_eq(out[i], want[i], "at %d", i);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    int64_t hi = 1000;
    int in2[3] = {xb_test_input(&tg, "x", XB_I64, 1, d), -1, xb_test_const(&tg, "hi", XB_I64, 1, (int64_t[]){1}, &hi)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", 13, in2, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int64_t x64[5] = {INT64_MIN, -1, 999, 1000, INT64_MAX};
    int64_t *o64 = xb_test_run1(&tg, x64);
    cr_assert_not_null(o64, "%s", tg.ctx.msg);
    int64_t w64[5] = {INT64_MIN, -1, 999, 1000, 1000};
    for (int i = 0; i < 5; i++) cr_assert_eq(o64[i], w64[i], "at %d", i);
    xb_test_end(&tg);

    /* bound of the wrong type */
    xb_test_begin(&tg);
    float flo = 0;
    int in3[2] = {xb_test_input(&tg, "x", XB_U8, 1, d), xb_test_const(&tg, "lo", XB_F32, 0, NULL, &flo)};
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Clip", 13, in3, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);
}
