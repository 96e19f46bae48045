/* Celu (ai.onnx 12) on f32:
 *   y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)),  alpha = 1 by default.
 * The formula is taken literally (with expm1), so a negative alpha behaves
 * as the spec's formula says; alpha = 0 is rejected (x / alpha). */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

typedef struct {
    float alpha;
} celu_params;

xb_status xb_op_celu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_unary_prepare(g, n, xb_k_f32_only, ctx));
    float alpha = xb_attr_float(n, "alpha", 1.0f);
    if (alpha == 0.0f || !isfinite(alpha))
        return xb_fail(ctx, XB_ERR_INVALID, "attribute 'alpha' must be finite and nonzero, got %g",
                       (double)alpha);
    celu_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->alpha = alpha;
    n->params = p;
    return XB_OK;
}

/* NaN x: the max term is 0 and the min term NaN, so NaN propagates. */
static inline float celu(float x, float alpha) {
    float pos = x > 0.0f ? x : 0.0f;
    float neg = alpha * expm1f(x / alpha);
    return pos + (neg > 0.0f ? 0.0f : neg);
}

xb_status xb_op_celu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    float alpha = ((const celu_params *)n->params)->alpha;
    XB_UNARY_LOOP(g, n, e, float, celu(x, alpha));
    return XB_OK;
}
