/* Sqrt (ai.onnx 6, 13) on f32: y = sqrt(x); negative x gives NaN, as the
 * spec's reference (numpy) does. */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_sqrt_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_sqrt_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, sqrtf(x));
    return XB_OK;
}
