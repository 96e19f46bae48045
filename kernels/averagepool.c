/* AveragePool (ai.onnx 1, 7, 10, 11): mean over each window with pads,
 * strides, auto_pad, count_include_pad (7+) and ceil_mode (10+) from
 * kernels/conv_geom.h.  Dilations arrived in opset 19, outside 7..17, and
 * are rejected.  Float only.
 *
 * Divisor: count_include_pad = 0 counts the window's taps inside the input.
 * count_include_pad = 1 counts taps inside the input or its padding, i.e.
 * the window clipped to [-pad_begin, size + pad_end): kh*kw except for the
 * extra windows ceil_mode adds, which hang past the end padding.  This is
 * the ONNX reference implementation's and PyTorch's rule. */
#include "kernels/conv_geom.h"
#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    xb_conv_geom cg;
    bool include_pad;
} avgpool_params;

xb_status xb_op_averagepool_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "AveragePool on %s tensors",
                       xb_dtype_name(x->dtype));
    const int64_t *dil;
    int nd = xb_attr_ints(n, "dilations", &dil);
    for (int i = 0; i < nd; i++)
        if (dil[i] != 1)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "AveragePool dilations (opset 19) are not supported");
    int64_t cip = xb_attr_int(n, "count_include_pad", 0);
    if (cip != 0 && cip != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "count_include_pad = %lld must be 0 or 1",
                       (long long)cip);
    avgpool_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->include_pad = cip == 1;
    XB_TRY(xb_conv_geom_init(&p->cg, n, &x->shape, NULL, true, ctx));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    xb_conv_geom_out_shape(&p->cg, &y->shape);
    return XB_OK;
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

xb_status xb_op_averagepool_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const avgpool_params *p = n->params;
    const xb_conv_geom *cg = &p->cg;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    const int64_t H = cg->h, W = cg->w;
    for (int64_t pl = 0; pl < cg->n * cg->cin; pl++) {
        const float *xp = x + pl * H * W;
        float *yp = y + pl * cg->P;
        for (int64_t oh = 0; oh < cg->hout; oh++) {
            int64_t hs = oh * cg->sh - cg->pt;
            int64_t h0 = max64(hs, 0), h1 = min64(hs + cg->kh, H);
            int64_t ph = min64(hs + cg->kh, H + cg->pb) - hs;
            for (int64_t ow = 0; ow < cg->wout; ow++) {
                int64_t ws = ow * cg->sw - cg->pl;
                int64_t w0 = max64(ws, 0), w1 = min64(ws + cg->kw, W);
                int64_t pw = min64(ws + cg->kw, W + cg->pr) - ws;
                float s = 0.0f;
                for (int64_t ih = h0; ih < h1; ih++)
                    for (int64_t iw = w0; iw < w1; iw++) s += xp[ih * W + iw];
                int64_t cnt = p->include_pad ? ph * pw : max64(h1 - h0, 0) * max64(w1 - w0, 0);
                /* A window wholly in padding (possible only with pads >=
                 * kernel) has no taps; 0 rather than 0/0. */
                yp[oh * cg->wout + ow] = cnt > 0 ? s / (float)cnt : 0.0f;
            }
        }
    }
    return XB_OK;
}
