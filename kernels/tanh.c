/* Tanh (ai.onnx 6, 13) on f32, via the C library's tanhf. */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_tanh_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Tanh on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_tanh_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    for (int64_t i = 0; i < len; i++) y[i] = tanhf(x[i]);
    return XB_OK;
}
