/* The chain PyTorch emits for x.view(x.size(0), -1) with a dynamic batch:
 *   s = Shape(x); b = Gather(s, 0); b1 = Unsqueeze(b, [0]);
 *   shp = Concat(b1, [-1]); y = Reshape(x, shp)
 * Once the batch is bound, preparation must fold everything but the Reshape,
 * leaving it a constant shape [batch, -1]. */
#include <criterion/criterion.h>

#include "tests/test_util.h"

static void build_chain(xb_test_graph *tg, int opset) {
    xb_test_begin(tg);
    int64_t dims[] = {-1, 2, 3, 2};
    int x = xb_test_input(tg, "x", XB_F32, 4, dims);
    int s = xb_test_tensor(tg, "s");
    xb_test_node(tg, "Shape", opset, &x, 1, &s, 1);
    int64_t zero = 0;
    int gi[2] = {s, xb_test_const(tg, "idx0", XB_I64, 0, NULL, &zero)};
    int b = xb_test_tensor(tg, "b");
    xb_test_node(tg, "Gather", opset, gi, 2, &b, 1);
    int b1 = xb_test_tensor(tg, "b1");
    int64_t one = 1;
    if (opset >= 13) {
        int ui[2] = {b, xb_test_const(tg, "axes", XB_I64, 1, &one, &zero)};
        xb_test_node(tg, "Unsqueeze", opset, ui, 2, &b1, 1);
    } else {
        int node = xb_test_node(tg, "Unsqueeze", opset, &b, 1, &b1, 1);
        xb_test_attr_ints(tg, node, "axes", 1, &zero);
    }
    int64_t minus1 = -1;
    int ci[2] = {b1, xb_test_const(tg, "m1", XB_I64, 1, &one, &minus1)};
    int shp = xb_test_tensor(tg, "shp");
    int cn = xb_test_node(tg, "Concat", opset, ci, 2, &shp, 1);
    xb_test_attr_int(tg, cn, "axis", 0);
    int ri[2] = {x, shp};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Reshape", opset, ri, 2, &y, 1);
    xb_test_output(tg, y);
}

static void check(int opset, int64_t batch) {
    xb_test_graph tg;
    build_chain(&tg, opset);
    cr_assert_eq(xb_graph_prepare(tg.g, batch, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    xb_graph *g = tg.g;
    cr_assert_eq(g->n_nodes, 1, "opset %d: %d nodes left", opset, g->n_nodes);
    const xb_node *n = &g->nodes[0];
    cr_assert_str_eq(n->op_type, "Reshape");
    const xb_tensor *shp = &g->tensors[n->in[1]];
    cr_assert(shp->is_const);
    cr_assert_eq(shp->shape.d[0], 2);
    cr_assert_eq(((int64_t *)shp->data)[0], batch);
    cr_assert_eq(((int64_t *)shp->data)[1], -1);
    const xb_tensor *y = &g->tensors[g->outputs[0]];
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.d[0], batch);
    cr_assert_eq(y->shape.d[1], 12);
    float x[3 * 12];
    for (int i = 0; i < batch * 12; i++) x[i] = (float)i - 7.5f;
    float *out = xb_test_run1(&tg, x);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    for (int i = 0; i < batch * 12; i++) cr_assert_float_eq(out[i], x[i], 0.0f);
    xb_test_end(&tg);
}

Test(dynbatch_fold, shape_gather_unsqueeze_concat_reshape) {
    check(13, 1);
    check(13, 3);
    check(11, 2); /* Unsqueeze axes as attribute */
    check(17, 1);
}
