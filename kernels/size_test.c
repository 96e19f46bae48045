#include <criterion/criterion.h>

#include "tests/test_util.h"

Test(size, element_count_with_bound_batch) {
    xb_test_graph tg;
    int64_t dims[] = {-1, 3, 5, 7};
    xb_test_unary_begin(&tg, "Size", 13, XB_F32, 4, dims);
    cr_assert_eq(xb_graph_prepare(tg.g, 4, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0, "Size folds away");
    const xb_tensor *y = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert(y->is_const);
    cr_assert_eq(y->dtype, XB_I64);
    cr_assert_eq(y->shape.rank, 0);
    cr_assert_eq(((int64_t *)y->data)[0], 4 * 3 * 5 * 7);
    xb_test_end(&tg);
}

Test(size, empty_tensor) {
    xb_test_graph tg;
    int64_t dims[] = {2, 0};
    xb_test_unary_begin(&tg, "Size", 7, XB_F32, 2, dims);
    cr_assert_eq(xb_graph_prepare(tg.g, 1, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(((int64_t *)tg.g->tensors[tg.g->outputs[0]].data)[0], 0);
    xb_test_end(&tg);
}
