/* Not (ai.onnx 1) on bool: y = !x.  Any nonzero input byte counts as true
 * (kernels/eltwise.h); the output is 0 or 1. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_not_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_bool_only, ctx);
}

xb_status xb_op_not_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, uint8_t, (uint8_t)(x == 0));
    return XB_OK;
}
