/* Erf (ai.onnx 9, 13) on f32: the Gauss error function.  PyTorch exports
 * the exact GELU at opsets <= 17 as x * 0.5 * (1 + erf(x / sqrt(2)))
 * (Div, Erf, Add, Mul, Mul), so this op is what makes GELU models run. */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_erf_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_erf_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, erff(x));
    return XB_OK;
}
