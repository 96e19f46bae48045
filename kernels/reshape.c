/* Reshape (ai.onnx 5, 13, 14).  The target shape is an i64 input that must
 * be constant once the graph is prepared (dynamic-batch exports compute it
 * with Shape/Gather/Concat, which folding turns into a constant).
 *
 * Entries: 0 copies the input dimension at the same index (unless
 * allowzero = 1, opset 14+, where 0 means an empty dimension), -1 is
 * inferred from the element count (at most one), anything else is taken
 * literally.  allowzero = 1 with both 0 and -1 is invalid per the spec. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_reshape_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Reshape on %s tensors", xb_dtype_name(x->dtype));
    int64_t v[XB_MAX_RANK];
    int cnt = 0;
    XB_TRY(xb_k_const_ints(g, n, 1, "shape", 0, v, XB_MAX_RANK, &cnt, ctx));
    if (xb_in_t(g, n, 1)->shape.rank != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "shape input must be 1-D");
    int64_t allowzero = n->opset >= 14 ? xb_attr_int(n, "allowzero", 0) : 0;
    xb_shape s = {.rank = cnt};
    int infer = -1;
    int has_zero = 0;
    int64_t known = 1;
    for (int k = 0; k < cnt; k++) {
        int64_t d = v[k];
        if (d == 0 && !allowzero) {
            if (k >= x->shape.rank)
                return xb_fail(ctx, XB_ERR_INVALID,
                               "shape entry %d is 0 (copy input dim) but the input has rank %d", k,
                               x->shape.rank);
            d = x->shape.d[k];
        } else if (d == 0) {
            has_zero = 1;
        } else if (d == -1) {
            if (infer >= 0)
                return xb_fail(ctx, XB_ERR_INVALID, "shape has more than one -1 entry");
            infer = k;
            continue;
        } else if (d < -1) {
            return xb_fail(ctx, XB_ERR_INVALID, "shape entry %d is %lld", k, (long long)d);
        }
        s.d[k] = d;
        if (d != 0 && known > INT64_MAX / d)
            return xb_fail(ctx, XB_ERR_INVALID, "shape has too many elements");
        known *= d;
    }
    int64_t numel = xb_shape_numel(&x->shape);
    if (infer >= 0) {
        if (has_zero)
            return xb_fail(ctx, XB_ERR_INVALID, "allowzero = 1 shape holds both 0 and -1");
        if (known == 0 || numel % known != 0) {
            char b[128];
            return xb_fail(ctx, XB_ERR_INVALID,
                           "cannot infer the -1 entry: %lld elements of input %s do not divide "
                           "into blocks of %lld",
                           (long long)numel, xb_shape_str(&x->shape, b, sizeof b), (long long)known);
        }
        s.d[infer] = numel / known;
        known = numel;
    }
    if (known != numel) {
        char a[128], b[128];
        return xb_fail(ctx, XB_ERR_INVALID, "cannot reshape %s (%lld elements) to %s",
                       xb_shape_str(&x->shape, a, sizeof a), (long long)numel,
                       xb_shape_str(&s, b, sizeof b));
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = s;
    return XB_OK;
}

xb_status xb_op_reshape_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_k_copy_run(g, n, e, ctx);
}
