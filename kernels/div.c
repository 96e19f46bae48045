/* Div (ai.onnx 7, 13, 14): y = a / b with multidirectional broadcasting
 * (kernels/broadcast.h).  f32 follows IEEE (x/0 = +-inf or NaN).  For the
 * integer types (i32, i64; u8 and i8 from opset 14, accepted in every
 * opset) the quotient truncates toward zero, as C and ONNX Runtime do (the
 * ONNX reference computes a / b in numpy and casts, which also truncates).
 * Integer division by zero is undefined in the spec and would trap in C:
 * it is reported as XB_ERR_RUNTIME.  INT_MIN / -1 wraps to INT_MIN. */
#include "kernels/broadcast.h"
#include "kernels/registry.h"

static const xb_dtype ok_types[] = {XB_F32, XB_I32, XB_I64, XB_U8, XB_I8, XB_UNDEF};

xb_status xb_op_div_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_binary_prepare(g, n, ok_types, ctx);
}

xb_status xb_op_div_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const xb_bcast *p = n->params;
    int zero = 0;
    switch (g->tensors[n->out[0]].dtype) {
    case XB_F32:
        XB_BCAST_LOOP(p, float, XB_BIN_A(e, n, float), XB_BIN_B(e, n, float), XB_BIN_Y(e, n, float),
                      a / b);
        break;
    case XB_I32:
        XB_BCAST_LOOP(p, int32_t, XB_BIN_A(e, n, int32_t), XB_BIN_B(e, n, int32_t),
                      XB_BIN_Y(e, n, int32_t),
                      b == 0    ? (zero = 1, 0)
                      : b == -1 ? (int32_t)(0u - (uint32_t)a)
                                : a / b);
        break;
    case XB_I64:
        XB_BCAST_LOOP(p, int64_t, XB_BIN_A(e, n, int64_t), XB_BIN_B(e, n, int64_t),
                      XB_BIN_Y(e, n, int64_t),
                      b == 0    ? (zero = 1, 0)
                      : b == -1 ? (int64_t)(0u - (uint64_t)a)
                                : a / b);
        break;
    case XB_U8:
        XB_BCAST_LOOP(p, uint8_t, XB_BIN_A(e, n, uint8_t), XB_BIN_B(e, n, uint8_t),
                      XB_BIN_Y(e, n, uint8_t), b == 0 ? (zero = 1, 0) : a / b);
        break;
    case XB_I8:
        XB_BCAST_LOOP(p, int8_t, XB_BIN_A(e, n, int8_t), XB_BIN_B(e, n, int8_t),
                      XB_BIN_Y(e, n, int8_t),
                      b == 0    ? (zero = 1, 0)
                      : b == -1 ? (int8_t)(uint8_t)(0u - (unsigned)a)
                                : a / b);
        break;
    default: break;
    }
    if (zero) return xb_fail(ctx, XB_ERR_RUNTIME, "integer division by zero");
    return XB_OK;
}
