#include "kernels/qparams.h"

#include "kernels/kutil.h"

int64_t xb_qp_count(const xb_graph *g, const xb_node *n, int i, const char *what, xb_ctx *ctx) {
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (t->shape.rank > 1) {
        char b[128];
        xb_fail(ctx, XB_ERR_INVALID, "%s '%s' must be a scalar or 1-D, got shape %s", what,
                t->name, xb_shape_str(&t->shape, b, sizeof b));
        return -1;
    }
    return xb_shape_numel(&t->shape);
}

xb_status xb_qaxis_init(const xb_graph *g, const xb_node *n, const xb_shape *x, int si, int zi,
                        bool axis_ok, xb_qaxis *qa, xb_ctx *ctx) {
    const xb_tensor *s = &g->tensors[n->in[si]];
    if (s->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "scale '%s' is %s; only float scales are supported",
                       s->name, xb_dtype_name(s->dtype));
    int64_t ns = xb_qp_count(g, n, si, "scale", ctx);
    if (ns < 0) return ctx->status;
    qa->outer = xb_shape_numel(x);
    qa->C = 1;
    qa->inner = 1;
    qa->zdt = XB_UNDEF;
    if (xb_k_has_in(n, zi)) {
        const xb_tensor *z = &g->tensors[n->in[zi]];
        qa->zdt = z->dtype;
        if (!xb_shape_eq(&z->shape, &s->shape)) {
            char a[128], b[128];
            return xb_fail(ctx, XB_ERR_INVALID, "zero point shape %s differs from scale shape %s",
                           xb_shape_str(&z->shape, a, sizeof a), xb_shape_str(&s->shape, b, sizeof b));
        }
    }
    if (s->shape.rank == 0 || ns == 1) return XB_OK;
    if (!axis_ok)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "scale has %lld elements; before opset 13 it must be a scalar", (long long)ns);
    int axis;
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", 1), x->rank, 0, "axis", &axis, ctx));
    if (x->d[axis] != ns)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "per-axis scale has %lld elements but x has %lld along axis %d",
                       (long long)ns, (long long)x->d[axis], axis);
    qa->outer = 1;
    for (int d = 0; d < axis; d++) qa->outer *= x->d[d];
    qa->C = ns;
    for (int d = axis + 1; d < x->rank; d++) qa->inner *= x->d[d];
    return XB_OK;
}

int32_t xb_qp_zero_point(const xb_exec *e, const xb_node *n, int zi, xb_dtype zdt, int64_t c) {
    if (zdt == XB_UNDEF) return 0;
    const void *z = e->buf[n->in[zi]];
    switch (zdt) {
    case XB_U8: return ((const uint8_t *)z)[c];
    case XB_I8: return ((const int8_t *)z)[c];
    case XB_I32: return ((const int32_t *)z)[c];
    default: return 0;
    }
}
