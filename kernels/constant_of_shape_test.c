#include <criterion/criterion.h>

#include "tests/test_util.h"

static int cos_graph(xb_test_graph *tg, int n, const int64_t *shape) {
    xb_test_begin(tg);
    int64_t d[] = {n};
    int s = xb_test_const(tg, "shape", XB_I64, 1, d, shape);
    int y = xb_test_tensor(tg, "y");
    int node = xb_test_node(tg, "ConstantOfShape", 13, &s, 1, &y, 1);
    xb_test_output(tg, y);
    return node;
}

Test(constant_of_shape, default_is_float_zero_and_folds) {
    xb_test_graph tg;
    int64_t shape[] = {2, 3};
    cos_graph(&tg, 2, shape);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(tg.g->n_nodes, 0, "folded away");
    const xb_tensor *y = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert(y->is_const);
    cr_assert_eq(y->dtype, XB_F32);
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.d[1], 3);
    for (int i = 0; i < 6; i++) cr_assert_float_eq(((float *)y->data)[i], 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(constant_of_shape, value_attribute_sets_type_and_fill) {
    xb_test_graph tg;
    int64_t shape[] = {4};
    int node = cos_graph(&tg, 1, shape);
    xb_node *n = &tg.g->nodes[node];
    n->attr = calloc(1, sizeof(xb_attr));
    n->n_attr = 1;
    n->attr[0].name = strdup("value");
    n->attr[0].type = XB_ATTR_TENSOR;
    n->attr[0].t = calloc(1, sizeof(xb_tensor));
    n->attr[0].t->dtype = XB_I32;
    n->attr[0].t->shape.rank = 1;
    n->attr[0].t->shape.d[0] = 1;
    int32_t *v = malloc(sizeof(int32_t));
    *v = -7;
    n->attr[0].t->data = v;
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_tensor *y = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert_eq(y->dtype, XB_I32);
    for (int i = 0; i < 4; i++) cr_assert_eq(((int32_t *)y->data)[i], -7);
    xb_test_end(&tg);
}

Test(constant_of_shape, empty_shape_gives_a_scalar) {
    xb_test_graph tg;
    cos_graph(&tg, 0, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_tensor *y = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert_eq(y->shape.rank, 0);
    cr_assert_float_eq(*(float *)y->data, 0.0f, 0.0f);
    xb_test_end(&tg);
}

Test(constant_of_shape, rejects_negative_and_non_constant_shape) {
    xb_test_graph tg;
    int64_t shape[] = {2, -1};
    cos_graph(&tg, 2, shape);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "negative") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);

    int64_t d[] = {2};
    xb_test_unary_begin(&tg, "ConstantOfShape", 13, XB_I64, 1, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "not constant") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* A few bytes of model must not make the loader allocate gigabytes: a
 * constant built at load is capped (XB_MAX_BUILT_CONST_BYTES, 256 MiB). */
Test(constant_of_shape, huge_output_is_refused) {
    xb_test_graph tg;
    int64_t shape[] = {1 << 20, 1 << 9}; /* 2 GiB of float */
    cos_graph(&tg, 2, shape);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "256 MiB"), "%s", tg.ctx.msg);
    cr_assert(strstr(tg.ctx.msg, "ConstantOfShape"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
