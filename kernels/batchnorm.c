/* BatchNormalization (ai.onnx 7, 9, 14, 15), inference form:
 *   y = (x - mean) / sqrt(var + epsilon) * scale + B, per channel (axis 1).
 * Folded per channel to y = x * a + b with a = scale / sqrt(var + eps) and
 * b = B - mean * a, as ONNX Runtime does, recomputed each run (C values) so
 * that non-constant statistics work too.  Opsets 7/8's spatial = 0 (per
 * activation statistics), training_mode = 1 (14+) and the running-statistics
 * outputs are training features and are rejected.  momentum only matters in
 * training and is ignored. */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_batchnorm_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 5, 5, 1, 5, ctx));
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "BatchNormalization's training outputs (running mean/var) are not "
                           "supported");
    if (xb_attr_int(n, "training_mode", 0) != 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "BatchNormalization with training_mode = 1 is not supported");
    if (n->opset < 9 && xb_attr_int(n, "spatial", 1) != 1)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "BatchNormalization with spatial = 0 is not supported");
    const xb_tensor *x = xb_in_t(g, n, 0);
    char sb[96];
    if (x->shape.rank < 2)
        return xb_fail(ctx, XB_ERR_INVALID, "input shape %s has no channel axis",
                       xb_shape_str(&x->shape, sb, sizeof sb));
    static const char *names[5] = {"X", "scale", "B", "mean", "var"};
    for (int i = 0; i < 5; i++) {
        const xb_tensor *t = xb_in_t(g, n, i);
        if (t->dtype != XB_F32)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "BatchNormalization input %s is %s (float only)",
                           names[i], xb_dtype_name(t->dtype));
        if (i > 0 && (t->shape.rank != 1 || t->shape.d[0] != x->shape.d[1]))
            return xb_fail(ctx, XB_ERR_INVALID, "%s has shape %s, expected [%lld]", names[i],
                           xb_shape_str(&t->shape, sb, sizeof sb), (long long)x->shape.d[1]);
    }
    float eps = xb_attr_float(n, "epsilon", 1e-5f);
    if (!(eps >= 0.0f)) return xb_fail(ctx, XB_ERR_INVALID, "epsilon = %g must be >= 0", eps);
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    n->scratch_bytes = 2 * (size_t)x->shape.d[1] * sizeof(float);
    return XB_OK;
}

xb_status xb_op_batchnorm_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const xb_shape *xs = &g->tensors[n->in[0]].shape;
    int64_t N = xs->d[0], C = xs->d[1], len = 1;
    for (int i = 2; i < xs->rank; i++) len *= xs->d[i];
    const float *x = XB_IN_F32(e, n, 0), *scale = XB_IN_F32(e, n, 1), *bias = XB_IN_F32(e, n, 2);
    const float *mean = XB_IN_F32(e, n, 3), *var = XB_IN_F32(e, n, 4);
    float *y = XB_OUT_F32(e, n, 0);
    float *a = e->scratch, *b = a + C;
    float eps = xb_attr_float(n, "epsilon", 1e-5f);
    for (int64_t c = 0; c < C; c++) {
        a[c] = scale[c] * (1.0f / sqrtf(var[c] + eps));
        b[c] = bias[c] - mean[c] * a[c];
    }
    for (int64_t i = 0; i < N; i++)
        for (int64_t c = 0; c < C; c++) {
            const float *xp = x + (i * C + c) * len;
            float *yp = y + (i * C + c) * len;
            float ac = a[c], bc = b[c];
            for (int64_t k = 0; k < len; k++) yp[k] = xp[k] * ac + bc;
        }
    return XB_OK;
}
