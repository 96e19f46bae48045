/* LessOrEqual (ai.onnx 12, 16): y = (a <= b) as bool, with multidirectional
 * broadcasting, on floats and integers (16 only adds bfloat16, which xbar
 * has no tensor type for).  Comparisons with NaN are false.  PyTorch emits
 * it for `<=` from opset 12 (Not of the strict comparison before). */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_less_or_equal_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_compare_prepare(g, n, xb_k_numeric, ctx);
}

xb_status xb_op_less_or_equal_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_COMPARE_RUN(g, n, e, a <= b);
    return XB_OK;
}
