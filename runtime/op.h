/* The op interface: what the runtime needs to know about an op.
 *
 * The runtime resolves, prepares and runs nodes through an xb_op_set that
 * the graph carries (xb_graph.ops).  The set itself, the table generated
 * from kernels/ops.def, lives in the kernels layer (kernels/registry.h):
 * the runtime depends on this interface only, never on the kernels, so a
 * test or a future target can hand a graph a different set. */
#ifndef XBAR_OP_H
#define XBAR_OP_H

#include "runtime/exec.h"
#include "runtime/ir.h"

/* Validate attributes and input shapes/dtypes, set output dtypes and shapes,
 * store op-private params in node->params, declare node->scratch_bytes.
 * Every check that can fail happens here, so run does not need to. */
typedef xb_status (*xb_prepare_fn)(xb_graph *g, xb_node *n, xb_ctx *ctx);
/* Compute outputs from inputs.  Buffers come from the xb_exec. */
typedef xb_status (*xb_run_fn)(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx);

typedef struct {
    const char *op_type;
    const char *domain;
    int since;
    xb_prepare_fn prepare;
    xb_run_fn run;
} xb_op_info;

typedef struct xb_op_set {
    const xb_op_info *ops; /* [count]; xb_node.op indexes it */
    int count;
    /* Index for (op_type, domain, opset) or -1; `why` (may be NULL)
     * receives a short reason ("unknown op", "unknown domain", ...). */
    int (*lookup)(const char *op_type, const char *domain, int opset, const char **why);
} xb_op_set;

static inline const xb_op_info *xb_node_op(const xb_graph *g, const xb_node *n) {
    return &g->ops->ops[n->op];
}

#endif
