/* Greater (ai.onnx 7, 9, 13): y = (a > b) as bool, with multidirectional
 * broadcasting.  Version 7 takes floats only; integers came with 9.
 * Comparisons with NaN are false. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_greater_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_compare_prepare(g, n, n->opset >= 9 ? xb_k_numeric : xb_k_f32_only, ctx);
}

xb_status xb_op_greater_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_COMPARE_RUN(g, n, e, a > b);
    return XB_OK;
}
