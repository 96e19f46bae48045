/* LeakyRelu (ai.onnx 6, 16) on f32: y = x for x >= 0, alpha * x otherwise;
 * alpha defaults to 0.01. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    float alpha;
} leakyrelu_params;

xb_status xb_op_leakyrelu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "LeakyRelu on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    leakyrelu_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->alpha = xb_attr_float(n, "alpha", 0.01f);
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_leakyrelu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    float alpha = ((const leakyrelu_params *)n->params)->alpha;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    for (int64_t i = 0; i < len; i++) y[i] = x[i] >= 0.0f ? x[i] : alpha * x[i];
    return XB_OK;
}
