/* Expand (ai.onnx 8, 13): broadcast the input to a shape given by a 1-D i64
 * input, with numpy's multidirectional rule (ONNX Broadcasting.md): the two
 * shapes are right-aligned, each pair of dims must be equal or contain a 1,
 * and the output takes the larger, so the output may have a higher rank than
 * `shape` or keep a dim of the input where `shape` says 1.  The shape must
 * be constant after folding (static shapes).  Run is a strided gather with
 * stride 0 along broadcast axes; any element type. */
#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int rank;               /* of the output, >= 1 (a scalar is run as [1]) */
    int64_t od[XB_MAX_RANK]; /* output dims */
    int64_t is[XB_MAX_RANK]; /* input stride per output axis, 0 where broadcast */
} expand_params;

xb_status xb_op_expand_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Expand on %s tensors", xb_dtype_name(x->dtype));
    int64_t shp[XB_MAX_RANK];
    int cnt = 0;
    XB_TRY(xb_k_const_ints(g, n, 1, "shape", 0, shp, XB_MAX_RANK, &cnt, ctx));
    int xr = x->shape.rank, r = cnt > xr ? cnt : xr;
    expand_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = r;
    int64_t stride = 1;
    for (int k = r - 1; k >= 0; k--) {
        int xi = k - (r - xr), si = k - (r - cnt);
        int64_t a = xi >= 0 ? x->shape.d[xi] : 1, b = si >= 0 ? shp[si] : 1;
        if (b < 0)
            return xb_fail(ctx, XB_ERR_INVALID, "shape[%d] = %lld is negative", si, (long long)b);
        if (a != b && a != 1 && b != 1)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "input dim %d (%lld) cannot be broadcast to shape[%d] = %lld", xi,
                           (long long)a, si, (long long)b);
        y->shape.d[k] = a == 1 ? b : a;
        p->od[k] = y->shape.d[k];
        p->is[k] = a == 1 ? 0 : stride;
        stride *= a;
    }
    if (xb_shape_numel(&y->shape) > (int64_t)(XB_MAX_TENSOR_BYTES / 8))
        return xb_fail(ctx, XB_ERR_NOMEM, "output of %lld elements is too large",
                       (long long)xb_shape_numel(&y->shape));
    p->rank = r;
    if (r == 0) p->rank = 1, p->od[0] = 1, p->is[0] = 0;
    return XB_OK;
}

xb_status xb_op_expand_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const expand_params *p = n->params;
    xb_k_strided_gather(e->buf[n->in[0]], e->buf[n->out[0]],
                        xb_dtype_size(g->tensors[n->in[0]].dtype), p->rank, p->od, p->is, 0);
    return XB_OK;
}
