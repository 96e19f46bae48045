/* Elu (ai.onnx 6) on f32: y = x for x >= 0, alpha * (exp(x) - 1) otherwise;
 * alpha defaults to 1.  exp(x) - 1 is computed as expm1(x), which keeps
 * its relative precision for x near 0. */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

typedef struct {
    float alpha;
} elu_params;

xb_status xb_op_elu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_unary_prepare(g, n, xb_k_f32_only, ctx));
    elu_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->alpha = xb_attr_float(n, "alpha", 1.0f);
    n->params = p;
    return XB_OK;
}

xb_status xb_op_elu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    float alpha = ((const elu_params *)n->params)->alpha;
    XB_UNARY_LOOP(g, n, e, float, x >= 0.0f ? x : alpha * expm1f(x));
    return XB_OK;
}
