/* Xor (ai.onnx 7): logical xor of two bool tensors, with multidirectional
 * broadcasting (version 1's axis/broadcast attributes predate the accepted
 * opsets).  Any nonzero input byte counts as true (kernels/eltwise.h); the
 * output is 0 or 1. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_xor_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_compare_prepare(g, n, xb_k_bool_only, ctx);
}

xb_status xb_op_xor_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_COMPARE_RUN(g, n, e, (a != 0) != (b != 0));
    return XB_OK;
}
