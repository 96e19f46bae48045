/* Reciprocal (ai.onnx 6, 13) on f32: y = 1 / x (1/0 = inf, IEEE). */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_reciprocal_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_reciprocal_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, 1.0f / x);
    return XB_OK;
}
