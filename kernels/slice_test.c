#include <criterion/criterion.h>

#include "tests/test_util.h"

/* x [2,4] = 1..8, sliced with const inputs (opset >= 10). n_ax/n_st < 0: absent. */
static xb_status build(xb_test_graph *tg, int opset, int n, const int64_t *starts,
                       const int64_t *ends, int n_ax, const int64_t *axes, int n_st,
                       const int64_t *steps) {
    xb_test_begin(tg);
    int64_t dims[] = {2, 4}, ld[1] = {n};
    int in[5] = {xb_test_input(tg, "x", XB_F32, 2, dims), -1, -1, -1, -1};
    int n_in = 1;
    if (opset >= 10) {
        in[1] = xb_test_const(tg, "starts", XB_I64, 1, ld, starts);
        in[2] = xb_test_const(tg, "ends", XB_I64, 1, ld, ends);
        n_in = 3;
        if (n_ax >= 0) in[3] = xb_test_const(tg, "axes", XB_I64, 1, ld, axes), n_in = 4;
        if (n_st >= 0) in[4] = xb_test_const(tg, "steps", XB_I64, 1, ld, steps), n_in = 5;
    }
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Slice", opset, in, n_in, &y, 1);
    if (opset < 10) {
        xb_test_attr_ints(tg, node, "starts", n, starts);
        xb_test_attr_ints(tg, node, "ends", n, ends);
        if (n_ax >= 0) xb_test_attr_ints(tg, node, "axes", n_ax, axes);
    }
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static const float X[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void expect(xb_test_graph *tg, int rows, int cols, const float *want) {
    const xb_shape *s = &tg->g->tensors[tg->g->outputs[0]].shape;
    cr_assert_eq(s->d[0], rows);
    cr_assert_eq(s->d[1], cols);
    float *y = xb_test_run1(tg, X);
    cr_assert_not_null(y, "%s", tg->ctx.msg);
    for (int i = 0; i < rows * cols; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "at %d", i);
    xb_test_end(tg);
}

Test(slice, spec_examples) {
    xb_test_graph tg;
    /* Example 1: axes [0,1], starts [1,0], ends [2,3], steps [1,2] -> [[5,7]] */
    int64_t s1[] = {1, 0}, e1[] = {2, 3}, a1[] = {0, 1}, st1[] = {1, 2};
    cr_assert_eq(build(&tg, 13, 2, s1, e1, 2, a1, 2, st1), XB_OK, "%s", tg.ctx.msg);
    float w1[2] = {5, 7};
    expect(&tg, 1, 2, w1);
    /* Example 2: starts [0,1], ends [-1,1000] -> [[2,3,4]] */
    int64_t s2[] = {0, 1}, e2[] = {-1, 1000};
    cr_assert_eq(build(&tg, 13, 2, s2, e2, -1, NULL, -1, NULL), XB_OK, "%s", tg.ctx.msg);
    float w2[3] = {2, 3, 4};
    expect(&tg, 1, 3, w2);
}

Test(slice, negative_steps_and_axes) {
    xb_test_graph tg;
    /* x[:, ::-1] via axis -1, start -1, end INT64_MIN, step -1 */
    int64_t s[] = {-1}, e[] = {INT64_MIN}, a[] = {-1}, st[] = {-1};
    cr_assert_eq(build(&tg, 11, 1, s, e, 1, a, 1, st), XB_OK, "%s", tg.ctx.msg);
    float w[8] = {4, 3, 2, 1, 8, 7, 6, 5};
    expect(&tg, 2, 4, w);
    /* x[::-1, 3:0:-2] */
    int64_t s2[] = {1, 3}, e2[] = {INT64_MIN, 0}, st2[] = {-1, -2};
    cr_assert_eq(build(&tg, 13, 2, s2, e2, -1, NULL, 2, st2), XB_OK, "%s", tg.ctx.msg);
    float w2[4] = {8, 6, 4, 2};
    expect(&tg, 2, 2, w2);
    /* Huge steps take one element. */
    int64_t s3[] = {0}, e3[] = {4}, a3[] = {1}, st3[] = {INT64_MAX};
    cr_assert_eq(build(&tg, 13, 1, s3, e3, 1, a3, 1, st3), XB_OK, "%s", tg.ctx.msg);
    float w3[2] = {1, 5};
    expect(&tg, 2, 1, w3);
    int64_t s4[] = {3}, e4[] = {INT64_MIN}, st4[] = {INT64_MIN};
    cr_assert_eq(build(&tg, 13, 1, s4, e4, 1, a3, 1, st4), XB_OK, "%s", tg.ctx.msg);
    float w4[2] = {4, 8};
    expect(&tg, 2, 1, w4);
}

Test(slice, attribute_form_and_empty_result) {
    xb_test_graph tg;
    int64_t s[] = {1}, e[] = {3}, a[] = {1};
    cr_assert_eq(build(&tg, 9, 1, s, e, 1, a, -1, NULL), XB_OK, "%s", tg.ctx.msg);
    float w[4] = {2, 3, 6, 7};
    expect(&tg, 2, 2, w);
    int64_t s2[] = {3}, e2[] = {1};
    cr_assert_eq(build(&tg, 13, 1, s2, e2, 1, a, -1, NULL), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].shape.d[1], 0);
    cr_assert_not_null(xb_test_run1(&tg, X), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(slice, errors) {
    xb_test_graph tg;
    int64_t s[] = {0}, e[] = {1}, a[] = {0}, zero[] = {0};
    cr_assert_eq(build(&tg, 13, 1, s, e, 1, a, 1, zero), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "step 0"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t s2[] = {0, 0}, e2[] = {1, 1}, dup[] = {1, -1};
    cr_assert_eq(build(&tg, 13, 2, s2, e2, 2, dup, -1, NULL), XB_ERR_INVALID);
    xb_test_end(&tg);
    int64_t bad_axis[] = {2};
    cr_assert_eq(build(&tg, 13, 1, s, e, 1, bad_axis, -1, NULL), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* non-constant starts */
    xb_test_begin(&tg);
    int64_t dims[] = {2, 4}, one[] = {1};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 2, dims), xb_test_input(&tg, "st", XB_I64, 1, one),
                 xb_test_const(&tg, "en", XB_I64, 1, one, e)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Slice", 13, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
