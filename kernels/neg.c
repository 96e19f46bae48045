/* Neg (ai.onnx 6, 13): y = -x on f32, i8, i32, i64 (the spec's signed
 * types we have).  Integers negate in unsigned arithmetic, so the most
 * negative value maps to itself (two's-complement wrap, as numpy does)
 * instead of overflowing. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_neg_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_signed, ctx);
}

xb_status xb_op_neg_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    switch (g->tensors[n->in[0]].dtype) {
    case XB_F32: XB_UNARY_LOOP(g, n, e, float, -x); break;
    case XB_I8: XB_UNARY_LOOP(g, n, e, int8_t, (int8_t)(uint8_t)(0u - (unsigned)x)); break;
    case XB_I32: XB_UNARY_LOOP(g, n, e, int32_t, (int32_t)(0u - (uint32_t)x)); break;
    case XB_I64: XB_UNARY_LOOP(g, n, e, int64_t, (int64_t)(0u - (uint64_t)x)); break;
    default: break;
    }
    return XB_OK;
}
