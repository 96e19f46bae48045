/* Log (ai.onnx 6, 13) on f32: natural logarithm; log(0) = -inf and
 * negative x gives NaN, as in numpy (the spec's reference). */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_log_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_log_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, logf(x));
    return XB_OK;
}
