/* HardSwish (ai.onnx 14) on f32: y = x * max(0, min(1, x / 6 + 0.5)).
 * The spec defines it as x * HardSigmoid(x) with alpha = 1/6, beta = 0.5;
 * we multiply by 1/6 as its function body does.  PyTorch exports
 * nn.Hardswish as this op from opset 14 and as HardSigmoid + Mul before. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_hardswish_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_unary_prepare(g, n, xb_k_f32_only, ctx);
}

static inline float hardswish(float x) {
    float v = x * (1.0f / 6.0f) + 0.5f;
    v = v < 0.0f ? 0.0f : v;
    v = v > 1.0f ? 1.0f : v;
    return x * v;
}

xb_status xb_op_hardswish_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_UNARY_LOOP(g, n, e, float, hardswish(x));
    return XB_OK;
}
