/* HardSigmoid (ai.onnx 6) on f32: y = max(0, min(1, alpha * x + beta)),
 * alpha = 0.2 and beta = 0.5 by default.  PyTorch's nn.Hardsigmoid exports
 * as alpha = 1/6; before opset 14 its nn.Hardswish exports as
 * HardSigmoid(alpha = 1/6) followed by Mul.  NaN stays NaN. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

typedef struct {
    float alpha, beta;
} hardsigmoid_params;

xb_status xb_op_hardsigmoid_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_unary_prepare(g, n, xb_k_f32_only, ctx));
    hardsigmoid_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->alpha = xb_attr_float(n, "alpha", 0.2f);
    p->beta = xb_attr_float(n, "beta", 0.5f);
    n->params = p;
    return XB_OK;
}

/* Clamp to [0, 1] with comparisons that are false for NaN, so NaN passes. */
static inline float clamp01(float v) {
    v = v < 0.0f ? 0.0f : v;
    return v > 1.0f ? 1.0f : v;
}

xb_status xb_op_hardsigmoid_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const hardsigmoid_params *p = n->params;
    float alpha = p->alpha, beta = p->beta;
    XB_UNARY_LOOP(g, n, e, float, clamp01(alpha * x + beta));
    return XB_OK;
}
