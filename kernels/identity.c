/* Identity (ai.onnx 1, 13, 14, 16): y = x, any tensor type we hold.
 * Optional and sequence types (14, 16) never reach here: the loader only
 * makes plain tensors.  The copy is a memcpy; Identity nodes are rare and
 * tiny, and folding removes those on constants. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_identity_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Identity on %s tensors", xb_dtype_name(x->dtype));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_identity_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_k_copy_run(g, n, e, ctx);
}
