#include <criterion/criterion.h>

#include "tests/test_util.h"

static const int64_t dims[] = {1, 3, 1, 2};

/* opset < 13: axes attribute (n < 0: none); opset >= 13: axes input. */
static xb_status build(xb_test_graph *tg, int opset, int n, const int64_t *axes) {
    xb_test_begin(tg);
    int in[2] = {xb_test_input(tg, "x", XB_F32, 4, dims), -1};
    int64_t ad[1] = {n};
    if (opset >= 13 && n >= 0) in[1] = xb_test_const(tg, "axes", XB_I64, 1, ad, axes);
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Squeeze", opset, in, in[1] >= 0 ? 2 : 1, &y, 1);
    if (opset < 13 && n >= 0) xb_test_attr_ints(tg, node, "axes", n, axes);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static void expect(int opset, int n, const int64_t *axes, int rank, const int64_t *want) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, opset, n, axes), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, rank);
    for (int i = 0; i < rank; i++) cr_assert_eq(s->d[i], want[i]);
    xb_test_end(&tg);
}

Test(squeeze, all_ones_when_no_axes) {
    int64_t w[] = {3, 2};
    expect(11, -1, NULL, 2, w);
    expect(13, -1, NULL, 2, w);
}

Test(squeeze, attribute_and_input_forms) {
    int64_t a[] = {2};
    int64_t w[] = {1, 3, 2};
    expect(7, 1, a, 3, w);
    expect(13, 1, a, 3, w);
    int64_t neg[] = {-4, -2};
    int64_t w2[] = {3, 2};
    expect(11, 2, neg, 2, w2);
    expect(17, 2, neg, 2, w2);
}

Test(squeeze, values_preserved) {
    xb_test_graph tg;
    int64_t a[] = {0};
    cr_assert_eq(build(&tg, 13, 1, a), XB_OK, "%s", tg.ctx.msg);
    float x[6] = {1, 2, 3, 4, 5, 6};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    xb_test_end(&tg);
}

Test(squeeze, errors) {
    xb_test_graph tg;
    int64_t notone[] = {1};
    cr_assert_eq(build(&tg, 13, 1, notone), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "size 3"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t range[] = {4};
    cr_assert_eq(build(&tg, 11, 1, range), XB_ERR_INVALID);
    xb_test_end(&tg);
}

Test(squeeze, empty_axes_squeeze_all_and_repeats_count_once) {
    int64_t w[] = {3, 2};
    int64_t none[1] = {0};
    expect(13, 0, none, 2, w);
    int64_t dup[] = {0, -4};
    int64_t w2[] = {3, 1, 2};
    expect(13, 2, dup, 3, w2);
}
