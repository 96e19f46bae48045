#include "kernels/conv_geom.h"

#include <string.h>

/* Sizes come from untrusted files; cap every dimension so products of a few
 * of them cannot overflow int64 (2^24 per dim, kernel x dilation < 2^48). */
#define DIM_MAX ((int64_t)1 << 24)

/* Read an INTS attribute of exactly `want` values into out[]; absent leaves
 * out[] untouched and returns 0, present returns 1. */
static int read_ints(const xb_node *n, const char *name, int want, int64_t *out, xb_status *st,
                     xb_ctx *ctx) {
    const xb_attr *a = xb_attr_find(n, name);
    if (!a) return 0;
    if (a->type != XB_ATTR_INTS) {
        *st = xb_fail(ctx, XB_ERR_INVALID, "attribute %s must be a list of ints", name);
        return -1;
    }
    if (a->n != want) {
        *st = xb_fail(ctx, XB_ERR_INVALID, "attribute %s has %d values, expected %d", name, a->n,
                      want);
        return -1;
    }
    for (int i = 0; i < want; i++) out[i] = a->ints[i];
    return 1;
}

static xb_status read_int(const xb_node *n, const char *name, int64_t dflt, int64_t *out,
                          xb_ctx *ctx) {
    const xb_attr *a = xb_attr_find(n, name);
    if (!a) {
        *out = dflt;
        return XB_OK;
    }
    if (a->type != XB_ATTR_INT)
        return xb_fail(ctx, XB_ERR_INVALID, "attribute %s must be an int", name);
    *out = a->i;
    return XB_OK;
}

/* Output size and pads of one spatial axis; returns -1 if the window does not
 * fit at all. */
static int64_t axis_out(xb_pad_mode m, int64_t in, int64_t k, int64_t s, int64_t d,
                        bool ceil_mode, int64_t *pb, int64_t *pe) {
    int64_t ek = (k - 1) * d + 1;
    if (m == XB_PAD_SAME_UPPER || m == XB_PAD_SAME_LOWER) {
        int64_t out = (in + s - 1) / s;
        int64_t total = (out - 1) * s + ek - in;
        if (total < 0) total = 0;
        *pb = m == XB_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return out;
    }
    if (m == XB_PAD_VALID) *pb = *pe = 0;
    int64_t span = in + *pb + *pe - ek;
    if (span < 0) return -1;
    if (!ceil_mode) return span / s + 1;
    int64_t out = (span + s - 1) / s + 1;
    /* The last window must start inside the input or the begin padding. */
    if ((out - 1) * s >= in + *pb) out--;
    return out;
}

/* Batch, channels and spatial size from the input shape. */
static xb_status geom_input(xb_conv_geom *cg, const xb_shape *x, xb_ctx *ctx) {
    char sbuf[128];
    if (x->rank != 3 && x->rank != 4)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "input shape %s: only 1-D and 2-D (rank 3 or 4, NCHW) are supported",
                       xb_shape_str(x, sbuf, sizeof sbuf));
    int sp = x->rank - 2;
    cg->spatial = sp;
    for (int i = 0; i < x->rank; i++)
        if (x->d[i] < 1 || x->d[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "input shape %s has a dimension out of range",
                           xb_shape_str(x, sbuf, sizeof sbuf));
    cg->n = x->d[0];
    cg->cin = x->d[1];
    cg->h = sp == 2 ? x->d[2] : 1;
    cg->w = x->d[x->rank - 1];
    return XB_OK;
}

/* A convolution's weight: kernel size (checked against kernel_shape when
 * given), group and output channels. */
static xb_status geom_weight(xb_conv_geom *cg, const xb_node *n, const xb_shape *x,
                             const xb_shape *w, int have_ks, int64_t *kern, xb_ctx *ctx) {
    char sbuf[128];
    if (!w) return xb_fail(ctx, XB_ERR_INVALID, "internal: conv geometry needs a weight");
    if (w->rank != x->rank)
        return xb_fail(ctx, XB_ERR_INVALID, "weight shape %s does not match input rank %d",
                       xb_shape_str(w, sbuf, sizeof sbuf), x->rank);
    for (int i = 0; i < w->rank; i++)
        if (w->d[i] < 1 || w->d[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "weight shape %s has a dimension out of range",
                           xb_shape_str(w, sbuf, sizeof sbuf));
    for (int i = 0; i < cg->spatial; i++) {
        if (have_ks && kern[i] != w->d[2 + i])
            return xb_fail(ctx, XB_ERR_INVALID,
                           "kernel_shape[%d] = %lld disagrees with weight shape %s", i,
                           (long long)kern[i], xb_shape_str(w, sbuf, sizeof sbuf));
        kern[i] = w->d[2 + i];
    }
    XB_TRY(read_int(n, "group", 1, &cg->group, ctx));
    if (cg->group < 1 || cg->group > cg->cin)
        return xb_fail(ctx, XB_ERR_INVALID, "group = %lld is out of range 1..%lld",
                       (long long)cg->group, (long long)cg->cin);
    if (cg->cin % cg->group != 0)
        return xb_fail(ctx, XB_ERR_INVALID, "input channels %lld not divisible by group %lld",
                       (long long)cg->cin, (long long)cg->group);
    if (w->d[1] * cg->group != cg->cin)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "weight shape %s: %lld input channels per group, but input has %lld "
                       "channels and group = %lld",
                       xb_shape_str(w, sbuf, sizeof sbuf), (long long)w->d[1],
                       (long long)cg->cin, (long long)cg->group);
    cg->cout = w->d[0];
    if (cg->cout % cg->group != 0)
        return xb_fail(ctx, XB_ERR_INVALID, "output channels %lld not divisible by group %lld",
                       (long long)cg->cout, (long long)cg->group);
    return XB_OK;
}

xb_status xb_conv_geom_window(const xb_node *n, int sp, int64_t *strides, int64_t *dil,
                              int64_t *pads, int *have_pads, xb_ctx *ctx) {
    xb_status st = XB_OK;
    if (read_ints(n, "strides", sp, strides, &st, ctx) < 0) return st;
    if (read_ints(n, "dilations", sp, dil, &st, ctx) < 0) return st;
    *have_pads = read_ints(n, "pads", 2 * sp, pads, &st, ctx);
    if (*have_pads < 0) return st;
    for (int i = 0; i < sp; i++) {
        if (strides[i] < 1 || strides[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "strides[%d] = %lld must be >= 1", i,
                           (long long)strides[i]);
        if (dil[i] < 1 || dil[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "dilations[%d] = %lld must be >= 1", i,
                           (long long)dil[i]);
    }
    for (int i = 0; i < 2 * sp; i++)
        if (pads[i] < 0 || pads[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "pads[%d] = %lld must be >= 0", i,
                           (long long)pads[i]);
    return XB_OK;
}

xb_status xb_conv_geom_pad_mode(const xb_node *n, int sp, const int64_t *pads, int have_pads,
                                xb_pad_mode *pm, xb_ctx *ctx) {
    const char *ap = "NOTSET";
    const xb_attr *apa = xb_attr_find(n, "auto_pad");
    if (apa) {
        if (apa->type != XB_ATTR_STRING || !apa->s)
            return xb_fail(ctx, XB_ERR_INVALID, "attribute auto_pad must be a string");
        ap = apa->s;
    }
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        *pm = XB_PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        *pm = XB_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        *pm = XB_PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        *pm = XB_PAD_VALID;
    else
        return xb_fail(ctx, XB_ERR_INVALID,
                       "auto_pad = '%s'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID", ap);
    if (*pm != XB_PAD_NOTSET && have_pads) {
        /* The spec forbids both; exporters sometimes write explicit zero pads
         * next to auto_pad, which is harmless. */
        for (int i = 0; i < 2 * sp; i++)
            if (pads[i] != 0)
                return xb_fail(ctx, XB_ERR_INVALID, "pads and auto_pad = %s cannot both be set",
                               ap);
    }
    return XB_OK;
}

/* Output size per axis and the matrix sizes, with the size limits. */
static xb_status geom_output(xb_conv_geom *cg, xb_pad_mode pm, const int64_t *kern,
                             const int64_t *strides, const int64_t *dil, const int64_t *pads,
                             xb_ctx *ctx) {
    int sp = cg->spatial;
    /* Axis 0 of a 1-D op is the dummy H axis. */
    int64_t in[2] = {cg->h, cg->w}, ks[2], ss[2], ds[2], pbeg[2], pend[2], out[2];
    int off = 2 - sp;
    ks[0] = 1, ss[0] = 1, ds[0] = 1, pbeg[0] = 0, pend[0] = 0;
    for (int i = 0; i < sp; i++) {
        ks[off + i] = kern[i];
        ss[off + i] = strides[i];
        ds[off + i] = dil[i];
        pbeg[off + i] = pads[i];
        pend[off + i] = pads[sp + i];
    }
    for (int a = 0; a < 2; a++) {
        xb_pad_mode m = (a < off) ? XB_PAD_NOTSET : pm;
        out[a] = axis_out(m, in[a], ks[a], ss[a], ds[a], cg->ceil_mode, &pbeg[a], &pend[a]);
        if (out[a] < 1)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "kernel %lld (dilation %lld) does not fit input size %lld with pads "
                           "%lld+%lld on spatial axis %d",
                           (long long)ks[a], (long long)ds[a], (long long)in[a],
                           (long long)pbeg[a], (long long)pend[a], a - off);
    }
    /* A stride matters only between outputs, and with two or more outputs
     * it is at most the padded extent; with one output any stride reads the
     * same, so it is capped there: the phase planes of a strided
     * convolution (im2col_packed.h) are then at most as wide as the padded
     * input (a stride of 2^20 over a 60-wide input had made 2^20 phases of
     * 256 channels, fuzz finding 13).  Not to 1: kernels take stride 1,
     * kernel 1, no pads to mean output size = input size. */
    for (int a = 0; a < 2; a++) {
        int64_t ext = in[a] + pbeg[a] + pend[a];
        if (ss[a] > ext) ss[a] = ext > 0 ? ext : 1;
    }
    cg->kh = ks[0], cg->kw = ks[1];
    cg->sh = ss[0], cg->sw = ss[1];
    cg->dh = ds[0], cg->dw = ds[1];
    cg->pt = pbeg[0], cg->pl = pbeg[1], cg->pb = pend[0], cg->pr = pend[1];
    cg->hout = out[0], cg->wout = out[1];
    cg->K = cg->cin_g * cg->kh * cg->kw;
    cg->P = cg->hout * cg->wout;
    if (cg->K > ((int64_t)1 << 31) || cg->P > ((int64_t)1 << 31))
        return xb_fail(ctx, XB_ERR_NOMEM, "convolution matrix of %lld x %lld is too large",
                       (long long)cg->K, (long long)cg->P);
    /* Products in double: the int64 ones could overflow on hostile shapes. */
    double in_elems = (double)cg->n * (double)cg->cin * (double)cg->h * (double)cg->w;
    double out_elems = (double)cg->n * (double)cg->cout * (double)cg->P;
    if (in_elems > XB_GEOM_MAX_ELEMS || out_elems > XB_GEOM_MAX_ELEMS)
        return xb_fail(ctx, XB_ERR_NOMEM, "input or output of %.0f / %.0f elements is too large",
                       in_elems, out_elems);
    return XB_OK;
}

xb_status xb_conv_geom_init(xb_conv_geom *cg, const xb_node *n, const xb_shape *x,
                            const xb_shape *w, bool is_pool, xb_ctx *ctx) {
    memset(cg, 0, sizeof *cg);
    XB_TRY(geom_input(cg, x, ctx));
    int sp = cg->spatial;
    xb_status st = XB_OK;
    int64_t kern[2] = {0, 0};
    int have_ks = read_ints(n, "kernel_shape", sp, kern, &st, ctx);
    if (have_ks < 0) return st;
    if (is_pool) {
        if (w) return xb_fail(ctx, XB_ERR_INVALID, "internal: pool geometry takes no weight");
        if (!have_ks) return xb_fail(ctx, XB_ERR_INVALID, "attribute kernel_shape is required");
        cg->group = 1;
        cg->cout = cg->cin;
    } else {
        XB_TRY(geom_weight(cg, n, x, w, have_ks, kern, ctx));
    }
    for (int i = 0; i < sp; i++)
        if (kern[i] < 1 || kern[i] > DIM_MAX)
            return xb_fail(ctx, XB_ERR_INVALID, "kernel_shape[%d] = %lld is out of range", i,
                           (long long)kern[i]);
    cg->cin_g = cg->cin / cg->group;
    cg->cout_g = cg->cout / cg->group;

    int64_t strides[2] = {1, 1}, dil[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
    int have_pads = 0;
    XB_TRY(xb_conv_geom_window(n, sp, strides, dil, pads, &have_pads, ctx));
    xb_pad_mode pm = XB_PAD_NOTSET;
    XB_TRY(xb_conv_geom_pad_mode(n, sp, pads, have_pads, &pm, ctx));
    int64_t ceil_mode = 0;
    if (is_pool) {
        XB_TRY(read_int(n, "ceil_mode", 0, &ceil_mode, ctx));
        if (ceil_mode != 0 && ceil_mode != 1)
            return xb_fail(ctx, XB_ERR_INVALID, "ceil_mode = %lld must be 0 or 1",
                           (long long)ceil_mode);
    }
    cg->ceil_mode = ceil_mode != 0;
    return geom_output(cg, pm, kern, strides, dil, pads, ctx);
}

void xb_conv_geom_out_shape(const xb_conv_geom *cg, xb_shape *y) {
    memset(y, 0, sizeof *y);
    y->rank = cg->spatial + 2;
    y->d[0] = cg->n;
    y->d[1] = cg->cout;
    if (cg->spatial == 2) {
        y->d[2] = cg->hout;
        y->d[3] = cg->wout;
    } else {
        y->d[2] = cg->wout;
    }
}

bool xb_conv_geom_is_pointwise(const xb_conv_geom *cg) {
    return cg->kh == 1 && cg->kw == 1 && cg->sh == 1 && cg->sw == 1 && cg->pt == 0 &&
           cg->pl == 0 && cg->pb == 0 && cg->pr == 0;
}

int64_t xb_conv_geom_macs(const xb_conv_geom *cg) { return cg->cout * cg->P * cg->K; }
