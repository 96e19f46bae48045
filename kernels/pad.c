/* Pad (ai.onnx 2, 11, 13): modes constant, reflect and edge.
 *
 * Opset < 11: attributes pads (required), mode, value (float; data is
 * float).  Opset >= 11: input pads (i64, constant after folding) and the
 * optional scalar input constant_value of the data's type (default 0; it
 * may be fed at run time).  pads = [x1_begin, x2_begin, ..., x1_end, ...].
 *
 * Output coordinate o on an axis reads input coordinate i = o - begin.
 * Outside [0, n): constant writes the value, edge clamps to the border,
 * reflect mirrors without repeating the border (numpy "reflect", which is
 * what ONNX's reference uses).  Negative pads remove elements; the spec
 * allows them and numpy does not, so we follow ONNX Runtime: crop first,
 * then pad, which with this mapping means the cropped extent must still be
 * long enough to reflect (pad <= extent - 1) or to take an edge from. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

typedef struct {
    int mode;
    int64_t begin[XB_MAX_RANK];
    unsigned char value[8]; /* attribute-form value, in the data's type */
} pad_params;

xb_status xb_op_pad_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    int v11 = n->opset >= 11;
    XB_TRY(xb_k_arity(n, v11 ? 2 : 1, v11 ? 3 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    int r = x->shape.rank;
    if (v11 ? !xb_k_dtype_ok(x->dtype) : x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Pad on %s tensors", xb_dtype_name(x->dtype));
    const char *ms = xb_attr_str(n, "mode", "constant");
    int mode;
    if (strcmp(ms, "constant") == 0)
        mode = PAD_CONSTANT;
    else if (strcmp(ms, "reflect") == 0)
        mode = PAD_REFLECT;
    else if (strcmp(ms, "edge") == 0)
        mode = PAD_EDGE;
    else
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "mode '%s' (supported: constant, reflect, edge)",
                       ms);
    int64_t pads[2 * XB_MAX_RANK];
    int cnt = 0;
    if (v11) {
        XB_TRY(xb_k_const_ints(g, n, 1, "pads", 0, pads, 2 * XB_MAX_RANK, &cnt, ctx));
    } else {
        const int64_t *pv = NULL;
        cnt = xb_attr_ints(n, "pads", &pv);
        if (cnt < 0) return xb_fail(ctx, XB_ERR_INVALID, "missing required attribute 'pads'");
        if (cnt > 2 * XB_MAX_RANK) return xb_fail(ctx, XB_ERR_INVALID, "too many pads (%d)", cnt);
        for (int k = 0; k < cnt; k++) pads[k] = pv[k];
    }
    if (cnt != 2 * r)
        return xb_fail(ctx, XB_ERR_INVALID, "pads has %d values, expected 2 * rank = %d", cnt,
                       2 * r);
    if (v11 && xb_k_has_in(n, 2)) {
        const xb_tensor *cv = xb_in_t(g, n, 2);
        if (cv->dtype != x->dtype || xb_shape_numel(&cv->shape) != 1 || cv->shape.rank > 1)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "constant_value '%s' must be a scalar of the data's type %s", cv->name,
                           xb_dtype_name(x->dtype));
    }
    xb_shape s = {.rank = r};
    for (int k = 0; k < r; k++) {
        int64_t b = pads[k], en = pads[k + r], d = x->shape.d[k];
        /* Bound pads so the sums below cannot overflow. */
        if (b > (1 << 30) || en > (1 << 30) || b < -d || en < -d || b + en < -d)
            return xb_fail(ctx, XB_ERR_INVALID, "pads %lld/%lld are invalid for axis %d of size %lld",
                           (long long)b, (long long)en, k, (long long)d);
        s.d[k] = d + b + en;
        int64_t extent = d + (b < 0 ? b : 0) + (en < 0 ? en : 0);
        int64_t grow = (b > en ? b : en);
        if (mode == PAD_REFLECT && grow > 0 && grow > extent - 1)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "reflect padding of %lld on axis %d needs at least %lld elements, has %lld",
                           (long long)grow, k, (long long)grow + 1, (long long)extent);
        if (mode == PAD_EDGE && grow > 0 && extent < 1)
            return xb_fail(ctx, XB_ERR_INVALID, "edge padding of an empty axis %d", k);
    }
    pad_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->mode = mode;
    for (int k = 0; k < r; k++) p->begin[k] = pads[k];
    if (!v11) {
        float v = xb_attr_float(n, "value", 0.0f);
        memcpy(p->value, &v, sizeof v);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = s;
    return XB_OK;
}

/* Input coordinate for output coordinate o on an axis of size d with
 * `begin` padding, or -1 for "constant value". */
static int64_t map_coord(int mode, int64_t o, int64_t begin, int64_t d) {
    int64_t i = o - begin;
    if (i >= 0 && i < d) return i;
    switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : d - 1;
    case PAD_REFLECT: return i < 0 ? -i : 2 * (d - 1) - i;
    default: return -1;
    }
}

static void put(char *dst, const char *src, size_t es) {
    switch (es) {
    case 1: *dst = *src; break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es); break;
    }
}

xb_status xb_op_pad_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const pad_params *p = n->params;
    const xb_tensor *x = &g->tensors[n->in[0]];
    const xb_tensor *y = &g->tensors[n->out[0]];
    size_t es = xb_dtype_size(x->dtype);
    unsigned char value[8] = {0};
    if (n->opset >= 11) {
        if (xb_k_has_in(n, 2)) memcpy(value, e->buf[n->in[2]], es);
    } else {
        memcpy(value, p->value, sizeof value);
    }
    const char *src = e->buf[n->in[0]];
    char *dst = e->buf[n->out[0]];
    int64_t total = xb_shape_numel(&y->shape);
    if (total == 0) return XB_OK;
    int r = y->shape.rank;
    if (r == 0) {
        put(dst, src, es);
        return XB_OK;
    }
    int64_t istride[XB_MAX_RANK];
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        istride[k] = s;
        s *= x->shape.d[k];
    }
    int64_t ow = y->shape.d[r - 1], iw = x->shape.d[r - 1], b = p->begin[r - 1];
    /* Output columns [lo, hi) copy input columns [lo - b, hi - b). */
    int64_t lo = b > 0 ? b : 0, hi = b + iw < ow ? b + iw : ow;
    int64_t rows = total / ow;
    int64_t idx[XB_MAX_RANK] = {0};
    for (int64_t row = 0; row < rows; row++, dst += (size_t)ow * es) {
        int64_t off = 0;
        int fill = 0;
        for (int k = 0; k < r - 1; k++) {
            int64_t i = map_coord(p->mode, idx[k], p->begin[k], x->shape.d[k]);
            if (i < 0) {
                fill = 1;
                break;
            }
            off += i * istride[k];
        }
        if (fill) {
            for (int64_t c = 0; c < ow; c++) put(dst + (size_t)c * es, (const char *)value, es);
        } else {
            const char *srow = src + (size_t)off * es;
            for (int64_t c = 0; c < ow; c++) {
                if (c == lo && hi > lo) {
                    memcpy(dst + (size_t)c * es, srow + (size_t)(c - b) * es, (size_t)(hi - lo) * es);
                    c = hi - 1;
                    continue;
                }
                int64_t i = map_coord(p->mode, c, b, iw);
                put(dst + (size_t)c * es, i < 0 ? (const char *)value : srow + (size_t)i * es, es);
            }
        }
        for (int k = r - 2; k >= 0; k--) {
            if (++idx[k] < y->shape.d[k]) break;
            idx[k] = 0;
        }
    }
    return XB_OK;
}
