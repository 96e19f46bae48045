/* Shared engine of the float reductions ReduceMean, ReduceSum, ReduceMax,
 * ReduceMin and ReduceL2 (ONNX operator spec, "Reduce*" family).
 *
 * Every one reduces the input over a set of axes (all axes when none are
 * given), keeping the reduced axes as size 1 when keepdims = 1 (the
 * default).  Where the axes come from depends on the op and opset: an
 * `axes` attribute, except for ReduceSum from opset 13, which takes them as
 * an optional i64 input (constant after folding) and adds
 * noop_with_empty_axes: with it set, no axes (or an empty list) means
 * "return the input unchanged" instead of "reduce everything".  The other
 * ops move to the input form in opset 18, outside our 7..17 window. */
#ifndef XBAR_REDUCE_H
#define XBAR_REDUCE_H

#include "runtime/exec.h"
#include "runtime/ir.h"

typedef enum {
    XB_REDUCE_MEAN,
    XB_REDUCE_SUM,
    XB_REDUCE_MAX,
    XB_REDUCE_MIN,
    XB_REDUCE_L2
} xb_reduce_kind;

xb_status xb_reduce_prepare(xb_graph *g, xb_node *n, xb_reduce_kind kind, xb_ctx *ctx);
xb_status xb_reduce_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx);

#endif
