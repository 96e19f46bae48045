/* ReduceMax (ai.onnx 1, 11, 13): the maximum over the reduced axes (NaN propagates).
 * Shared with the other reductions in kernels/reduce.c. */
#include "kernels/reduce.h"
#include "kernels/registry.h"

xb_status xb_op_reduce_max_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_reduce_prepare(g, n, XB_REDUCE_MAX, ctx);
}

xb_status xb_op_reduce_max_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_reduce_run(g, n, e, ctx);
}
