/* Equal (ai.onnx 7, 11, 13): y = (a == b) as bool, with multidirectional
 * broadcasting.  Version 7 takes bool, i32, i64 (we also take u8, i8);
 * float inputs came with version 11.  NaN is unequal to everything. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

static const xb_dtype types_7[] = {XB_BOOL, XB_U8, XB_I8, XB_I32, XB_I64, XB_UNDEF};
static const xb_dtype types_11[] = {XB_BOOL, XB_F32, XB_U8, XB_I8, XB_I32, XB_I64, XB_UNDEF};

xb_status xb_op_equal_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_compare_prepare(g, n, n->opset >= 11 ? types_11 : types_7, ctx);
}

xb_status xb_op_equal_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_COMPARE_RUN(g, n, e, a == b);
    return XB_OK;
}
