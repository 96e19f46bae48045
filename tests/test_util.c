#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>

void xb_test_begin(xb_test_graph *tg) {
    memset(tg, 0, sizeof *tg);
    tg->g = xb_graph_new(&xb_kernel_ops, &tg->ctx);
    tg->g->opset_onnx = 17;
}

static void add_graph_input(xb_graph *g, int t) {
    g->inputs = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof(int));
    g->inputs[g->n_inputs++] = t;
}

int xb_test_input(xb_test_graph *tg, const char *name, xb_dtype dt, int rank, const int64_t *dims) {
    xb_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = dims[i];
    int t = xb_graph_add_tensor(tg->g, name, dt, &s, &tg->ctx);
    tg->g->tensors[t].shape_known = true;
    add_graph_input(tg->g, t);
    return t;
}

int xb_test_const(xb_test_graph *tg, const char *name, xb_dtype dt, int rank, const int64_t *dims,
                  const void *data) {
    xb_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = dims[i];
    int t = xb_graph_add_tensor(tg->g, name, dt, &s, &tg->ctx);
    size_t bytes = (size_t)xb_shape_numel(&s) * xb_dtype_size(dt);
    void *copy = malloc(bytes ? bytes : 1);
    if (bytes) memcpy(copy, data, bytes);
    xb_tensor_set_const(&tg->g->tensors[t], copy);
    return t;
}

int xb_test_tensor(xb_test_graph *tg, const char *name) {
    return xb_graph_add_tensor(tg->g, name, XB_UNDEF, NULL, &tg->ctx);
}

void xb_test_output(xb_test_graph *tg, int tensor) {
    xb_graph *g = tg->g;
    g->outputs = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof(int));
    g->outputs[g->n_outputs++] = tensor;
}

int xb_test_node(xb_test_graph *tg, const char *op_type, int opset, const int *in, int n_in,
                 const int *out, int n_out) {
    char name[64];
    snprintf(name, sizeof name, "%s_%d", op_type, tg->g->n_nodes);
    return xb_graph_add_node(tg->g, name, op_type, "", opset, in, n_in, out, n_out, &tg->ctx);
}

static xb_attr *new_attr(xb_test_graph *tg, int node, const char *name, xb_attr_type type) {
    xb_node *n = &tg->g->nodes[node];
    n->attr = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof(xb_attr));
    xb_attr *a = &n->attr[n->n_attr++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = type;
    return a;
}

void xb_test_attr_int(xb_test_graph *tg, int node, const char *name, int64_t v) {
    new_attr(tg, node, name, XB_ATTR_INT)->i = v;
}

void xb_test_attr_float(xb_test_graph *tg, int node, const char *name, float v) {
    new_attr(tg, node, name, XB_ATTR_FLOAT)->f = v;
}

void xb_test_attr_ints(xb_test_graph *tg, int node, const char *name, int n, const int64_t *v) {
    xb_attr *a = new_attr(tg, node, name, XB_ATTR_INTS);
    a->n = n;
    a->ints = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (n) memcpy(a->ints, v, (size_t)n * sizeof(int64_t));
}

void xb_test_attr_str(xb_test_graph *tg, int node, const char *name, const char *s) {
    new_attr(tg, node, name, XB_ATTR_STRING)->s = strdup(s);
}

void xb_test_unary_begin(xb_test_graph *tg, const char *op_type, int opset, xb_dtype dt, int rank,
                         const int64_t *dims) {
    xb_test_begin(tg);
    int x = xb_test_input(tg, "x", dt, rank, dims);
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, op_type, opset, &x, 1, &y, 1);
    xb_test_output(tg, y);
}

xb_status xb_test_prepare(xb_test_graph *tg) { return xb_graph_prepare(tg->g, 1, &tg->ctx); }

void *xb_test_run(xb_test_graph *tg, const void *const *inputs, int k) {
    xb_graph *g = tg->g;
    if (!tg->e) tg->e = xb_exec_new(g, &tg->ctx);
    if (!tg->e) return NULL;
    for (int i = 0; i < g->n_inputs; i++) {
        const xb_tensor *t = &g->tensors[g->inputs[i]];
        size_t bytes = (size_t)xb_shape_numel(&t->shape) * xb_dtype_size(t->dtype);
        memcpy(tg->e->buf[g->inputs[i]], inputs[i], bytes);
    }
    if (xb_exec_run(tg->e, &tg->ctx) != XB_OK) return NULL;
    return tg->e->buf[g->outputs[k]];
}

void *xb_test_run1(xb_test_graph *tg, const void *x) {
    const void *in[1] = {x};
    return xb_test_run(tg, in, 0);
}

void xb_test_end(xb_test_graph *tg) {
    xb_exec_free(tg->e);
    xb_graph_free(tg->g);
    memset(tg, 0, sizeof *tg);
}
