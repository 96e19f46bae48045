/* Flatten (ai.onnx 1, 9, 11, 13): [d0..dr-1] -> [d0*..*d(axis-1), daxis*..*d(r-1)].
 * axis defaults to 1 and may be r (giving [numel, 1]) or 0 ([1, numel]);
 * negative axes (opset 11) count from the end. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_flatten_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Flatten on %s tensors", xb_dtype_name(x->dtype));
    int axis;
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", 1), x->shape.rank, 1, "axis", &axis, ctx));
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < x->shape.rank; k++) {
        if (k < axis)
            outer *= x->shape.d[k];
        else
            inner *= x->shape.d[k];
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = 2;
    y->shape.d[0] = outer;
    y->shape.d[1] = inner;
    return XB_OK;
}

xb_status xb_op_flatten_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_k_copy_run(g, n, e, ctx);
}
