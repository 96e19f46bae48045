/* Concat (ai.onnx 4, 11, 13): join inputs along `axis` (required; negative
 * counts from the end, official from opset 11, accepted in every opset).
 * All inputs share dtype and rank and agree on every other dimension.
 * Byte moves only, so any dtype works (folding runs it on i64 shapes). */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int axis;
} concat_params;

xb_status xb_op_concat_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1 << 20, 1, 1, ctx));
    const xb_attr *aa = xb_attr_find(n, "axis");
    if (!aa || aa->type != XB_ATTR_INT)
        return xb_fail(ctx, XB_ERR_INVALID, "missing required attribute 'axis'");
    const xb_tensor *x0 = NULL;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0) return xb_fail(ctx, XB_ERR_INVALID, "input %d is missing", i);
        if (!x0) x0 = xb_in_t(g, n, i);
    }
    if (!xb_k_dtype_ok(x0->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Concat on %s tensors", xb_dtype_name(x0->dtype));
    if (x0->shape.rank < 1) return xb_fail(ctx, XB_ERR_INVALID, "inputs must have rank >= 1");
    int axis;
    XB_TRY(xb_k_axis(aa->i, x0->shape.rank, 0, "axis", &axis, ctx));
    xb_shape s = x0->shape;
    s.d[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const xb_tensor *x = xb_in_t(g, n, i);
        if (x->dtype != x0->dtype)
            return xb_fail(ctx, XB_ERR_INVALID, "input '%s' is %s but input '%s' is %s", x->name,
                           xb_dtype_name(x->dtype), x0->name, xb_dtype_name(x0->dtype));
        if (x->shape.rank != x0->shape.rank)
            return xb_fail(ctx, XB_ERR_INVALID, "input '%s' has rank %d, input '%s' rank %d",
                           x->name, x->shape.rank, x0->name, x0->shape.rank);
        for (int k = 0; k < s.rank; k++) {
            if (k == axis) continue;
            if (x->shape.d[k] != x0->shape.d[k]) {
                char a[128], b[128];
                return xb_fail(ctx, XB_ERR_INVALID,
                               "input '%s' %s and input '%s' %s differ outside axis %d", x->name,
                               xb_shape_str(&x->shape, a, sizeof a), x0->name,
                               xb_shape_str(&x0->shape, b, sizeof b), axis);
            }
        }
        s.d[axis] += x->shape.d[axis];
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x0->dtype;
    y->shape = s;
    concat_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->axis = axis;
    n->params = p;
    return XB_OK;
}

xb_status xb_op_concat_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const concat_params *p = n->params;
    const xb_tensor *y = &g->tensors[n->out[0]];
    size_t es = xb_dtype_size(y->dtype);
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < p->axis; k++) outer *= y->shape.d[k];
    for (int k = p->axis + 1; k < y->shape.rank; k++) inner *= y->shape.d[k];
    char *dst = e->buf[n->out[0]];
    size_t out_row = (size_t)(y->shape.d[p->axis] * inner) * es;
    size_t off = 0;
    for (int i = 0; i < n->n_in; i++) {
        const xb_tensor *x = &g->tensors[n->in[i]];
        size_t row = (size_t)(x->shape.d[p->axis] * inner) * es;
        const char *src = e->buf[n->in[i]];
        if (row)
            for (int64_t o = 0; o < outer; o++)
                memcpy(dst + (size_t)o * out_row + off, src + (size_t)o * row, row);
        off += row;
    }
    return XB_OK;
}
