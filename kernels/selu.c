/* Selu (ai.onnx 6) on f32: y = gamma * x for x > 0,
 * gamma * (alpha * exp(x) - alpha) otherwise, with the spec's defaults
 * alpha = 1.67326319217681884765625, gamma = 1.05070102214813232421875
 * (the float32 values of Klambauer et al., 2017).  alpha * exp(x) - alpha is
 * computed as alpha * expm1(x). */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

typedef struct {
    float alpha, gamma;
} selu_params;

xb_status xb_op_selu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_unary_prepare(g, n, xb_k_f32_only, ctx));
    selu_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->alpha = xb_attr_float(n, "alpha", 1.67326319217681884765625f);
    p->gamma = xb_attr_float(n, "gamma", 1.05070102214813232421875f);
    n->params = p;
    return XB_OK;
}

xb_status xb_op_selu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const selu_params *p = n->params;
    float alpha = p->alpha, gamma = p->gamma;
    XB_UNARY_LOOP(g, n, e, float, x > 0.0f ? gamma * x : gamma * (alpha * expm1f(x)));
    return XB_OK;
}
