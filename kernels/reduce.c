#include "kernels/reduce.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kutil.h"

static const char *const kind_name[] = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                                        "ReduceL2"};

typedef struct {
    xb_reduce_kind kind;
    bool identity;             /* noop_with_empty_axes with no axes: y = x */
    int rank;                  /* of the input (0 is treated as [1]) */
    int64_t d[XB_MAX_RANK];    /* input dims */
    int64_t os[XB_MAX_RANK];   /* output stride per input axis, 0 on reduced axes */
    int64_t out_n;             /* output elements */
    int64_t count;             /* input elements per output element (the mean's divisor) */
} reduce_params;

/* The axes to reduce, as a mask over the input's axes.  *given is false
 * when the node names no axes at all (absent attribute or input, or an
 * empty list: the spec treats both as "none given"). */
static xb_status read_axes(const xb_graph *g, const xb_node *n, xb_reduce_kind kind, int rank,
                           bool *mask, bool *given, xb_ctx *ctx) {
    int64_t axes[XB_MAX_RANK];
    int cnt = 0;
    bool from_input = kind == XB_REDUCE_SUM && n->opset >= 13;
    if (from_input) {
        if (xb_attr_find(n, "axes"))
            return xb_fail(ctx, XB_ERR_INVALID,
                           "ReduceSum takes axes as an input from opset 13, not an attribute");
        if (xb_k_has_in(n, 1))
            XB_TRY(xb_k_const_ints(g, n, 1, "axes", 0, axes, XB_MAX_RANK, &cnt, ctx));
    } else {
        const int64_t *a = NULL;
        cnt = xb_attr_ints(n, "axes", &a);
        if (cnt > XB_MAX_RANK) return xb_fail(ctx, XB_ERR_INVALID, "too many axes (%d)", cnt);
        for (int k = 0; k < cnt; k++) axes[k] = a[k];
    }
    *given = cnt > 0;
    for (int k = 0; k < rank; k++) mask[k] = !*given;
    for (int k = 0; k < cnt; k++) {
        int a;
        XB_TRY(xb_k_axis(axes[k], rank, 0, "axes value", &a, ctx));
        if (mask[a]) return xb_fail(ctx, XB_ERR_INVALID, "axis %d is listed twice", a);
        mask[a] = true;
    }
    return XB_OK;
}

xb_status xb_reduce_prepare(xb_graph *g, xb_node *n, xb_reduce_kind kind, xb_ctx *ctx) {
    bool axes_input = kind == XB_REDUCE_SUM && n->opset >= 13;
    XB_TRY(xb_k_arity(n, 1, axes_input ? 2 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s on %s tensors (float only)", kind_name[kind],
                       xb_dtype_name(x->dtype));
    int64_t keep = xb_attr_int(n, "keepdims", 1);
    if (keep != 0 && keep != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "keepdims = %lld must be 0 or 1", (long long)keep);
    int64_t noop = 0;
    if (axes_input)
        noop = xb_attr_int(n, "noop_with_empty_axes", 0);
    else if (xb_attr_find(n, "noop_with_empty_axes"))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "noop_with_empty_axes is not an attribute of %s in opset %d",
                       kind_name[kind], n->opset);
    if (noop != 0 && noop != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "noop_with_empty_axes = %lld must be 0 or 1",
                       (long long)noop);
    int r = x->shape.rank;
    bool mask[XB_MAX_RANK], given;
    XB_TRY(read_axes(g, n, kind, r, mask, &given, ctx));

    reduce_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->kind = kind;
    p->identity = noop && !given;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    if (p->identity) {
        y->shape = x->shape;
        return XB_OK;
    }
    /* A scalar input is one element; reducing it over no axes is a copy. */
    p->rank = r > 0 ? r : 1;
    p->d[0] = 1;
    for (int k = 0; k < r; k++) p->d[k] = x->shape.d[k];
    y->shape.rank = 0;
    for (int k = 0; k < r; k++) {
        if (!mask[k])
            y->shape.d[y->shape.rank++] = x->shape.d[k];
        else if (keep)
            y->shape.d[y->shape.rank++] = 1;
    }
    int64_t stride = 1;
    p->count = 1;
    for (int k = p->rank - 1; k >= 0; k--) {
        bool red = k < r && mask[k];
        p->os[k] = red ? 0 : stride;
        if (red) p->count *= p->d[k];
        else stride *= p->d[k];
    }
    p->out_n = stride;
    if (kind != XB_REDUCE_MAX && kind != XB_REDUCE_MIN)
        n->scratch_bytes = (size_t)p->out_n * sizeof(double) + 64;
    return XB_OK;
}

/* Visit every input element in row-major order and hand it to ACC(o, v)
 * with o its output index: a fixed summation order for any data. */
#define REDUCE_WALK(p, x, ACC)                                                                     \
    do {                                                                                           \
        int64_t idx_[XB_MAX_RANK] = {0}, off_ = 0;                                                 \
        const int r_ = (p)->rank;                                                                  \
        const int64_t inner_ = (p)->d[r_ - 1], ios_ = (p)->os[r_ - 1];                             \
        int64_t total_ = 1;                                                                        \
        for (int k_ = 0; k_ < r_; k_++) total_ *= (p)->d[k_];                                      \
        const float *xp_ = (x);                                                                    \
        for (int64_t done_ = 0; done_ < total_ && inner_ > 0; done_ += inner_) {                   \
            for (int64_t i_ = 0; i_ < inner_; i_++) {                                              \
                int64_t o = off_ + i_ * ios_;                                                      \
                float v = xp_[i_];                                                                 \
                ACC;                                                                               \
            }                                                                                      \
            xp_ += inner_;                                                                         \
            for (int k_ = r_ - 2; k_ >= 0; k_--) {                                                 \
                off_ += (p)->os[k_];                                                               \
                if (++idx_[k_] < (p)->d[k_]) break;                                                \
                off_ -= (p)->os[k_] * (p)->d[k_];                                                  \
                idx_[k_] = 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

xb_status xb_reduce_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const reduce_params *p = n->params;
    if (p->identity) return xb_k_copy_run(g, n, e, ctx);
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    if (p->kind == XB_REDUCE_MAX || p->kind == XB_REDUCE_MIN) {
        /* Over an empty set the result is the identity of max/min (-inf /
         * +inf), as ONNX's reference gives from opset 18 on. */
        bool mx = p->kind == XB_REDUCE_MAX;
        for (int64_t o = 0; o < p->out_n; o++) y[o] = mx ? -INFINITY : INFINITY;
        /* NaN propagates, as numpy's maximum/minimum do. */
        if (mx)
            REDUCE_WALK(p, x, if (v > y[o] || isnan(v)) y[o] = v);
        else
            REDUCE_WALK(p, x, if (v < y[o] || isnan(v)) y[o] = v);
        return XB_OK;
    }
    /* Sums in double, so a long reduction loses nothing to float rounding. */
    double *acc = (double *)(((uintptr_t)e->scratch + 63) & ~(uintptr_t)63);
    memset(acc, 0, (size_t)p->out_n * sizeof *acc);
    if (p->kind == XB_REDUCE_L2)
        REDUCE_WALK(p, x, acc[o] += (double)v * v);
    else
        REDUCE_WALK(p, x, acc[o] += v);
    for (int64_t o = 0; o < p->out_n; o++) {
        double s = acc[o];
        if (p->kind == XB_REDUCE_MEAN) s /= (double)p->count;
        else if (p->kind == XB_REDUCE_L2) s = sqrt(s);
        y[o] = (float)s;
    }
    return XB_OK;
}
