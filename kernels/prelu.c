/* PRelu (ai.onnx 7, 9, 16) on f32: y = x for x >= 0, slope * x otherwise.
 * slope broadcasts unidirectionally to x (ONNX Broadcasting.md): the
 * broadcast of the two shapes must be x's shape.  PyTorch exports the
 * per-channel slope of nn.PReLU(C) as [C, 1, 1] against [N, C, H, W] (and a
 * single shared slope as [1]). */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_prelu_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    const xb_tensor *s = xb_in_t(g, n, 1);
    XB_TRY(xb_k_dtype_in(n, x->dtype, xb_k_f32_only, ctx));
    if (s->dtype != x->dtype)
        return xb_fail(ctx, XB_ERR_INVALID, "slope '%s' is %s, X is %s", s->name,
                       xb_dtype_name(s->dtype), xb_dtype_name(x->dtype));
    xb_shape out;
    XB_TRY(xb_bcast_shape(&x->shape, &s->shape, &out, ctx));
    if (!xb_shape_eq(&out, &x->shape)) {
        char sx[128], ss[128];
        return xb_fail(ctx, XB_ERR_INVALID,
                       "slope %s does not broadcast unidirectionally to X %s",
                       xb_shape_str(&s->shape, ss, sizeof ss), xb_shape_str(&x->shape, sx, sizeof sx));
    }
    xb_bcast *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    xb_bcast_plan(&x->shape, &s->shape, p);
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_prelu_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g;
    (void)ctx;
    XB_BCAST_LOOP((const xb_bcast *)n->params, float, XB_BIN_A(e, n, float), XB_BIN_B(e, n, float),
                  XB_BIN_Y(e, n, float), a < 0.0f ? a * b : a);
    return XB_OK;
}
