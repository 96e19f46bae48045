/* Clip (ai.onnx 6, 11, 12, 13): y = min(max(x, lo), hi).
 *
 * Before opset 11 the bounds are the float attributes min and max
 * (defaults: the lowest and highest float) and data is float.  From 11 they
 * are optional scalar inputs of the data's type; absent means unbounded.
 * Inputs need not be constant: they are scalars read at run time.  Opset 12
 * adds integer data (we take u8, i8, i32, i64 besides f32; accepted from
 * 12 only, as the spec says).  Order of application follows numpy.clip (the
 * ONNX reference) and ONNX Runtime: max with lo first, then min with hi,
 * so lo > hi yields hi everywhere, and NaN inputs stay NaN. */
#include <float.h>
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    float lo, hi; /* attribute form (opset < 11) */
} clip_params;

static xb_status check_bound(const xb_graph *g, const xb_node *n, int i, const char *what,
                             xb_dtype dt, xb_ctx *ctx) {
    if (!xb_k_has_in(n, i)) return XB_OK;
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (t->dtype != dt)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be %s like the data, got %s", what,
                       t->name, xb_dtype_name(dt), xb_dtype_name(t->dtype));
    /* The spec says scalar; exporters also emit shape [1]. */
    if (xb_shape_numel(&t->shape) != 1 || t->shape.rank > 1)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be a scalar", what, t->name);
    return XB_OK;
}

xb_status xb_op_clip_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, n->opset >= 11 ? 3 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    int ints_ok = n->opset >= 12 && (x->dtype == XB_U8 || x->dtype == XB_I8 ||
                                     x->dtype == XB_I32 || x->dtype == XB_I64);
    if (x->dtype != XB_F32 && !ints_ok)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Clip on %s tensors in opset %d (%s)",
                       xb_dtype_name(x->dtype), n->opset,
                       n->opset >= 12 ? "f32, u8, i8, i32, i64 supported" : "float only before 12");
    clip_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->lo = -FLT_MAX;
    p->hi = FLT_MAX;
    if (n->opset < 11) {
        p->lo = xb_attr_float(n, "min", -FLT_MAX);
        p->hi = xb_attr_float(n, "max", FLT_MAX);
    } else {
        XB_TRY(check_bound(g, n, 1, "min", x->dtype, ctx));
        XB_TRY(check_bound(g, n, 2, "max", x->dtype, ctx));
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = x->shape;
    return XB_OK;
}

/* Bounds default to the type's range; present inputs override them. */
#define CLIP_LOOP(T, LO, HI)                                                                       \
    do {                                                                                           \
        T lo = (LO), hi = (HI);                                                                    \
        if (xb_k_has_in(n, 1)) memcpy(&lo, e->buf[n->in[1]], sizeof lo);                           \
        if (xb_k_has_in(n, 2)) memcpy(&hi, e->buf[n->in[2]], sizeof hi);                           \
        const T *x = (const T *)e->buf[n->in[0]];                                                  \
        T *y = (T *)e->buf[n->out[0]];                                                             \
        for (int64_t i = 0; i < len; i++) {                                                        \
            T v = x[i] < lo ? lo : x[i];                                                           \
            y[i] = v > hi ? hi : v;                                                                \
        }                                                                                          \
    } while (0)

xb_status xb_op_clip_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const clip_params *p = n->params;
    int64_t len = xb_shape_numel(&g->tensors[n->in[0]].shape);
    switch (g->tensors[n->in[0]].dtype) {
    case XB_F32: CLIP_LOOP(float, p->lo, p->hi); break;
    case XB_U8: CLIP_LOOP(uint8_t, 0, UINT8_MAX); break;
    case XB_I8: CLIP_LOOP(int8_t, INT8_MIN, INT8_MAX); break;
    case XB_I32: CLIP_LOOP(int32_t, INT32_MIN, INT32_MAX); break;
    case XB_I64: CLIP_LOOP(int64_t, INT64_MIN, INT64_MAX); break;
    default: break;
    }
    return XB_OK;
}
