#include "kernels/registry.h"

#include <string.h>

/* Positional, in ops.def order, and sized by its initializers: the static
 * assert below then checks that the table and the xb_op_id enum were
 * expanded from the same lines (a conditional or duplicated expansion in
 * one of them would change one count and not the other). */
const xb_op_info xb_ops[] = {
#define XB_OP(id, name, dom, since, prefix)                                                        \
    {name, dom, since, xb_op_##prefix##_prepare, xb_op_##prefix##_run},
#include "kernels/ops.def"
#undef XB_OP
};

_Static_assert(sizeof xb_ops / sizeof xb_ops[0] == XB_OP_COUNT,
               "kernels/registry.c table and xb_op_id disagree: check kernels/ops.def");

int xb_op_lookup(const char *op_type, const char *domain, int opset, const char **why) {
    int onnx = xb_domain_is_onnx(domain);
    if (!onnx && strcmp(domain, "xbar") != 0) {
        if (why) *why = "unknown domain";
        return -1;
    }
    for (int i = 0; i < XB_OP_COUNT; i++) {
        const xb_op_info *op = &xb_ops[i];
        if (strcmp(op->op_type, op_type) != 0) continue;
        if (onnx != xb_domain_is_onnx(op->domain)) continue;
        if (onnx && (opset < XB_ONNX_OPSET_MIN || opset > XB_ONNX_OPSET_MAX)) {
            if (why) *why = "opset outside supported range 7..17";
            return -1;
        }
        if (opset < op->since) {
            if (why) *why = "opset older than the op's first supported version";
            return -1;
        }
        return i;
    }
    if (why) *why = "unknown op";
    return -1;
}

const xb_op_set xb_kernel_ops = {xb_ops, XB_OP_COUNT, xb_op_lookup};
