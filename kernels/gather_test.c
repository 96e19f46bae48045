#include <criterion/criterion.h>

#include "tests/test_util.h"

/* data x [3,2,2] input; indices either const or input. */
static xb_status build(xb_test_graph *tg, int axis, xb_dtype idt, int irank, const int64_t *idims,
                       const void *ind, int ind_const) {
    xb_test_begin(tg);
    int64_t dims[] = {3, 2, 2};
    int in[2];
    in[0] = xb_test_input(tg, "x", XB_F32, 3, dims);
    in[1] = ind_const ? xb_test_const(tg, "ind", idt, irank, idims, ind)
                      : xb_test_input(tg, "ind", idt, irank, idims);
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "Gather", 13, in, 2, &y, 1);
    xb_test_attr_int(tg, node, "axis", axis);
    xb_test_output(tg, y);
    return xb_test_prepare(tg);
}

static const float X[12] = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};

Test(gather, axis0_2d_indices_negative) {
    xb_test_graph tg;
    int64_t idims[] = {2, 1};
    int64_t ind[] = {2, -3};
    cr_assert_eq(build(&tg, 0, XB_I64, 2, idims, ind, 1), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, 4);
    int64_t ws[] = {2, 1, 2, 2};
    for (int i = 0; i < 4; i++) cr_assert_eq(s->d[i], ws[i]);
    float *y = xb_test_run1(&tg, X);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    float want[8] = {20, 21, 22, 23, 0, 1, 2, 3};
    for (int i = 0; i < 8; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    xb_test_end(&tg);
}

Test(gather, axis_minus1_scalar_index_i32) {
    xb_test_graph tg;
    int32_t ind = 1;
    cr_assert_eq(build(&tg, -1, XB_I32, 0, NULL, &ind, 1), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *s = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(s->rank, 2);
    cr_assert_eq(s->d[0], 3);
    cr_assert_eq(s->d[1], 2);
    float *y = xb_test_run1(&tg, X);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    float want[6] = {1, 3, 11, 13, 21, 23};
    for (int i = 0; i < 6; i++) cr_assert_float_eq(y[i], want[i], 0.0f);
    xb_test_end(&tg);
}

Test(gather, axis1_runtime_indices) {
    xb_test_graph tg;
    int64_t idims[] = {3};
    cr_assert_eq(build(&tg, 1, XB_I64, 1, idims, NULL, 0), XB_OK, "%s", tg.ctx.msg);
    int64_t ind[3] = {1, 0, -1};
    const void *in[2] = {X, ind};
    float *y = xb_test_run(&tg, in, 0);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* out[i, j, k] = x[i, ind[j], k] */
    float want[18] = {2, 3, 0, 1, 2, 3, 12, 13, 10, 11, 12, 13, 22, 23, 20, 21, 22, 23};
    for (int i = 0; i < 18; i++) cr_assert_float_eq(y[i], want[i], 0.0f, "at %d", i);
    /* Out of range at run time is a runtime error, not a crash. */
    int64_t bad[3] = {0, 2, 0};
    const void *in2[2] = {X, bad};
    cr_assert_null(xb_test_run(&tg, in2, 0));
    cr_assert_eq(tg.ctx.status, XB_ERR_RUNTIME);
    cr_assert(strstr(tg.ctx.msg, "index 2"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(gather, const_out_of_range_fails_at_prepare) {
    xb_test_graph tg;
    int64_t idims[] = {2};
    int64_t ind[] = {0, -4};
    cr_assert_eq(build(&tg, 0, XB_I64, 1, idims, ind, 1), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "-4"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(gather, rejects_float_indices_and_bad_axis) {
    xb_test_graph tg;
    float f = 0;
    cr_assert_eq(build(&tg, 0, XB_F32, 0, NULL, &f, 1), XB_ERR_INVALID);
    xb_test_end(&tg);
    int64_t i = 0;
    cr_assert_eq(build(&tg, 3, XB_I64, 0, NULL, &i, 1), XB_ERR_INVALID);
    xb_test_end(&tg);
}

Test(gather, folds_i64_shape_vector) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t d[] = {4};
    int64_t shape[] = {8, 3, 32, 32};
    int64_t zero = 0;
    int in[2] = {xb_test_const(&tg, "s", XB_I64, 1, d, shape),
                 xb_test_const(&tg, "i", XB_I64, 0, NULL, &zero)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Gather", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0);
    cr_assert_eq(tg.g->tensors[y].shape.rank, 0);
    cr_assert_eq(*(int64_t *)tg.g->tensors[y].data, 8);
    xb_test_end(&tg);
}
