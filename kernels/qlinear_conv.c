/* QLinearConv (ai.onnx 10).
 *
 *   acc    = conv(x - x_zero_point, w - w_zero_point) + B      (exact int32)
 *   y      = saturate(rint(acc * (x_scale * w_scale[m] / y_scale)) + y_zero_point)
 *
 * x, w u8 or i8; y takes y_zero_point's type.  x, y scales and zero points
 * are per tensor; w's per tensor or per output channel.  B is int32 with
 * scale x_scale * w_scale and zero point 0.  The multiplier is formed in
 * float32 and the product in double with round half to even, which is how
 * the ONNX reference evaluates it in numpy (qmath.h). */
#include "kernels/kutil.h"
#include "kernels/qint.h"
#include "kernels/qmath.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

typedef struct {
    xb_qint_conv c;
    int64_t ws_step, wz_step;
    xb_dtype ydt;
    size_t off_acc;
} qlinear_conv;

enum { X, XS, XZ, W, WS, WZ, YS, YZ, B };

static xb_status scalar_in(const xb_graph *g, const xb_node *n, int i, const char *what,
                           xb_dtype dt, xb_ctx *ctx) {
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (dt != XB_UNDEF && t->dtype != dt)
        return xb_fail(ctx, XB_ERR_INVALID, "%s is %s, expected %s", what, xb_dtype_name(t->dtype),
                       xb_dtype_name(dt));
    int64_t c = xb_qp_count(g, n, i, what, ctx);
    if (c < 0) return ctx->status;
    if (c != 1) return xb_fail(ctx, XB_ERR_INVALID, "%s must be a single value", what);
    return XB_OK;
}

xb_status xb_op_qlinear_conv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 8, 9, 1, 1, ctx));
    qlinear_conv *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    /* Our int32 accumulators [Cout][P] come first in the scratch. */
    const xb_tensor *x = xb_in_t(g, n, X), *w = xb_in_t(g, n, W);
    if (x->shape.rank < 3 || w->shape.rank < 3)
        return xb_fail(ctx, XB_ERR_INVALID, "x and w must have rank >= 3");
    XB_TRY(xb_qint_conv_init(&p->c, g, n, W, 0, ctx));
    size_t acc = (size_t)(p->c.cg.cout * p->c.cg.P) * 4;
    XB_TRY(xb_qint_conv_init(&p->c, g, n, W, acc, ctx));
    p->off_acc = 0;
    XB_TRY(scalar_in(g, n, XS, "x_scale", XB_F32, ctx));
    XB_TRY(scalar_in(g, n, XZ, "x_zero_point", p->c.xdt, ctx));
    XB_TRY(scalar_in(g, n, YS, "y_scale", XB_F32, ctx));
    XB_TRY(scalar_in(g, n, YZ, "y_zero_point", XB_UNDEF, ctx));
    p->ydt = xb_in_t(g, n, YZ)->dtype;
    if (p->ydt != XB_U8 && p->ydt != XB_I8)
        return xb_fail(ctx, XB_ERR_INVALID, "y_zero_point is %s, expected u8 or i8",
                       xb_dtype_name(p->ydt));
    const int64_t cout = p->c.cg.cout;
    if (xb_in_t(g, n, WS)->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_INVALID, "w_scale must be f32");
    if (xb_in_t(g, n, WZ)->dtype != p->c.wdt)
        return xb_fail(ctx, XB_ERR_INVALID, "w_zero_point type differs from w's");
    XB_TRY(xb_qint_per_vector(g, n, WS, "w_scale", cout, "output channel", &p->ws_step, ctx));
    XB_TRY(xb_qint_per_vector(g, n, WZ, "w_zero_point", cout, "output channel", &p->wz_step, ctx));
    if (xb_k_has_in(n, B)) {
        const xb_tensor *b = xb_in_t(g, n, B);
        if (b->dtype != XB_I32 || b->shape.rank != 1 || b->shape.d[0] != cout)
            return xb_fail(ctx, XB_ERR_INVALID, "bias must be i32 [%lld]", (long long)cout);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = p->ydt;
    xb_conv_geom_out_shape(&p->c.cg, &y->shape);
    n->scratch_bytes = p->c.scratch;
    (void)x;
    return XB_OK;
}

xb_status xb_op_qlinear_conv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const qlinear_conv *p = n->params;
    const xb_conv_geom *cg = &p->c.cg;
    const uint8_t *x = e->buf[n->in[X]];
    const float xs = *(const float *)e->buf[n->in[XS]], ys = *(const float *)e->buf[n->in[YS]];
    const float *ws = e->buf[n->in[WS]];
    const int32_t xz = xb_qint_get(e->buf[n->in[XZ]], p->c.xdt, 0);
    const int32_t yz = xb_qint_get(e->buf[n->in[YZ]], p->ydt, 0);
    const int32_t *bias = xb_k_has_in(n, B) ? e->buf[n->in[B]] : NULL;
    const int32_t lo = p->ydt == XB_U8 ? 0 : -128, hi = p->ydt == XB_U8 ? 255 : 127;
    int32_t *acc = (int32_t *)((uint8_t *)e->scratch + p->off_acc);
    const int64_t in_img = cg->cin * cg->h * cg->w, P = cg->P;
    for (int64_t i = 0; i < cg->n; i++) {
        xb_qint_conv_image(&p->c, x + i * in_img, e->buf[n->in[W]], xz, e->buf[n->in[WZ]],
                           p->wz_step, e->scratch, acc);
        for (int64_t o = 0; o < cg->cout; o++) {
            const float m = xs * ws[o * p->ws_step] / ys;
            const int64_t b = bias ? bias[o] : 0;
            const int32_t *a = acc + o * P;
            const int64_t base = (i * cg->cout + o) * P;
            if (p->ydt == XB_U8) {
                uint8_t *y = (uint8_t *)e->buf[n->out[0]] + base;
                for (int64_t q = 0; q < P; q++) y[q] = (uint8_t)xb_requantize1(a[q] + b, m, yz, lo, hi);
            } else {
                int8_t *y = (int8_t *)e->buf[n->out[0]] + base;
                for (int64_t q = 0; q < P; q++) y[q] = (int8_t)xb_requantize1(a[q] + b, m, yz, lo, hi);
            }
        }
    }
    return XB_OK;
}
