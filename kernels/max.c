/* Max (ai.onnx 6, 8, 12, 13): elementwise maximum of one or more inputs,
 * with multidirectional broadcasting from version 8 (version 6 requires
 * equal shapes; kernels/eltwise.h).  f32 always; u8, i8, i32, i64 from
 * version 12.  NaN propagates (numpy.maximum, the spec's reference, and
 * PyTorch's torch.max(a, b) do the same). */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_max_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_variadic_prepare(g, n, n->opset >= 12 ? xb_k_numeric : xb_k_f32_only, ctx);
}

xb_status xb_op_max_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    switch (g->tensors[n->out[0]].dtype) {
    case XB_F32: XB_VARIADIC_LOOP(g, n, e, float, (a > b || a != a) ? a : b); break;
    case XB_U8: XB_VARIADIC_LOOP(g, n, e, uint8_t, a > b ? a : b); break;
    case XB_I8: XB_VARIADIC_LOOP(g, n, e, int8_t, a > b ? a : b); break;
    case XB_I32: XB_VARIADIC_LOOP(g, n, e, int32_t, a > b ? a : b); break;
    case XB_I64: XB_VARIADIC_LOOP(g, n, e, int64_t, a > b ? a : b); break;
    default: break;
    }
    return XB_OK;
}
