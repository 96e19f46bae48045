#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(identity, copies_i64_data) {
    xb_test_graph tg;
    int64_t dims[] = {3};
    xb_test_unary_begin(&tg, "Identity", 13, XB_I64, 1, dims);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int64_t x[3] = {-5, 0, INT64_MAX};
    int64_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int i = 0; i < 3; i++) cr_assert_eq(y[i], x[i]);
    cr_assert_eq(tg.g->tensors[tg.g->outputs[0]].dtype, XB_I64);
    xb_test_end(&tg);
}

Test(identity, folds_on_constant) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {2};
    float v[2] = {1.5f, -2.0f};
    int c = xb_test_const(&tg, "c", XB_F32, 1, dims, v);
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Identity", 16, &c, 1, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0);
    cr_assert(tg.g->tensors[y].is_const);
    cr_assert_float_eq(((float *)tg.g->tensors[y].data)[1], -2.0f, 0.0f);
    xb_test_end(&tg);
}

Test(identity, rejects_two_inputs) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t dims[] = {2};
    int a = xb_test_input(&tg, "a", XB_F32, 1, dims);
    int b = xb_test_input(&tg, "b", XB_F32, 1, dims);
    int y = xb_test_tensor(&tg, "y");
    int in[2] = {a, b};
    xb_test_node(&tg, "Identity", 13, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "Identity") && strstr(tg.ctx.msg, "1 input"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
