/* Shape (ai.onnx 1, 13, 15): the input's dimensions as a 1-D i64 tensor.
 * Shapes are static after binding the batch size, so prepare produces the
 * output as a constant and the node folds away; this is what lets the
 * Shape->Gather->...->Reshape chains of dynamic-batch exports collapse.
 * Opset 15 adds start/end: negative values add the rank, then both are
 * clamped to [0, rank]; start >= end gives an empty result. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_shape_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    int64_t r = x->shape.rank;
    int64_t start = 0, end = r;
    if (n->opset >= 15) {
        start = xb_attr_int(n, "start", 0);
        end = xb_attr_int(n, "end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = start < 0 ? 0 : start > r ? r : start;
        end = end < 0 ? 0 : end > r ? r : end;
        if (end < start) end = start;
    }
    int64_t len = end - start;
    int64_t *data = xb_malloc(ctx, (size_t)(len ? len : 1) * sizeof(int64_t));
    if (!data) return ctx->status;
    for (int64_t k = 0; k < len; k++) data[k] = x->shape.d[start + k];
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_I64;
    y->shape.rank = 1;
    y->shape.d[0] = len;
    xb_tensor_set_const(y, data);
    return XB_OK;
}

xb_status xb_op_shape_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)n, (void)e, (void)ctx;
    return XB_OK;
}
