/* Sum (ai.onnx 6, 8, 13) on f32: elementwise sum of one or more inputs,
 * with multidirectional broadcasting from version 8 (version 6 requires
 * equal shapes; kernels/eltwise.h).  Added left to right: ((x0 + x1) + x2)... */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_sum_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_variadic_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_sum_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_VARIADIC_LOOP(g, n, e, float, a + b);
    return XB_OK;
}
