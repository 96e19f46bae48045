/* ReduceSum (ai.onnx 1, 11, 13): the sum over the reduced axes (in double).
 * Axes are an attribute before opset 13 and an optional input from 13, which
 * also adds noop_with_empty_axes.  Shared with the other reductions in kernels/reduce.c. */
#include "kernels/reduce.h"
#include "kernels/registry.h"

xb_status xb_op_reduce_sum_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_reduce_prepare(g, n, XB_REDUCE_SUM, ctx);
}

xb_status xb_op_reduce_sum_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_reduce_run(g, n, e, ctx);
}
