/* QuantizeLinear (ai.onnx 10, 13): y = saturate(rint(x / y_scale) + y_zero_point).
 *
 * x is f32 or i32; y takes the zero point's type (u8 or i8), u8 when the zero
 * point is absent.  Per tensor, or per axis from opset 13 (qparams.h).
 * Rounding is half to even and saturation clamps to the type's range, as
 * the spec says.  An i32 input is divided in double precision, which is what
 * the ONNX reference computes (numpy promotes int32 / float32 to float64). */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/qmath.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

xb_status xb_op_quantize_linear_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 3, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32 && x->dtype != XB_I32)
        return xb_fail(ctx, XB_ERR_INVALID, "x is %s; QuantizeLinear takes f32 or i32",
                       xb_dtype_name(x->dtype));
    xb_qaxis *qa = xb_calloc(ctx, 1, sizeof *qa);
    if (!qa) return ctx->status;
    n->params = qa;
    XB_TRY(xb_qaxis_init(g, n, &x->shape, 1, 2, n->opset >= 13, qa, ctx));
    if (qa->zdt != XB_UNDEF && qa->zdt != XB_U8 && qa->zdt != XB_I8)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "zero point of type %s (supported: u8, i8)",
                       xb_dtype_name(qa->zdt));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = qa->zdt == XB_UNDEF ? XB_U8 : qa->zdt;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_quantize_linear_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const xb_qaxis *qa = n->params;
    const bool is_f32 = g->tensors[n->in[0]].dtype == XB_F32;
    const xb_dtype ydt = g->tensors[n->out[0]].dtype;
    const int32_t lo = ydt == XB_U8 ? 0 : -128, hi = ydt == XB_U8 ? 255 : 127;
    const void *x = e->buf[n->in[0]];
    void *y = e->buf[n->out[0]];
    const float *scale = e->buf[n->in[1]];
    for (int64_t o = 0; o < qa->outer; o++)
        for (int64_t c = 0; c < qa->C; c++) {
            const float s = scale[c];
            const int32_t zp = xb_qp_zero_point(e, n, 2, qa->zdt, c);
            const int64_t base = (o * qa->C + c) * qa->inner;
            if (is_f32 && ydt == XB_U8) {
                xb_quantize_u8((const float *)x + base, qa->inner, s, zp, 255, (uint8_t *)y + base);
            } else if (is_f32) {
                xb_quantize_i8((const float *)x + base, qa->inner, s, zp, (int8_t *)y + base);
            } else {
                const int32_t *xi = (const int32_t *)x + base;
                for (int64_t i = 0; i < qa->inner; i++) {
                    double v = rint((double)xi[i] / (double)s) + (double)zp;
                    int32_t q = (int32_t)xb_clampd(v, (double)lo, (double)hi);
                    if (ydt == XB_U8)
                        ((uint8_t *)y)[base + i] = (uint8_t)q;
                    else
                        ((int8_t *)y)[base + i] = (int8_t)q;
                }
            }
        }
    return XB_OK;
}
