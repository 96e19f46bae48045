/* Conv (ai.onnx 1, 11): float 1-D/2-D convolution, NCHW, with groups,
 * pads, strides, dilations and auto_pad (kernels/conv_geom.h), and the
 * optional bias.  Opset 11 only changed the documentation of auto_pad and
 * kernel_shape inference, so one implementation serves 7..17.
 *
 * Per image and group the conv is the matrix product
 *     Y_g[cout_g][P] = W_g[cout_g][K] * col[K][P]  (+ bias per row)
 * where col is the im2col unfolding of the input (or the input itself for a
 * pointwise conv).  A constant weight is packed for the sgemm micro-kernel
 * once at prepare; that is where the A-side packing cost goes.  Convs with
 * one input channel per group (depthwise, possibly with a channel
 * multiplier) skip im2col and accumulate taps directly, because their
 * matrix view has K = kh*kw, far too thin to feed a GEMM. */
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "im2col.h"
#include "kutil.h"
#include "registry.h"
#include "sgemm.h"

typedef enum { CONV_GEMM, CONV_POINTWISE, CONV_DEPTHWISE } conv_path;

typedef struct {
    xb_conv_geom cg;
    conv_path path;
    float *wpack;        /* [group] packed A panels, or NULL if W is not constant */
    size_t wpack_floats; /* per group */
    size_t col_floats;   /* im2col buffer (GEMM path), 0 otherwise */
} conv_params;

static void conv_params_free(void *p) {
    conv_params *cp = p;
    if (cp) free(cp->wpack);
    free(cp);
}

static size_t align_up(size_t n) { return (n + 63) & ~(size_t)63; }

xb_status xb_op_conv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 3, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1), *b = xb_in_t(g, n, 2);
    if (x->dtype != XB_F32 || w->dtype != XB_F32 || (b && b->dtype != XB_F32))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Conv on %s input / %s weight (float only)",
                       xb_dtype_name(x->dtype), xb_dtype_name(w->dtype));
    conv_params *cp = xb_calloc(ctx, 1, sizeof *cp);
    if (!cp) return ctx->status;
    n->params = cp;
    n->params_free = conv_params_free;
    xb_conv_geom *cg = &cp->cg;
    XB_TRY(xb_conv_geom_init(cg, n, &x->shape, &w->shape, false, ctx));
    if (b) {
        char sb[96];
        if (b->shape.rank != 1 || b->shape.d[0] != cg->cout)
            return xb_fail(ctx, XB_ERR_INVALID, "bias shape %s, expected [%lld]",
                           xb_shape_str(&b->shape, sb, sizeof sb), (long long)cg->cout);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    xb_conv_geom_out_shape(cg, &y->shape);

    size_t scratch;
    if (cg->cin_g == 1 && cg->group > 1 && cg->K > 1) {
        cp->path = CONV_DEPTHWISE;
        scratch = 0;
    } else {
        cp->path = xb_conv_geom_is_pointwise(cg) ? CONV_POINTWISE : CONV_GEMM;
        if (cp->path == CONV_GEMM) cp->col_floats = xb_im2col_elems(cg);
        scratch = align_up(cp->col_floats * sizeof(float));
        if (w->is_const) {
            size_t per = xb_sgemm_packed_a_bytes(cg->cout_g, cg->K);
            cp->wpack_floats = per / sizeof(float);
            size_t total;
            if (xb_mul_overflow(per, (size_t)cg->group, &total))
                return xb_fail(ctx, XB_ERR_NOMEM, "packed weights too large");
            cp->wpack = xb_malloc(ctx, total);
            if (!cp->wpack) return ctx->status;
            const float *wd = w->data;
            for (int64_t gi = 0; gi < cg->group; gi++)
                xb_sgemm_pack_a(false, cg->cout_g, cg->K, wd + gi * cg->cout_g * cg->K, cg->K,
                                cp->wpack + (size_t)gi * cp->wpack_floats);
            scratch += xb_sgemm_prepacked_scratch_bytes(cg->cout_g, cg->P, cg->K);
        } else {
            scratch += xb_sgemm_scratch_bytes(cg->cout_g, cg->P, cg->K);
        }
    }
    n->scratch_bytes = scratch + 64;
    return XB_OK;
}

/* Depthwise: each output channel reads one input channel.  Taps are
 * accumulated plane-wide, in (i, j) order after the bias, so the inner loop
 * is a unit-stride multiply-add along the output row when sw = 1. */
static void conv_depthwise(const xb_conv_geom *cg, const float *x, const float *w,
                           const float *bias, float *y) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout;
    for (int64_t oc = 0; oc < cg->cout; oc++) {
        const float *xc = x + (oc / cg->cout_g) * H * W;
        const float *wc = w + oc * cg->kh * cg->kw;
        float *yc = y + oc * HO * WO;
        float b0 = bias ? bias[oc] : 0.0f;
        for (int64_t p = 0; p < HO * WO; p++) yc[p] = b0;
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                float wv = wc[i * cg->kw + j];
                int64_t off = j * cg->dw;
                /* ow with 0 <= ow*sw - pl + off < W */
                int64_t a = cg->pl - off, lo = a <= 0 ? 0 : (a + cg->sw - 1) / cg->sw;
                int64_t bnd = W - 1 + cg->pl - off, hi = bnd < 0 ? 0 : bnd / cg->sw + 1;
                if (hi > WO) hi = WO;
                if (lo >= hi) continue;
                for (int64_t oh = 0; oh < HO; oh++) {
                    int64_t ih = oh * cg->sh - cg->pt + i * cg->dh;
                    if (ih < 0 || ih >= H) continue;
                    const int64_t base = ih * W - cg->pl + off;
                    float *yr = yc + oh * WO;
                    if (cg->sw == 1) {
                        const float *xr = xc + (base + lo);
                        float *yo = yr + lo;
                        for (int64_t q = 0; q < hi - lo; q++) yo[q] += wv * xr[q];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xc[base + ow * cg->sw];
                    }
                }
            }
    }
}

xb_status xb_op_conv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const conv_params *cp = n->params;
    const xb_conv_geom *cg = &cp->cg;
    const float *x = XB_IN_F32(e, n, 0), *w = XB_IN_F32(e, n, 1);
    const float *bias = xb_k_has_in(n, 2) ? XB_IN_F32(e, n, 2) : NULL;
    float *y = XB_OUT_F32(e, n, 0);
    (void)g;
    const int64_t HW = cg->h * cg->w, P = cg->P;
    uintptr_t s0 = ((uintptr_t)e->scratch + 63) & ~(uintptr_t)63;
    float *col = (float *)s0;
    void *gs = (char *)s0 + align_up(cp->col_floats * sizeof(float));
    for (int64_t img = 0; img < cg->n; img++) {
        const float *xi = x + img * cg->cin * HW;
        float *yi = y + img * cg->cout * P;
        if (cp->path == CONV_DEPTHWISE) {
            conv_depthwise(cg, xi, w, bias, yi);
            continue;
        }
        for (int64_t gi = 0; gi < cg->group; gi++) {
            const float *xg = xi + gi * cg->cin_g * HW;
            float *yg = yi + gi * cg->cout_g * P;
            const float *B = xg;
            if (cp->path == CONV_GEMM) {
                xb_im2col_f32(cg, xg, col);
                B = col;
            }
            /* Bias first, then the product accumulates onto it: one pass
             * over Y instead of two. */
            if (bias)
                for (int64_t r = 0; r < cg->cout_g; r++) {
                    float bv = bias[gi * cg->cout_g + r];
                    float *yr = yg + r * P;
                    for (int64_t p = 0; p < P; p++) yr[p] = bv;
                }
            if (cp->wpack)
                xb_sgemm_prepacked(cg->cout_g, P, cg->K, cp->wpack + (size_t)gi * cp->wpack_floats,
                                   false, B, P, yg, P, bias != NULL, gs);
            else
                xb_sgemm(false, false, cg->cout_g, P, cg->K, w + gi * cg->cout_g * cg->K, cg->K, B,
                         P, yg, P, bias != NULL, gs);
        }
    }
    return XB_OK;
}
