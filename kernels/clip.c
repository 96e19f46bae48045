/* Clip (ai.onnx 6, 11, 12, 13) on f32: y = min(max(x, lo), hi).
 *
 * Before opset 11 the bounds are the float attributes min and max
 * (defaults: the lowest and highest float).  From 11 they are optional
 * scalar inputs; absent means unbounded.  Inputs need not be constant: they
 * are scalars read at run time.  Order of application follows numpy.clip
 * (the ONNX reference) and ONNX Runtime: max with lo first, then min with
 * hi, so lo > hi yields hi everywhere, and NaN inputs stay NaN.
 * Integer Clip (opset 12+) is not implemented: integer tensors only occur
 * inside our quantized layers, which clamp in their own epilogues. */
#include <float.h>

#include "kutil.h"
#include "registry.h"

typedef struct {
    float lo, hi; /* attribute form, or defaults when inputs are absent */
} clip_params;

static xb_status check_bound(const xb_graph *g, const xb_node *n, int i, const char *what,
                             xb_ctx *ctx) {
    if (!xb_k_has_in(n, i)) return XB_OK;
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (t->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be f32 like the data, got %s", what,
                       t->name, xb_dtype_name(t->dtype));
    /* The spec says scalar; exporters also emit shape [1]. */
    if (xb_shape_numel(&t->shape) != 1 || t->shape.rank > 1)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be a scalar", what, t->name);
    return XB_OK;
}

xb_status xb_op_clip_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, n->opset >= 11 ? 3 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Clip on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    clip_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->lo = -FLT_MAX;
    p->hi = FLT_MAX;
    if (n->opset < 11) {
        p->lo = xb_attr_float(n, "min", -FLT_MAX);
        p->hi = xb_attr_float(n, "max", FLT_MAX);
    } else {
        XB_TRY(check_bound(g, n, 1, "min", ctx));
        XB_TRY(check_bound(g, n, 2, "max", ctx));
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_clip_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const clip_params *p = n->params;
    float lo = p->lo, hi = p->hi;
    if (n->opset >= 11) {
        if (xb_k_has_in(n, 1)) lo = *(const float *)e->buf[n->in[1]];
        if (xb_k_has_in(n, 2)) hi = *(const float *)e->buf[n->in[2]];
    }
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    for (int64_t i = 0; i < len; i++) {
        float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
    return XB_OK;
}
