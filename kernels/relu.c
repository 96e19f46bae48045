/* Relu (ai.onnx 1, 6, 13, 14): y = max(x, 0).  Float only; integer
 * activations are handled by the quantized matrix layers' epilogues. */
#include "kernels/registry.h"

xb_status xb_op_relu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->n_in != 1 || n->n_out != 1 || n->in[0] < 0)
        return xb_fail(ctx, XB_ERR_INVALID, "Relu takes 1 input and 1 output");
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Relu on %s tensors", xb_dtype_name(x->dtype));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_relu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    for (int64_t i = 0; i < len; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return XB_OK;
}
