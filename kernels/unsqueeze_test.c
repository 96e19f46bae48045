#include <criterion/criterion.h>

#include "tests/test_util.h"

static xb_status build(xb_test_graph *tg, int opset, int rank, const int64_t *dims, int n,
                       const int64_t *axes) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", XB_F32, rank, dims), -1};
    int64_t ad[1] = {n};
    if (opset >= 13 && n >= 0) in[1] = xb_test_const(tg, "axes", XB_I64, 1, ad, axes);
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Unsqueeze", opset, in, in[1] >= 0 ? 2 : 1, &y, 1);
    if (opset < 13 && n >= 0) xb_test_attr_ints(tg, node, "axes", n, axes);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void expect(int opset, int n, const int64_t *axes, int rank, const int64_t *want) {
    xb_test_graph tg;
    int64_t dims[] = {3, 4};
    cr_assert_eq(build(&tg, opset, 2, dims, n, axes), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, rank);
    for (int i = 0; i < rank; i++) cr_assert_eq(s->d[i], want[i], "dim %d", i);
    xb_test_end(&tg);
}

Test(unsqueeze, attribute_form_before_13) {
    int64_t a[] = {0, 3};
    int64_t w[] = {1, 3, 4, 1};
    expect(7, 2, a, 4, w);
    int64_t neg[] = {-1};
    int64_t w2[] = {3, 4, 1};
    expect(11, 1, neg, 3, w2);
}

Test(unsqueeze, input_form_from_13_unsorted_axes) {
    int64_t a[] = {4, 1, 0};
    int64_t w[] = {1, 1, 3, 4, 1};
    expect(13, 3, a, 5, w);
}

Test(unsqueeze, scalar_to_1d) {
    xb_test_graph tg;
    int64_t a[] = {0};
    cr_assert_eq(build(&tg, 13, 0, NULL, 1, a), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, 1);
    cr_assert_eq(s->d[0], 1);
    float x = 2.5f;
    float *y = xb_test_run1(&tg, &x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 2.5f, 0.0f);
    xb_test_end(&tg);
}

Test(unsqueeze, errors) {
    xb_test_graph tg;
    int64_t dims[] = {3, 4};
    int64_t dup[] = {1, 1};
    cr_assert_eq(build(&tg, 13, 2, dims, 2, dup), XB_ERR_INVALID);
    xb_test_end(&tg);
    int64_t range[] = {3};
    cr_assert_eq(build(&tg, 13, 2, dims, 1, range), XB_ERR_INVALID);
    xb_test_end(&tg);
    cr_assert_eq(build(&tg, 11, 2, dims, -1, NULL), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "axes"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* Opset 13 without the axes input. */
    cr_assert_eq(build(&tg, 13, 2, dims, -1, NULL), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* Non-constant axes input. */
    xb_test_begin(&tg);
    int64_t ad[] = {1};
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 2, dims), xb_test_input(&tg, "ax", XB_I64, 1, ad)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Unsqueeze", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
