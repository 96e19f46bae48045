/* DequantizeLinear (ai.onnx 10, 13): y = (x - x_zero_point) * x_scale.
 *
 * x is u8, i8 or i32 (the zero point, when present, has x's type and must be
 * 0 for i32, which the spec requires and we do not need to enforce: the
 * formula is the same).  The subtraction is done in float after converting
 * each operand, exactly as the ONNX reference does
 * ((x.astype(float32) - zp.astype(float32)) * scale); for i32 inputs beyond
 * 2^24 this rounds like the reference does. */
#include "kernels/kutil.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

xb_status xb_op_dequantize_linear_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 3, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_U8 && x->dtype != XB_I8 && x->dtype != XB_I32)
        return xb_fail(ctx, XB_ERR_INVALID, "x is %s; DequantizeLinear takes u8, i8 or i32",
                       xb_dtype_name(x->dtype));
    xb_qaxis *qa = xb_calloc(ctx, 1, sizeof *qa);
    if (!qa) return ctx->status;
    n->params = qa;
    XB_TRY(xb_qaxis_init(g, n, &x->shape, 1, 2, n->opset >= 13, qa, ctx));
    if (qa->zdt != XB_UNDEF && qa->zdt != x->dtype)
        return xb_fail(ctx, XB_ERR_INVALID, "zero point is %s but x is %s",
                       xb_dtype_name(qa->zdt), xb_dtype_name(x->dtype));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_dequantize_linear_run(const xb_graph *g, const xb_node *n, xb_exec *e,
                                      xb_ctx *ctx) {
    (void)ctx;
    const xb_qaxis *qa = n->params;
    const xb_dtype xdt = g->tensors[n->in[0]].dtype;
    const void *x = e->buf[n->in[0]];
    float *y = e->buf[n->out[0]];
    const float *scale = e->buf[n->in[1]];
    for (int64_t o = 0; o < qa->outer; o++)
        for (int64_t c = 0; c < qa->C; c++) {
            const float s = scale[c];
            const float zp = (float)xb_qp_zero_point(e, n, 2, qa->zdt, c);
            const int64_t base = (o * qa->C + c) * qa->inner;
            float *yr = y + base;
            if (xdt == XB_U8) {
                const uint8_t *xr = (const uint8_t *)x + base;
                for (int64_t i = 0; i < qa->inner; i++) yr[i] = ((float)xr[i] - zp) * s;
            } else if (xdt == XB_I8) {
                const int8_t *xr = (const int8_t *)x + base;
                for (int64_t i = 0; i < qa->inner; i++) yr[i] = ((float)xr[i] - zp) * s;
            } else {
                const int32_t *xr = (const int32_t *)x + base;
                for (int64_t i = 0; i < qa->inner; i++) yr[i] = ((float)xr[i] - zp) * s;
            }
        }
    return XB_OK;
}
