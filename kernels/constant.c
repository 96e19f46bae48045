/* Constant (ai.onnx 1, 9, 11, 12, 13).  The value is known when the graph is
 * prepared, so prepare writes it into the output tensor and marks it
 * constant; xb_graph_prepare then drops the node, and consumers see an
 * ordinary initializer.  Exactly one of value (tensor), value_float,
 * value_floats, value_int, value_ints must be set; string and sparse values
 * are unsupported.  value_int(s) are i64 (the spec's type for them). */
#include <stdlib.h>
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

static const char *const value_attrs[] = {"value",        "value_float",   "value_floats",
                                          "value_int",    "value_ints",    "value_string",
                                          "value_strings", "sparse_value"};

xb_status xb_op_constant_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 0, 0, 1, 1, ctx));
    const xb_attr *a = NULL;
    for (size_t k = 0; k < sizeof value_attrs / sizeof value_attrs[0]; k++) {
        const xb_attr *f = xb_attr_find(n, value_attrs[k]);
        if (!f) continue;
        if (a)
            return xb_fail(ctx, XB_ERR_INVALID, "both '%s' and '%s' are set", a->name, f->name);
        a = f;
    }
    if (!a) return xb_fail(ctx, XB_ERR_INVALID, "no value attribute");
    xb_dtype dt = XB_UNDEF;
    xb_shape s = {0};
    const void *src = NULL;
    int64_t iv = 0;
    if (strcmp(a->name, "value") == 0 && a->type == XB_ATTR_TENSOR && a->t) {
        dt = a->t->dtype;
        s = a->t->shape;
        src = a->t->data;
        if (!xb_k_dtype_ok(dt))
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "value tensor of type %s", xb_dtype_name(dt));
        if (!src && xb_shape_numel(&s) != 0)
            return xb_fail(ctx, XB_ERR_INVALID, "value tensor has no data");
    } else if (strcmp(a->name, "value_float") == 0 && a->type == XB_ATTR_FLOAT) {
        dt = XB_F32;
        src = &a->f;
    } else if (strcmp(a->name, "value_floats") == 0 && a->type == XB_ATTR_FLOATS) {
        dt = XB_F32;
        s.rank = 1;
        s.d[0] = a->n;
        src = a->floats;
    } else if (strcmp(a->name, "value_int") == 0 && a->type == XB_ATTR_INT) {
        dt = XB_I64;
        iv = a->i;
        src = &iv;
    } else if (strcmp(a->name, "value_ints") == 0 && a->type == XB_ATTR_INTS) {
        dt = XB_I64;
        s.rank = 1;
        s.d[0] = a->n;
        src = a->ints;
    } else {
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "constant attribute '%s' of this type", a->name);
    }
    size_t bytes;
    if (xb_shape_numel(&s) < 0 ||
        xb_mul_overflow((size_t)xb_shape_numel(&s), xb_dtype_size(dt), &bytes))
        return xb_fail(ctx, XB_ERR_INVALID, "value is too large");
    void *data = xb_malloc(ctx, bytes ? bytes : 1);
    if (!data) return ctx->status;
    if (bytes) memcpy(data, src, bytes);
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = dt;
    y->shape = s;
    xb_tensor_set_const(y, data);
    return XB_OK;
}

/* Unreachable in practice (prepare made the output constant and the node is
 * dropped), but a prepared graph must be runnable node by node. */
xb_status xb_op_constant_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)n, (void)e, (void)ctx;
    return XB_OK;
}
