#include <criterion/criterion.h>

#include "tests/test_util.h"

/* x (input, dims) -> Reshape(shape const) -> y; returns prepare status. */
static xb_status build(xb_test_graph *tg, int opset, int rank, const int64_t *dims, int n,
                       const int64_t *shape, int allowzero) {
    xb_test_begin(tg);
    int64_t sd[1] = {n};
    int in[2] = {xb_test_input(tg, "x", XB_F32, rank, dims),
                 xb_test_const(tg, "shape", XB_I64, 1, sd, shape)};
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Reshape", opset, in, 2, &y, 1);
    if (allowzero >= 0) xb_test_attr_int(tg, node, "allowzero", allowzero);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static const xb_shape *out_shape(xb_test_graph *tg) {
    return &tg->g->tensors[tg->g->outputs[0]].shape;
}

Test(reshape, zero_copies_and_minus_one_infers) {
    xb_test_graph tg;
    int64_t dims[] = {2, 3, 4};
    int64_t shape[] = {0, -1};
    cr_assert_eq(build(&tg, 13, 3, dims, 2, shape, -1), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = out_shape(&tg);
    cr_assert_eq(s->rank, 2);
    cr_assert_eq(s->d[0], 2);
    cr_assert_eq(s->d[1], 12);
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i * 0.5f;
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 24; i++) cr_assert_float_eq(y[i], x[i], 0.0f);
    xb_test_end(&tg);
}

Test(reshape, literal_shape_and_scalar_output) {
    xb_test_graph tg;
    int64_t dims[] = {1, 1};
    cr_assert_eq(build(&tg, 13, 2, dims, 0, NULL, -1), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out_shape(&tg)->rank, 0);
    xb_test_end(&tg);
    int64_t d2[] = {6};
    int64_t shape[] = {3, 1, 2};
    cr_assert_eq(build(&tg, 7, 1, d2, 3, shape, -1), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out_shape(&tg)->d[0], 3);
    cr_assert_eq(out_shape(&tg)->d[2], 2);
    xb_test_end(&tg);
}

Test(reshape, allowzero_keeps_zero_from_opset14_only) {
    xb_test_graph tg;
    int64_t dims[] = {0, 3};
    int64_t shape[] = {3, 0};
    /* allowzero = 1: 0 is a literal empty dimension. */
    cr_assert_eq(build(&tg, 14, 2, dims, 2, shape, 1), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out_shape(&tg)->d[0], 3);
    cr_assert_eq(out_shape(&tg)->d[1], 0);
    xb_test_end(&tg);
    /* allowzero = 0: 0 copies input dim 1 (3) -> 9 elements != 0: invalid. */
    cr_assert_eq(build(&tg, 14, 2, dims, 2, shape, 0), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* Before opset 14 the attribute does not exist: ignored. */
    cr_assert_eq(build(&tg, 13, 2, dims, 2, shape, 1), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* allowzero with both 0 and -1 is invalid per spec. */
    int64_t d3[] = {2, 3};
    int64_t bad[] = {0, -1};
    cr_assert_eq(build(&tg, 14, 2, d3, 2, bad, 1), XB_ERR_INVALID);
    xb_test_end(&tg);
}

Test(reshape, rejects_bad_shapes) {
    xb_test_graph tg;
    int64_t dims[] = {2, 3};
    int64_t two_infer[] = {-1, -1};
    cr_assert_eq(build(&tg, 13, 2, dims, 2, two_infer, -1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "-1"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t nodiv[] = {4, -1};
    cr_assert_eq(build(&tg, 13, 2, dims, 2, nodiv, -1), XB_ERR_INVALID);
    xb_test_end(&tg);
    int64_t wrong[] = {5};
    cr_assert_eq(build(&tg, 13, 2, dims, 1, wrong, -1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "[2,3]") && strstr(tg.ctx.msg, "[5]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    int64_t neg[] = {-2, -3};
    cr_assert_eq(build(&tg, 13, 2, dims, 2, neg, -1), XB_ERR_INVALID);
    xb_test_end(&tg);
    int64_t zero_past_rank[] = {1, 6, 0};
    cr_assert_eq(build(&tg, 13, 2, dims, 3, zero_past_rank, -1), XB_ERR_INVALID);
    xb_test_end(&tg);
}

Test(reshape, non_constant_shape_is_unsupported) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {2, 3};
    int64_t sd[] = {2};
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 2, dims),
                 xb_test_input(&tg, "dyn_shape", XB_I64, 1, sd)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Reshape", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "Reshape") && strstr(tg.ctx.msg, "dyn_shape") &&
                  strstr(tg.ctx.msg, "not constant"),
              "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
