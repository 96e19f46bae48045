/* Squeeze (ai.onnx 1, 11, 13): drop dimensions of size 1.
 * Axes come from the `axes` attribute before opset 13 and from the optional
 * i64 `axes` input (which must be constant) from 13; without axes every
 * size-1 dimension goes; so does an empty axes list, and a repeated axis
 * counts once (both as ONNX Runtime does; the spec is silent).  Negative
 * axes count from the end (opset 11; we accept them in every opset).
 * Naming a dimension that is not 1 is an error, as in the spec. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_squeeze_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, n->opset >= 13 ? 2 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Squeeze on %s tensors", xb_dtype_name(x->dtype));
    int r = x->shape.rank;
    int64_t axes[XB_MAX_RANK];
    int cnt = -1; /* -1: no axes given */
    if (n->opset >= 13) {
        if (xb_k_has_in(n, 1)) XB_TRY(xb_k_const_ints(g, n, 1, "axes", 0, axes, XB_MAX_RANK, &cnt, ctx));
    } else {
        const int64_t *a = NULL;
        cnt = xb_attr_ints(n, "axes", &a);
        if (cnt > XB_MAX_RANK) return xb_fail(ctx, XB_ERR_INVALID, "too many axes (%d)", cnt);
        for (int k = 0; k < cnt; k++) axes[k] = a[k];
    }
    int drop[XB_MAX_RANK] = {0};
    if (cnt <= 0) {
        for (int k = 0; k < r; k++) drop[k] = x->shape.d[k] == 1;
    } else {
        for (int k = 0; k < cnt; k++) {
            int a;
            XB_TRY(xb_k_axis(axes[k], r, 0, "axis", &a, ctx));
            if (x->shape.d[a] != 1)
                return xb_fail(ctx, XB_ERR_INVALID, "cannot squeeze axis %d of size %lld", a,
                               (long long)x->shape.d[a]);
            drop[a] = 1;
        }
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = 0;
    for (int k = 0; k < r; k++)
        if (!drop[k]) y->shape.d[y->shape.rank++] = x->shape.d[k];
    return XB_OK;
}

xb_status xb_op_squeeze_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_k_copy_run(g, n, e, ctx);
}
