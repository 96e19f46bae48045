/* Sub (ai.onnx 7, 13, 14): y = a - b with multidirectional broadcasting
 * (kernels/broadcast.h).  f32; i32/i64 for the shape arithmetic of
 * dynamic-batch exports; u8/i8 (opset 14 types, accepted in every opset).
 * Integer overflow wraps modulo 2^bits (computed in unsigned arithmetic, so
 * it is defined in C), as numpy and ONNX Runtime behave on two's-complement
 * machines.  The legacy broadcast/axis attributes of opset < 7 are out of
 * scope (the registry rejects < 7). */
#include "kernels/broadcast.h"
#include "kernels/registry.h"

static const xb_dtype ok_types[] = {XB_F32, XB_I32, XB_I64, XB_U8, XB_I8, XB_UNDEF};

xb_status xb_op_sub_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_binary_prepare(g, n, ok_types, ctx);
}

xb_status xb_op_sub_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const xb_bcast *p = n->params;
    switch (g->tensors[n->out[0]].dtype) {
    case XB_F32:
        XB_BCAST_LOOP(p, float, XB_BIN_A(e, n, float), XB_BIN_B(e, n, float), XB_BIN_Y(e, n, float),
                      a - b);
        break;
    case XB_I32:
        XB_BCAST_LOOP(p, int32_t, XB_BIN_A(e, n, int32_t), XB_BIN_B(e, n, int32_t),
                      XB_BIN_Y(e, n, int32_t), (int32_t)((uint32_t)a - (uint32_t)b));
        break;
    case XB_I64:
        XB_BCAST_LOOP(p, int64_t, XB_BIN_A(e, n, int64_t), XB_BIN_B(e, n, int64_t),
                      XB_BIN_Y(e, n, int64_t), (int64_t)((uint64_t)a - (uint64_t)b));
        break;
    case XB_U8:
        XB_BCAST_LOOP(p, uint8_t, XB_BIN_A(e, n, uint8_t), XB_BIN_B(e, n, uint8_t),
                      XB_BIN_Y(e, n, uint8_t), (uint8_t)((unsigned)a - (unsigned)b));
        break;
    case XB_I8:
        XB_BCAST_LOOP(p, int8_t, XB_BIN_A(e, n, int8_t), XB_BIN_B(e, n, int8_t),
                      XB_BIN_Y(e, n, int8_t), (int8_t)(uint8_t)((unsigned)a - (unsigned)b));
        break;
    default: break;
    }
    return XB_OK;
}
