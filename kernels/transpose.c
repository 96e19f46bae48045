/* Transpose (ai.onnx 1, 13): y[i_0..i_r-1] with y.shape[k] = x.shape[perm[k]];
 * perm defaults to reversing the axes.  Any dtype (it moves elements).
 *
 * Prepare simplifies the permutation before run ever sees it: size-1 axes
 * are dropped and output axes that read consecutive input axes in order are
 * merged, so NCHW->NHWC becomes a 2-D or 3-D transpose and an identity
 * permutation becomes a plain copy.  Run walks the output in order with a
 * counter over the outer axes and a strided inner loop. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int rank;                /* after simplification, >= 1 */
    int64_t od[XB_MAX_RANK]; /* output dims */
    int64_t is[XB_MAX_RANK]; /* input stride (elements) of each output axis */
} transpose_params;

xb_status xb_op_transpose_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Transpose on %s tensors",
                       xb_dtype_name(x->dtype));
    int r = x->shape.rank;
    int perm[XB_MAX_RANK];
    const int64_t *pv = NULL;
    int np = xb_attr_ints(n, "perm", &pv);
    if (np < 0) {
        for (int k = 0; k < r; k++) perm[k] = r - 1 - k;
    } else {
        if (np != r)
            return xb_fail(ctx, XB_ERR_INVALID, "perm has %d entries but the input has rank %d", np,
                           r);
        int seen[XB_MAX_RANK] = {0};
        for (int k = 0; k < r; k++) {
            /* Negative entries are not in the spec; reject rather than guess. */
            if (pv[k] < 0 || pv[k] >= r || seen[pv[k]])
                return xb_fail(ctx, XB_ERR_INVALID, "perm is not a permutation of 0..%d", r - 1);
            seen[pv[k]] = 1;
            perm[k] = (int)pv[k];
        }
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = r;
    for (int k = 0; k < r; k++) y->shape.d[k] = x->shape.d[perm[k]];

    /* Input strides of the original axes. */
    int64_t stride[XB_MAX_RANK];
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        stride[k] = s;
        s *= x->shape.d[k];
    }
    transpose_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    /* Walk output axes; skip size-1 axes; merge an axis into the previous
     * kept one when it is the next input axis (then the pair is contiguous
     * in both tensors: stride[prev] == stride[cur] * d[cur]). */
    int m = 0, prev = -1;
    for (int k = 0; k < r; k++) {
        int a = perm[k];
        int64_t d = x->shape.d[a];
        if (d == 1) continue;
        if (m > 0 && prev >= 0 && stride[prev] == stride[a] * d) {
            p->od[m - 1] *= d;
            p->is[m - 1] = stride[a];
        } else {
            p->od[m] = d;
            p->is[m] = stride[a];
            m++;
        }
        prev = a;
    }
    if (m == 0) {
        p->od[0] = 1;
        p->is[0] = 1;
        m = 1;
    }
    p->rank = m;
    return XB_OK;
}

xb_status xb_op_transpose_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const transpose_params *p = n->params;
    const xb_tensor *x = &g->tensors[n->in[0]];
    size_t es = xb_dtype_size(x->dtype);
    int64_t total = xb_shape_numel(&x->shape);
    int r = p->rank;
    if (r == 1 && p->is[0] == 1) return xb_k_copy_run(g, n, e, ctx);
    if (total == 0) return XB_OK;
    if (xb_k_strided_gather(e->buf[n->in[0]], e->buf[n->out[0]], es, r, p->od, p->is, 0))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Transpose of %zu-byte elements", es);
    return XB_OK;
}
