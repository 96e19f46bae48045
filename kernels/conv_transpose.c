/* ConvTranspose (ai.onnx 1, 11): the gradient of Conv with respect to its
 * input, 1-D and 2-D (NCHW; 1-D runs as 2-D with H = 1 like Conv).
 *
 * X [N, Cin, H, W], W [Cin, Cout/group, kh, kw], optional B [Cout].  Input
 * pixel (ih, iw) of channel ci spreads W[ci, co] over the output at
 *   oh = ih * sh - pad_top + i * dh,   ow = iw * sw - pad_left + j * dw
 * and positions outside the output are dropped.  Output size per axis (ONNX
 * operator spec):
 *   out = s * (in - 1) + output_padding + ((k - 1) * d + 1) - pad_begin - pad_end
 * unless output_shape is given (or auto_pad is SAME_*, which asks for
 * out = in * s); then the total padding is that formula solved for the pads
 * and split as the spec says: SAME_UPPER puts floor(total / 2) at the begin,
 * the other modes put it at the end.  The division rounds toward -inf as in
 * the ONNX reference, so an output_shape one larger than the full output
 * (a negative total) adds the extra row at the end, like output_padding.
 *
 * Run, per image and group (a "col2im" formulation): one sgemm computes
 * col[co*kh*kw + i*kw + j][ih*W + iw] = sum_ci W[ci][co, i, j] * X[ci][ih, iw],
 * then col is scattered and added into the output, which starts as the
 * bias.  The scatter order is fixed by the shapes. */
#include <stdint.h>
#include <string.h>

#include "kernels/conv_geom.h"
#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/sgemm.h"

#define DIM_MAX ((int64_t)1 << 24)

typedef struct {
    int spatial;
    int64_t n, cin, h, w, cout, group, cin_g, cout_g;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl; /* pads at the begin; may be negative */
    int64_t hout, wout;
    int64_t K, P; /* col is [K = cout_g*kh*kw][P = h*w] */
    bool has_bias;
    size_t gemm_scratch;
} convt_params;

/* An INTS attribute of exactly `want` values (or, for output_shape, the
 * full [N, C, ...] form with want + 2); 0 when absent, 1 when read. */
static int read_ints(const xb_node *n, const char *name, int want, bool allow_full, int64_t *out,
                     xb_status *st, xb_ctx *ctx) {
    const int64_t *v = NULL;
    int cnt = xb_attr_ints(n, name, &v);
    if (cnt < 0) return 0;
    int skip = allow_full && cnt == want + 2 ? 2 : 0;
    if (cnt - skip != want) {
        *st = xb_fail(ctx, XB_ERR_INVALID, "attribute %s has %d values, expected %d", name, cnt,
                      want);
        return -1;
    }
    for (int i = 0; i < want; i++) out[i] = v[skip + i];
    return 1;
}

/* X and W shapes: channels, groups and kernel. */
static xb_status convt_shapes(convt_params *p, const xb_node *n, const xb_shape *x,
                              const xb_shape *w, int64_t *kern, xb_ctx *ctx) {
    char sb[96], sw[96];
    if (x->rank != 3 && x->rank != 4)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "input shape %s: only 1-D and 2-D (rank 3 or 4, NCHW) are supported",
                       xb_shape_str(x, sb, sizeof sb));
    if (w->rank != x->rank)
        return xb_fail(ctx, XB_ERR_INVALID, "weight shape %s does not match input shape %s",
                       xb_shape_str(w, sw, sizeof sw), xb_shape_str(x, sb, sizeof sb));
    for (int i = 0; i < x->rank; i++)
        if (x->d[i] < 1 || x->d[i] > DIM_MAX || w->d[i] < 1 || w->d[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "input %s or weight %s has a dimension out of range",
                           xb_shape_str(x, sb, sizeof sb), xb_shape_str(w, sw, sizeof sw));
    p->spatial = x->rank - 2;
    p->n = x->d[0], p->cin = x->d[1];
    p->h = p->spatial == 2 ? x->d[2] : 1;
    p->w = x->d[x->rank - 1];
    p->group = xb_attr_int(n, "group", 1);
    if (p->group < 1 || p->cin % p->group != 0)
        return xb_fail(ctx, XB_ERR_INVALID, "group = %lld does not divide the %lld input channels",
                       (long long)p->group, (long long)p->cin);
    if (w->d[0] != p->cin)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "weight shape %s: expected [Cin = %lld, Cout/group, k...] (ConvTranspose "
                       "weights are input-channel major)",
                       xb_shape_str(w, sw, sizeof sw), (long long)p->cin);
    p->cin_g = p->cin / p->group;
    p->cout_g = w->d[1];
    p->cout = p->cout_g * p->group;
    for (int i = 0; i < p->spatial; i++) {
        if (kern[i] != 0 && kern[i] != w->d[2 + i])
            return xb_fail(ctx, XB_ERR_INVALID, "kernel_shape[%d] = %lld disagrees with weight %s",
                           i, (long long)kern[i], xb_shape_str(w, sw, sizeof sw));
        kern[i] = w->d[2 + i];
    }
    return XB_OK;
}

/* Floor division (the ONNX reference's //). */
static int64_t floordiv2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

/* Output size and begin pad of each spatial axis. */
static xb_status convt_output(convt_params *p, const xb_node *n, const int64_t *kern,
                              xb_ctx *ctx) {
    int sp = p->spatial;
    int64_t strides[2] = {1, 1}, dil[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    int64_t opad[2] = {0, 0}, oshape[2] = {0, 0}, out[2], pbeg[2];
    int have_pads = 0;
    xb_status st = XB_OK;
    XB_TRY(xb_conv_geom_window(n, sp, strides, dil, pads, &have_pads, ctx));
    xb_pad_mode pm = XB_PAD_NOTSET;
    XB_TRY(xb_conv_geom_pad_mode(n, sp, pads, have_pads, &pm, ctx));
    if (read_ints(n, "output_padding", sp, false, opad, &st, ctx) < 0) return st;
    int have_os = read_ints(n, "output_shape", sp, true, oshape, &st, ctx);
    if (have_os < 0) return st;
    const int64_t in[2] = {sp == 2 ? p->h : p->w, p->w};
    for (int i = 0; i < sp; i++) {
        int64_t ek = (kern[i] - 1) * dil[i] + 1;
        if (opad[i] < 0 || (opad[i] >= strides[i] && opad[i] >= dil[i]))
            return xb_fail(ctx, XB_ERR_INVALID,
                           "output_padding[%d] = %lld must be >= 0 and below the stride or the "
                           "dilation", i, (long long)opad[i]);
        int64_t full = strides[i] * (in[i] - 1) + opad[i] + ek;
        /* output_shape is the file's: range-checked before any arithmetic
         * (INT64_MIN overflowed full - out; fuzz_onnx_struct, session 6) */
        if (have_os && (oshape[i] < 1 || oshape[i] > DIM_MAX))
            return xb_fail(ctx, XB_ERR_INVALID, "output_shape[%d] = %lld is out of range", i,
                           (long long)oshape[i]);
        if (have_os || pm == XB_PAD_SAME_UPPER || pm == XB_PAD_SAME_LOWER) {
            out[i] = have_os ? oshape[i] : in[i] * strides[i];
            int64_t total = full - out[i];
            pbeg[i] = pm == XB_PAD_SAME_UPPER ? floordiv2(total) : total - floordiv2(total);
        } else {
            if (pm == XB_PAD_VALID) pads[i] = pads[sp + i] = 0;
            out[i] = full - pads[i] - pads[sp + i];
            pbeg[i] = pads[i];
        }
        if (out[i] < 1 || out[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "output size %lld on spatial axis %d is out of range", (long long)out[i],
                           i);
    }
    int o = 2 - sp; /* 1-D: the dummy H axis is identity */
    p->kh = o ? 1 : kern[0], p->kw = kern[sp - 1];
    p->sh = o ? 1 : strides[0], p->sw = strides[sp - 1];
    p->dh = o ? 1 : dil[0], p->dw = dil[sp - 1];
    p->pt = o ? 0 : pbeg[0], p->pl = pbeg[sp - 1];
    p->hout = o ? 1 : out[0], p->wout = out[sp - 1];
    return XB_OK;
}

xb_status xb_op_conv_transpose_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 3, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1);
    if (x->dtype != XB_F32 || w->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "ConvTranspose on %s x %s (float only)",
                       xb_dtype_name(x->dtype), xb_dtype_name(w->dtype));
    convt_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    int64_t kern[2] = {0, 0};
    xb_status st = XB_OK;
    /* kern holds two values: the rank is checked before kernel_shape is
     * read (a rank-5 input wrote a third one past it; fuzz_onnx_struct,
     * session 6).  convt_shapes gives the message. */
    if (x->shape.rank != 3 && x->shape.rank != 4)
        return convt_shapes(p, n, &x->shape, &w->shape, kern, ctx);
    if (read_ints(n, "kernel_shape", x->shape.rank - 2, false, kern, &st, ctx) < 0) return st;
    XB_TRY(convt_shapes(p, n, &x->shape, &w->shape, kern, ctx));
    XB_TRY(convt_output(p, n, kern, ctx));
    p->has_bias = xb_k_has_in(n, 2);
    if (p->has_bias) {
        const xb_tensor *b = xb_in_t(g, n, 2);
        char sb[96];
        if (b->dtype != XB_F32 || b->shape.rank != 1 || b->shape.d[0] != p->cout)
            return xb_fail(ctx, XB_ERR_INVALID, "bias %s %s: expected f32 [%lld]",
                           xb_dtype_name(b->dtype), xb_shape_str(&b->shape, sb, sizeof sb),
                           (long long)p->cout);
    }
    p->K = p->cout_g * p->kh * p->kw;
    p->P = p->h * p->w;
    double col = (double)p->K * (double)p->P;
    double yn = (double)p->n * (double)p->cout * (double)p->hout * (double)p->wout;
    if (col > XB_GEOM_MAX_ELEMS || yn > XB_GEOM_MAX_ELEMS)
        return xb_fail(ctx, XB_ERR_NOMEM, "column matrix or output of %.0f / %.0f elements is "
                       "too large", col, yn);
    p->gemm_scratch = xb_sgemm_scratch_bytes(p->K, p->P, p->cin_g);
    n->scratch_bytes = (size_t)(p->K * p->P) * sizeof(float) + p->gemm_scratch + 128;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape.rank = x->shape.rank;
    y->shape.d[0] = p->n;
    y->shape.d[1] = p->cout;
    if (p->spatial == 2) y->shape.d[2] = p->hout;
    y->shape.d[y->shape.rank - 1] = p->wout;
    return XB_OK;
}

/* Add col [K][P] of one group into its cout_g output planes. */
static void col2im_add(const convt_params *p, const float *col, float *y) {
    const int64_t H = p->h, W = p->w, HO = p->hout, WO = p->wout;
    for (int64_t c = 0; c < p->cout_g; c++)
        for (int64_t i = 0; i < p->kh; i++)
            for (int64_t j = 0; j < p->kw; j++) {
                const float *cr = col + ((c * p->kh + i) * p->kw + j) * H * W;
                float *yc = y + c * HO * WO;
                /* Input columns whose output column lands inside [0, WO). */
                int64_t off_w = j * p->dw - p->pl;
                int64_t iw_lo = off_w >= 0 ? 0 : (-off_w + p->sw - 1) / p->sw;
                int64_t iw_hi = WO - off_w <= 0 ? 0 : (WO - off_w + p->sw - 1) / p->sw;
                if (iw_hi > W) iw_hi = W;
                for (int64_t ih = 0; ih < H; ih++) {
                    int64_t oh = ih * p->sh - p->pt + i * p->dh;
                    if (oh < 0 || oh >= HO) continue;
                    const float *cv = cr + ih * W;
                    /* An index, not a pointer: off_w is negative in the begin padding. */
                    float *yr = yc + oh * WO;
                    for (int64_t iw = iw_lo; iw < iw_hi; iw++) yr[off_w + iw * p->sw] += cv[iw];
                }
            }
}

xb_status xb_op_conv_transpose_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const convt_params *p = n->params;
    const float *x = XB_IN_F32(e, n, 0), *w = XB_IN_F32(e, n, 1);
    const float *b = p->has_bias ? XB_IN_F32(e, n, 2) : NULL;
    float *y = XB_OUT_F32(e, n, 0);
    float *col = (float *)(((uintptr_t)e->scratch + 63) & ~(uintptr_t)63);
    void *gs = (void *)(((uintptr_t)(col + p->K * p->P) + 63) & ~(uintptr_t)63);
    const int64_t plane = p->hout * p->wout;
    for (int64_t img = 0; img < p->n; img++) {
        float *yi = y + img * p->cout * plane;
        for (int64_t c = 0; c < p->cout; c++) {
            float bv = b ? b[c] : 0.0f;
            for (int64_t q = 0; q < plane; q++) yi[c * plane + q] = bv;
        }
        for (int64_t gr = 0; gr < p->group; gr++) {
            const float *xg = x + (img * p->cin + gr * p->cin_g) * p->P;
            const float *wg = w + gr * p->cin_g * p->K;
            xb_sgemm(true, false, p->K, p->P, p->cin_g, wg, p->K, xg, p->P, col, p->P, false, gs);
            col2im_add(p, col, yi + gr * p->cout_g * plane);
        }
    }
    return XB_OK;
}
