/* InstanceNormalization (ai.onnx 1, 6): normalise each (image, channel)
 * plane of an [N, C, D1, ...] input by its own mean and variance:
 *   y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c]
 * with the population variance (divide by the plane size), epsilon default
 * 1e-5 (ONNX operator spec).  The statistics are computed in double, in two
 * passes (mean, then the squared deviations), so they do not depend on the
 * plane's offset from zero.  Float only. */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int64_t n, c, plane;
    float eps;
} instnorm_params;

xb_status xb_op_instancenorm_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 3, 3, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    char sb[96];
    static const char *names[3] = {"input", "scale", "B"};
    for (int i = 0; i < 3; i++)
        if (xb_in_t(g, n, i)->dtype != XB_F32)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED, "InstanceNormalization %s is %s (float only)",
                           names[i], xb_dtype_name(xb_in_t(g, n, i)->dtype));
    if (x->shape.rank < 3)
        return xb_fail(ctx, XB_ERR_INVALID, "input shape %s: expected [N, C, D1, ...]",
                       xb_shape_str(&x->shape, sb, sizeof sb));
    for (int i = 1; i < 3; i++) {
        const xb_tensor *t = xb_in_t(g, n, i);
        if (t->shape.rank != 1 || t->shape.d[0] != x->shape.d[1])
            return xb_fail(ctx, XB_ERR_INVALID, "%s has shape %s, expected [%lld]", names[i],
                           xb_shape_str(&t->shape, sb, sizeof sb), (long long)x->shape.d[1]);
    }
    float eps = xb_attr_float(n, "epsilon", 1e-5f);
    if (!(eps >= 0.0f))
        return xb_fail(ctx, XB_ERR_INVALID, "epsilon = %g must be >= 0", (double)eps);
    instnorm_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->n = x->shape.d[0];
    p->c = x->shape.d[1];
    p->plane = 1;
    for (int k = 2; k < x->shape.rank; k++) p->plane *= x->shape.d[k];
    p->eps = eps;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_instancenorm_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const instnorm_params *p = n->params;
    const float *x = XB_IN_F32(e, n, 0), *scale = XB_IN_F32(e, n, 1), *bias = XB_IN_F32(e, n, 2);
    float *y = XB_OUT_F32(e, n, 0);
    const int64_t L = p->plane;
    for (int64_t nc = 0; nc < p->n * p->c; nc++) {
        const float *xp = x + nc * L;
        float *yp = y + nc * L;
        int64_t c = nc % p->c;
        double s = 0.0, ss = 0.0;
        for (int64_t i = 0; i < L; i++) s += xp[i];
        double mean = L > 0 ? s / (double)L : 0.0;
        for (int64_t i = 0; i < L; i++) ss += (xp[i] - mean) * (xp[i] - mean);
        double var = L > 0 ? ss / (double)L : 0.0;
        double a = scale[c] / sqrt(var + p->eps);
        double b = bias[c] - mean * a;
        for (int64_t i = 0; i < L; i++) yp[i] = (float)(xp[i] * a + b);
    }
    return XB_OK;
}
