/* LayerNormalization (ai.onnx 17): normalise X over its trailing axes
 * [axis, rank) (axis default -1, negative counts from the end):
 *   Mean = mean(X), InvStdDev = 1 / sqrt(var(X) + epsilon),
 *   Y = (X - Mean) * InvStdDev * Scale + B
 * with the population variance and epsilon default 1e-5, as the spec's
 * function body computes it.  Scale and the optional B are unidirectionally
 * broadcast to the normalised shape X.shape[axis:].  The optional outputs
 * Mean and InvStdDev have X's shape with the normalised axes set to 1.
 * stash_type (the precision of the statistics) must be 1 (float); we
 * accumulate in double, which is within float rounding of it.  Float only.
 * The op is new in opset 17; earlier exports spell it out as ReduceMean,
 * Sub, Pow, Sqrt, Div (ops outside this file). */
#include <math.h>
#include <stdint.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int64_t outer, len; /* X viewed as [outer, len] */
    float eps;
    bool has_bias;
    /* Scale / B broadcast to [len]: dims of the normalised shape and the
     * element strides of each operand (0 along broadcast axes). */
    int nr;
    int64_t nd[XB_MAX_RANK];
    int64_t s_is[XB_MAX_RANK], b_is[XB_MAX_RANK];
} layernorm_params;

/* Strides that broadcast operand t (right-aligned) to the normalised dims;
 * fails unless every dim of t is 1 or equal. */
static xb_status bcast_strides(const xb_tensor *t, const char *what, const layernorm_params *p,
                               int64_t *is, xb_ctx *ctx) {
    char sb[96];
    if (t->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "LayerNormalization %s is %s (float only)", what,
                       xb_dtype_name(t->dtype));
    if (t->shape.rank > p->nr)
        return xb_fail(ctx, XB_ERR_INVALID, "%s shape %s has more axes than the %d normalised ones",
                       what, xb_shape_str(&t->shape, sb, sizeof sb), p->nr);
    int64_t stride = 1;
    for (int k = p->nr - 1; k >= 0; k--) {
        int ti = k - (p->nr - t->shape.rank);
        int64_t d = ti >= 0 ? t->shape.d[ti] : 1;
        if (d != 1 && d != p->nd[k])
            return xb_fail(ctx, XB_ERR_INVALID,
                           "%s shape %s does not broadcast to the normalised shape of X", what,
                           xb_shape_str(&t->shape, sb, sizeof sb));
        is[k] = d == 1 ? 0 : stride;
        stride *= d;
    }
    return XB_OK;
}

xb_status xb_op_layernorm_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 3, 1, 3, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "LayerNormalization on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    int r = x->shape.rank, axis;
    if (r < 1) return xb_fail(ctx, XB_ERR_INVALID, "X must have rank >= 1");
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", -1), r, 0, "axis", &axis, ctx));
    int64_t stash = xb_attr_int(n, "stash_type", 1);
    if (stash != 1)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "stash_type = %lld (only 1, float, is supported)",
                       (long long)stash);
    float eps = xb_attr_float(n, "epsilon", 1e-5f);
    if (!(eps >= 0.0f))
        return xb_fail(ctx, XB_ERR_INVALID, "epsilon = %g must be >= 0", (double)eps);
    layernorm_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->eps = eps;
    p->outer = 1, p->len = 1;
    p->nr = r - axis;
    for (int k = 0; k < r; k++) {
        if (k < axis) p->outer *= x->shape.d[k];
        else p->len *= x->shape.d[k], p->nd[k - axis] = x->shape.d[k];
    }
    XB_TRY(bcast_strides(xb_in_t(g, n, 1), "Scale", p, p->s_is, ctx));
    p->has_bias = xb_k_has_in(n, 2);
    if (p->has_bias) XB_TRY(bcast_strides(xb_in_t(g, n, 2), "B", p, p->b_is, ctx));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    for (int i = 1; i < n->n_out; i++) {
        if (n->out[i] < 0) continue;
        xb_tensor *s = xb_out_t(g, n, i);
        s->dtype = XB_F32;
        s->shape = x->shape;
        for (int k = axis; k < r; k++) s->shape.d[k] = 1;
    }
    /* Scale and B expanded to [len] each run (they need not be constant). */
    n->scratch_bytes = 2 * (size_t)p->len * sizeof(float) + 64;
    return XB_OK;
}

xb_status xb_op_layernorm_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const layernorm_params *p = n->params;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    float *mean_out = n->n_out > 1 && n->out[1] >= 0 ? XB_OUT_F32(e, n, 1) : NULL;
    float *inv_out = n->n_out > 2 && n->out[2] >= 0 ? XB_OUT_F32(e, n, 2) : NULL;
    const int64_t L = p->len;
    float *scale = (float *)(((uintptr_t)e->scratch + 63) & ~(uintptr_t)63);
    float *bias = scale + L;
    if (p->nr > 0) {
        xb_k_strided_gather(e->buf[n->in[1]], scale, 4, p->nr, p->nd, p->s_is, 0);
        if (p->has_bias) xb_k_strided_gather(e->buf[n->in[2]], bias, 4, p->nr, p->nd, p->b_is, 0);
    }
    for (int64_t o = 0; o < p->outer; o++) {
        const float *xp = x + o * L;
        float *yp = y + o * L;
        double s = 0.0, ss = 0.0;
        for (int64_t i = 0; i < L; i++) s += xp[i];
        double mean = L > 0 ? s / (double)L : 0.0;
        for (int64_t i = 0; i < L; i++) ss += (xp[i] - mean) * (xp[i] - mean);
        double inv = 1.0 / sqrt((L > 0 ? ss / (double)L : 0.0) + p->eps);
        for (int64_t i = 0; i < L; i++) {
            double v = (xp[i] - mean) * inv * scale[i];
            yp[i] = (float)(p->has_bias ? v + bias[i] : v);
        }
        if (mean_out) mean_out[o] = (float)mean;
        if (inv_out) inv_out[o] = (float)inv;
    }
    return XB_OK;
}
