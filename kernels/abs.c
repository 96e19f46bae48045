/* Abs (ai.onnx 6, 13): y = |x| on f32, u8, i8, i32, i64.  Like Neg, the
 * most negative integer maps to itself (numpy's wrap) rather than
 * overflowing; u8 is the identity. */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_abs_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_numeric, ctx);
}

xb_status xb_op_abs_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    switch (g->tensors[n->in[0]].dtype) {
    case XB_F32: XB_UNARY_LOOP(g, n, e, float, fabsf(x)); break;
    case XB_U8: XB_UNARY_LOOP(g, n, e, uint8_t, x); break;
    case XB_I8:
        XB_UNARY_LOOP(g, n, e, int8_t, x < 0 ? (int8_t)(uint8_t)(0u - (unsigned)x) : x);
        break;
    case XB_I32: XB_UNARY_LOOP(g, n, e, int32_t, x < 0 ? (int32_t)(0u - (uint32_t)x) : x); break;
    case XB_I64: XB_UNARY_LOOP(g, n, e, int64_t, x < 0 ? (int64_t)(0u - (uint64_t)x) : x); break;
    default: break;
    }
    return XB_OK;
}
