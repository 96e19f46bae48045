/* Size (ai.onnx 1, 13): the input's element count as an i64 scalar.  As
 * with Shape, shapes are static after binding the batch size, so prepare
 * produces the output as a constant and the node folds away (the
 * LayerNormalization function body divides by it). */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_size_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    int64_t *data = xb_malloc(ctx, sizeof(int64_t));
    if (!data) return ctx->status;
    *data = xb_shape_numel(&x->shape);
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_I64;
    y->shape.rank = 0;
    xb_tensor_set_const(y, data);
    return XB_OK;
}

xb_status xb_op_size_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)n, (void)e, (void)ctx;
    return XB_OK;
}
