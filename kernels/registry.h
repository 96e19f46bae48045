/* Op registry: generated from kernels/ops.def by X-macros. */
#ifndef XBAR_REGISTRY_H
#define XBAR_REGISTRY_H

#include "../runtime/exec.h"
#include "../runtime/ir.h"

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

typedef enum {
#define XB_OP(id, name, dom, since, prefix) XB_OP_##id,
#include "ops.def"
#undef XB_OP
    XB_OP_COUNT
} xb_op_id;

#define XB_OP(id, name, dom, since, prefix)                                                        \
    xb_status xb_op_##prefix##_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx);                      \
    xb_status xb_op_##prefix##_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx);
#include "ops.def"
#undef XB_OP

extern const xb_op_info xb_ops[XB_OP_COUNT];

/* Highest opset per domain whose semantics we implement. */
#define XB_ONNX_OPSET_MIN 7
#define XB_ONNX_OPSET_MAX 17

/* Registry index for (op_type, domain, opset) or -1.  `why` (may be NULL)
 * receives a short reason: "unknown op", "unknown domain", "opset N < since M". */
int xb_op_lookup(const char *op_type, const char *domain, int opset, const char **why);

#endif
