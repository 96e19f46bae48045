/* Sigmoid (ai.onnx 6, 13) on f32: y = 1 / (1 + exp(-x)).
 * For negative x it is evaluated as e / (1 + e) with e = exp(x), so exp
 * never overflows: large negative x gives tiny positive values (or 0)
 * rather than 1 / inf, and the result stays in [0, 1]. */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_sigmoid_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Sigmoid on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_sigmoid_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    for (int64_t i = 0; i < len; i++) {
        float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float t = expf(v);
            y[i] = t / (1.0f + t);
        }
    }
    return XB_OK;
}
