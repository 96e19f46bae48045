#include <criterion/criterion.h>
#include <stdlib.h>

#include "tests/test_util.h"

static xb_attr *add_attr(xb_test_graph *tg, int node, const char *name, xb_attr_type type) {
    xb_node *n = &tg->g->nodes[node];
    n->attr = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof(xb_attr));
    xb_attr *a = &n->attr[n->n_attr++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

/* Constant -> c, then Identity(c) -> y, so the test also sees consumers
 * reading the folded value. */
static int build(xb_test_graph *tg, int opset) {
    xb_test_begin(tg);
    int c = xb_test_tensor(tg, "c");
    int node = xb_test_node(tg, "Constant", opset, NULL, 0, &c, 1);
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "Identity", 13, &c, 1, &y, 1);
    xb_test_output(tg, y);
    return node;
}

static const xb_tensor *out(xb_test_graph *tg) { return &tg->g->tensors[tg->g->outputs[0]]; }

Test(constant, value_tensor_folds_whole_graph) {
    xb_test_graph tg;
    int node = build(&tg, 13);
    xb_attr *a = add_attr(&tg, node, "value", XB_ATTR_TENSOR);
    a->t = calloc(1, sizeof(xb_tensor));
    a->t->name = strdup("v");
    a->t->dtype = XB_I32;
    a->t->shape.rank = 2;
    a->t->shape.d[0] = 2;
    a->t->shape.d[1] = 2;
    int32_t v[4] = {1, -2, 3, -4};
    a->t->data = malloc(sizeof v);
    memcpy(a->t->data, v, sizeof v);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0, "Constant and Identity both fold");
    const xb_tensor *y = out(&tg);
    cr_assert(y->is_const);
    cr_assert_eq(y->dtype, XB_I32);
    cr_assert_eq(y->shape.rank, 2);
    for (int i = 0; i < 4; i++) cr_assert_eq(((int32_t *)y->data)[i], v[i]);
    xb_test_end(&tg);
}

Test(constant, value_float_and_floats) {
    xb_test_graph tg;
    int node = build(&tg, 12);
    add_attr(&tg, node, "value_float", XB_ATTR_FLOAT)->f = 0.25f;
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out(&tg)->shape.rank, 0);
    cr_assert_eq(out(&tg)->dtype, XB_F32);
    cr_assert_float_eq(*(float *)out(&tg)->data, 0.25f, 0.0f);
    xb_test_end(&tg);

    node = build(&tg, 13);
    xb_attr *a = add_attr(&tg, node, "value_floats", XB_ATTR_FLOATS);
    a->n = 3;
    a->floats = malloc(3 * sizeof(float));
    a->floats[0] = 1.0f, a->floats[1] = -1.0f, a->floats[2] = 8.5f;
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out(&tg)->shape.rank, 1);
    cr_assert_eq(out(&tg)->shape.d[0], 3);
    cr_assert_float_eq(((float *)out(&tg)->data)[2], 8.5f, 0.0f);
    xb_test_end(&tg);
}

Test(constant, value_int_and_ints_are_i64) {
    xb_test_graph tg;
    int node = build(&tg, 13);
    add_attr(&tg, node, "value_int", XB_ATTR_INT)->i = -7;
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out(&tg)->dtype, XB_I64);
    cr_assert_eq(out(&tg)->shape.rank, 0);
    cr_assert_eq(*(int64_t *)out(&tg)->data, -7);
    xb_test_end(&tg);

    node = build(&tg, 13);
    int64_t v[2] = {1, -1};
    xb_test_attr_ints(&tg, node, "value_ints", 2, v);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(out(&tg)->dtype, XB_I64);
    cr_assert_eq(out(&tg)->shape.d[0], 2);
    cr_assert_eq(((int64_t *)out(&tg)->data)[1], -1);
    xb_test_end(&tg);
}

Test(constant, errors) {
    xb_test_graph tg;
    build(&tg, 13);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "no value"), "%s", tg.ctx.msg);
    xb_test_end(&tg);

    int node = build(&tg, 13);
    add_attr(&tg, node, "value_float", XB_ATTR_FLOAT)->f = 1;
    add_attr(&tg, node, "value_int", XB_ATTR_INT)->i = 1;
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);

    node = build(&tg, 13);
    xb_test_attr_str(&tg, node, "value_string", "hello");
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "value_string"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
