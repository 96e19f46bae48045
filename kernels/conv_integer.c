/* ConvInteger (ai.onnx 10): y(int32) = conv(x - x_zero_point, w - w_zero_point).
 * x, w u8 or i8 (each zero point has its tensor's type); x's zero point is
 * per tensor, w's per tensor or per output channel.  Attributes and geometry
 * as Conv (conv_geom.h); the arithmetic is qint.h's. */
#include "kernels/kutil.h"
#include "kernels/qint.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

typedef struct {
    xb_qint_conv c;
    int64_t wz_step;
} conv_integer;

xb_status xb_op_conv_integer_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 4, 1, 1, ctx));
    conv_integer *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    XB_TRY(xb_qint_conv_init(&p->c, g, n, 1, 0, ctx));
    if (xb_k_has_in(n, 2)) {
        const xb_tensor *z = xb_in_t(g, n, 2);
        if (z->dtype != p->c.xdt)
            return xb_fail(ctx, XB_ERR_INVALID, "x_zero_point is %s but x is %s",
                           xb_dtype_name(z->dtype), xb_dtype_name(p->c.xdt));
        int64_t cnt = xb_qp_count(g, n, 2, "x_zero_point", ctx);
        if (cnt < 0) return ctx->status;
        if (cnt != 1)
            return xb_fail(ctx, XB_ERR_INVALID, "x_zero_point must be a single value, got %lld",
                           (long long)cnt);
    }
    if (xb_k_has_in(n, 3)) {
        const xb_tensor *z = xb_in_t(g, n, 3);
        if (z->dtype != p->c.wdt)
            return xb_fail(ctx, XB_ERR_INVALID, "w_zero_point is %s but w is %s",
                           xb_dtype_name(z->dtype), xb_dtype_name(p->c.wdt));
        int64_t cnt = xb_qp_count(g, n, 3, "w_zero_point", ctx);
        if (cnt < 0) return ctx->status;
        if (cnt != 1 && cnt != p->c.cg.cout)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "w_zero_point has %lld values; expected 1 or %lld (output channels)",
                           (long long)cnt, (long long)p->c.cg.cout);
        p->wz_step = cnt == 1 ? 0 : 1;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_I32;
    xb_conv_geom_out_shape(&p->c.cg, &y->shape);
    n->scratch_bytes = p->c.scratch;
    return XB_OK;
}

xb_status xb_op_conv_integer_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const conv_integer *p = n->params;
    const xb_conv_geom *cg = &p->c.cg;
    const uint8_t *x = e->buf[n->in[0]];
    const void *w = e->buf[n->in[1]];
    const int32_t xz = xb_k_has_in(n, 2) ? xb_qint_get(e->buf[n->in[2]], p->c.xdt, 0) : 0;
    const void *wz = xb_k_has_in(n, 3) ? e->buf[n->in[3]] : NULL;
    int32_t *y = e->buf[n->out[0]];
    const int64_t in_img = cg->cin * cg->h * cg->w, out_img = cg->cout * cg->P;
    for (int64_t i = 0; i < cg->n; i++)
        xb_qint_conv_image(&p->c, x + i * in_img, w, xz, wz, p->wz_step, e->scratch,
                           y + i * out_img);
    return XB_OK;
}
