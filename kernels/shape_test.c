#include <criterion/criterion.h>

#include "tests/test_util.h"

/* Shape of a [B,3,5,7] input (symbolic batch bound to `batch`). */
static xb_status build(xb_test_graph *tg, int opset, int64_t batch, int set, int64_t start,
                       int64_t end) {
    int64_t dims[] = {-1, 3, 5, 7};
    xb_test_unary_begin(tg, "Shape", opset, XB_F32, 4, dims);
    if (set & 1) xb_test_attr_int(tg, 0, "start", start);
    if (set & 2) xb_test_attr_int(tg, 0, "end", end);
    return xb_graph_prepare(tg->g, batch, &tg->ctx);
}

static void expect(int opset, int set, int64_t start, int64_t end, int len, const int64_t *want) {
    xb_test_graph tg;
    cr_assert_eq(build(&tg, opset, 4, set, start, end), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0, "Shape folds away");
    const xb_tensor *y = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert(y->is_const);
    cr_assert_eq(y->dtype, XB_I64);
    cr_assert_eq(y->shape.rank, 1);
    cr_assert_eq(y->shape.d[0], len, "start %lld end %lld", (long long)start, (long long)end);
    for (int i = 0; i < len; i++) cr_assert_eq(((int64_t *)y->data)[i], want[i]);
    xb_test_end(&tg);
}

Test(shape, full_shape_with_bound_batch) {
    int64_t w[] = {4, 3, 5, 7};
    expect(13, 0, 0, 0, 4, w);
    expect(7, 0, 0, 0, 4, w);
}

Test(shape, opset15_start_end) {
    int64_t w1[] = {3, 5, 7};
    expect(15, 1, 1, 0, 3, w1);
    int64_t w2[] = {5};
    expect(15, 3, -2, -1, 1, w2);
    int64_t w3[] = {4, 3, 5, 7};
    expect(15, 3, -10, 10, 4, w3); /* clamped */
    expect(15, 3, 3, 1, 0, NULL);  /* empty */
}

Test(shape, start_ignored_before_15) {
    int64_t w[] = {4, 3, 5, 7};
    expect(14, 1, 2, 0, 4, w);
}
