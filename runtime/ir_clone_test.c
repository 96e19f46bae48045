#include <criterion/criterion.h>
#include <stdlib.h>

#include "tests/test_util.h"

/* x -> Relu -> y, with a constant carrying qparams and a node carrying
 * every attribute kind, so the copy can be compared field by field. */
static void build(xb_test_graph *tg) {
    int64_t dims[] = {2, 3};
    xb_test_unary_begin(tg, "Relu", 13, XB_F32, 2, dims);
    int64_t cd[] = {3};
    int8_t cdata[3] = {-1, 2, 127};
    int c = xb_test_const(tg, "w", XB_I8, 1, cd, cdata);
    xb_tensor *ct = &tg->g->tensors[c];
    ct->q.axis = 0;
    ct->q.n = 3;
    ct->q.scale = malloc(3 * sizeof(float));
    ct->q.zero_point = malloc(3 * sizeof(int32_t));
    for (int i = 0; i < 3; i++) {
        ct->q.scale[i] = 0.5f * (float)(i + 1);
        ct->q.zero_point[i] = i;
    }
    int64_t ints[] = {4, 5, 6};
    xb_test_attr_int(tg, 0, "i", 7);
    xb_test_attr_float(tg, 0, "f", 1.5f);
    xb_test_attr_ints(tg, 0, "is", 3, ints);
    xb_test_attr_str(tg, 0, "s", "hello");
    xb_node *n = &tg->g->nodes[0];
    n->attr = realloc(n->attr, (size_t)(n->n_attr + 2) * sizeof(xb_attr));
    xb_attr *fs = &n->attr[n->n_attr++];
    memset(fs, 0, sizeof *fs);
    fs->name = strdup("fs");
    fs->type = XB_ATTR_FLOATS;
    fs->n = 2;
    fs->floats = malloc(2 * sizeof(float));
    fs->floats[0] = 0.25f;
    fs->floats[1] = -2.0f;
    xb_attr *ss = &n->attr[n->n_attr++];
    memset(ss, 0, sizeof *ss);
    ss->name = strdup("ss");
    ss->type = XB_ATTR_STRINGS;
    ss->n = 2;
    ss->strings = malloc(2 * sizeof(char *));
    ss->strings[0] = strdup("a");
    ss->strings[1] = strdup("bc");
    n->attr = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof(xb_attr));
    xb_attr *ta = &n->attr[n->n_attr++];
    memset(ta, 0, sizeof *ta);
    ta->name = strdup("t");
    ta->type = XB_ATTR_TENSOR;
    ta->t = calloc(1, sizeof(xb_tensor));
    ta->t->name = strdup("tv");
    ta->t->dtype = XB_I64;
    ta->t->shape.rank = 1;
    ta->t->shape.d[0] = 2;
    int64_t *tv = malloc(2 * sizeof(int64_t));
    tv[0] = 11;
    tv[1] = -12;
    ta->t->data = tv;
    ta->t->is_const = true;
    xb_graph_set_meta(tg->g, "classes", "10", &tg->ctx);
    tg->g->path = strdup("m.onnx");
    tg->g->producer = strdup("pytorch");
}

Test(ir_clone, copies_everything_deeply) {
    xb_test_graph tg;
    build(&tg);
    xb_graph *c = xb_graph_clone(tg.g, &tg.ctx);
    cr_assert_not_null(c, "%s", tg.ctx.msg);
    cr_assert_eq(c->n_tensors, tg.g->n_tensors);
    cr_assert_eq(c->n_nodes, 1);
    cr_assert_eq(c->n_inputs, 1);
    cr_assert_eq(c->n_outputs, 1);
    cr_assert_str_eq(c->path, "m.onnx");
    cr_assert_str_eq(c->producer, "pytorch");
    cr_assert_eq(c->opset_onnx, 17);
    cr_assert_str_eq(xb_graph_meta(c, "classes"), "10");

    int w = xb_graph_find_tensor(c, "w");
    cr_assert_geq(w, 0);
    const xb_tensor *cw = &c->tensors[w], *ow = &tg.g->tensors[w];
    cr_assert(cw->is_const);
    cr_assert_neq(cw->data, ow->data, "data must be a copy, not shared");
    cr_assert_eq(memcmp(cw->data, ow->data, 3), 0);
    cr_assert_eq(cw->q.n, 3);
    cr_assert_eq(cw->q.axis, 0);
    cr_assert_neq(cw->q.scale, ow->q.scale);
    cr_assert_float_eq(cw->q.scale[2], 1.5f, 0.0f);
    cr_assert_eq(cw->q.zero_point[1], 1);

    const xb_node *n = &c->nodes[0];
    cr_assert_str_eq(n->op_type, "Relu");
    cr_assert_neq(n->name, tg.g->nodes[0].name);
    cr_assert_str_eq(n->name, tg.g->nodes[0].name);
    cr_assert_eq(n->in[0], tg.g->nodes[0].in[0]);
    cr_assert_eq(n->out[0], tg.g->nodes[0].out[0]);
    cr_assert_eq(xb_attr_int(n, "i", 0), 7);
    cr_assert_float_eq(xb_attr_float(n, "f", 0), 1.5f, 0.0f);
    const int64_t *iv;
    cr_assert_eq(xb_attr_ints(n, "is", &iv), 3);
    cr_assert_eq(iv[2], 6);
    cr_assert_str_eq(xb_attr_str(n, "s", ""), "hello");
    const xb_attr *fs = xb_attr_find(n, "fs");
    cr_assert_float_eq(fs->floats[1], -2.0f, 0.0f);
    const xb_attr *ss = xb_attr_find(n, "ss");
    cr_assert_str_eq(ss->strings[1], "bc");
    const xb_attr *ta = xb_attr_find(n, "t");
    cr_assert_neq(ta->t, xb_attr_find(&tg.g->nodes[0], "t")->t);
    cr_assert_eq(((int64_t *)ta->t->data)[1], -12);

    /* Mutating the copy leaves the original alone, and both run. */
    ((int8_t *)c->tensors[w].data)[0] = 99;
    cr_assert_eq(((int8_t *)tg.g->tensors[w].data)[0], -1);
    xb_graph_free(tg.g);
    tg.g = NULL;
    cr_assert_eq(xb_graph_prepare(c, 1, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    tg.g = c;
    float x[6] = {-1, 2, -3, 4, -5, 6};
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_float_eq(y[0], 0.0f, 0.0f);
    cr_assert_float_eq(y[5], 6.0f, 0.0f);
    xb_test_end(&tg);
}

Test(ir_clone, prepared_graph_clone_has_no_params_and_reprepares) {
    xb_test_graph tg;
    int64_t dims[] = {-1, 4};
    xb_test_unary_begin(&tg, "Relu", 13, XB_F32, 2, dims);
    cr_assert_eq(xb_graph_prepare(tg.g, 3, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    xb_graph *c = xb_graph_clone(tg.g, &tg.ctx);
    cr_assert_not_null(c);
    cr_assert_null(c->nodes[0].params);
    cr_assert_eq(c->tensors[c->inputs[0]].shape.d[0], 3);
    cr_assert_eq(xb_graph_prepare(c, 3, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(c->tensors[c->outputs[0]].shape.d[0], 3);
    xb_graph_free(c);
    xb_test_end(&tg);
}

Test(ir_clone, null_graph_fails_cleanly) {
    xb_ctx ctx = {0};
    cr_assert_null(xb_graph_clone(NULL, &ctx));
    cr_assert_neq(ctx.status, XB_OK);
}
