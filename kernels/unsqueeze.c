/* Unsqueeze (ai.onnx 1, 11, 13): insert size-1 dimensions.  Axes refer to
 * positions in the *output* (rank r + len(axes)); they come from the
 * required `axes` attribute before opset 13 and from the required i64 input
 * (constant after folding) from 13.  Negative axes count from the end of the
 * output; duplicates are invalid. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_unsqueeze_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    int v13 = n->opset >= 13;
    XB_TRY(xb_k_arity(n, v13 ? 2 : 1, v13 ? 2 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Unsqueeze on %s tensors",
                       xb_dtype_name(x->dtype));
    int64_t axes[XB_MAX_RANK];
    int cnt = 0;
    if (v13) {
        XB_TRY(xb_k_const_ints(g, n, 1, "axes", 0, axes, XB_MAX_RANK, &cnt, ctx));
    } else {
        const int64_t *a = NULL;
        cnt = xb_attr_ints(n, "axes", &a);
        if (cnt < 0) return xb_fail(ctx, XB_ERR_INVALID, "missing required attribute 'axes'");
        if (cnt > XB_MAX_RANK) return xb_fail(ctx, XB_ERR_INVALID, "too many axes (%d)", cnt);
        for (int k = 0; k < cnt; k++) axes[k] = a[k];
    }
    int r = x->shape.rank + cnt;
    if (r > XB_MAX_RANK)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "output rank %d exceeds %d", r, XB_MAX_RANK);
    int ins[XB_MAX_RANK] = {0};
    for (int k = 0; k < cnt; k++) {
        int a;
        XB_TRY(xb_k_axis(axes[k], r, 0, "axis", &a, ctx));
        if (ins[a]) return xb_fail(ctx, XB_ERR_INVALID, "axis %d given twice", a);
        ins[a] = 1;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = r;
    for (int k = 0, j = 0; k < r; k++) y->shape.d[k] = ins[k] ? 1 : x->shape.d[j++];
    return XB_OK;
}

xb_status xb_op_unsqueeze_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_k_copy_run(g, n, e, ctx);
}
