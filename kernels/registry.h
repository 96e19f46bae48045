/* The kernels' op table, generated from kernels/ops.def by X-macros.
 *
 * runtime/op.h defines what an op is (xb_op_info) and how a graph finds
 * its ops (xb_op_set); this header gives each op of ops.def an id, declares
 * its prepare and run, and exports the table as xb_kernel_ops, the set
 * every loaded graph carries. */
#ifndef XBAR_REGISTRY_H
#define XBAR_REGISTRY_H

#include "runtime/op.h"

typedef enum {
#define XB_OP(id, name, dom, since, prefix) XB_OP_##id,
#include "kernels/ops.def"
#undef XB_OP
    XB_OP_COUNT
} xb_op_id;

#define XB_OP(id, name, dom, since, prefix)                                                        \
    xb_status xb_op_##prefix##_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx);                      \
    xb_status xb_op_##prefix##_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx);
#include "kernels/ops.def"
#undef XB_OP

/* Indexed by xb_op_id. */
extern const xb_op_info xb_ops[];
/* The set graphs are created with: xb_graph_new(&xb_kernel_ops, ctx). */
extern const xb_op_set xb_kernel_ops;

/* Highest opset per domain whose semantics we implement. */
#define XB_ONNX_OPSET_MIN 7
#define XB_ONNX_OPSET_MAX 17

/* Registry index for (op_type, domain, opset) or -1.  `why` (may be NULL)
 * receives a short reason: "unknown op", "unknown domain", "opset N < since M". */
int xb_op_lookup(const char *op_type, const char *domain, int opset, const char **why);

#endif
