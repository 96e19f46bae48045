/* Softplus (ai.onnx 1) on f32: y = ln(exp(x) + 1).
 * Evaluated as x + log1p(exp(-x)) for x > 0 and log1p(exp(x)) otherwise
 * (the same identity ONNX Runtime uses), so exp never overflows: large x
 * gives x instead of inf, and very negative x gives tiny positive values
 * with full relative precision. */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_softplus_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_softplus_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)));
    return XB_OK;
}
