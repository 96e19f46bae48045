/* Slice (ai.onnx 1, 10, 11, 13).  Not in the op list, but PyTorch
 * emits it for x[:, a:b] and inside the pads computation of F.pad (opset
 * 11+), where it is constant and folds away.
 *
 * Opset < 10: attributes starts, ends, axes.  Opset >= 10: inputs starts,
 * ends, axes (optional), steps (optional), i32 or i64, which must be
 * constant after folding (they decide the output shape).  Per axis, as the
 * spec describes: negative starts/ends add the dimension; then for step > 0
 * start and end clamp to [0, d]; for step < 0 start clamps to [0, d-1] and
 * end to [-1, d-1].  Output length is ceil((end - start) / step), at least
 * 0.  Negative axes count from the end; repeated axes and step 0 are
 * invalid. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int rank;
    int64_t od[XB_MAX_RANK]; /* output dims */
    int64_t is[XB_MAX_RANK]; /* input stride per output step, in elements (may be < 0) */
    int64_t base;            /* input offset of output element 0 */
} slice_params;

static xb_status read_list(const xb_graph *g, const xb_node *n, int v10, int input,
                           const char *attr, int64_t *vals, int *count, xb_ctx *ctx) {
    *count = -1;
    if (v10) {
        if (!xb_k_has_in(n, input)) return XB_OK;
        return xb_k_const_ints(g, n, input, attr, 1, vals, XB_MAX_RANK, count, ctx);
    }
    const int64_t *v = NULL;
    int c = xb_attr_ints(n, attr, &v);
    if (c > XB_MAX_RANK) return xb_fail(ctx, XB_ERR_INVALID, "attribute '%s' is too long", attr);
    for (int k = 0; k < c; k++) vals[k] = v[k];
    *count = c;
    return XB_OK;
}

xb_status xb_op_slice_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    int v10 = n->opset >= 10;
    XB_TRY(xb_k_arity(n, v10 ? 3 : 1, v10 ? 5 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Slice on %s tensors", xb_dtype_name(x->dtype));
    int r = x->shape.rank;
    int64_t starts[XB_MAX_RANK], ends[XB_MAX_RANK], axes[XB_MAX_RANK], steps[XB_MAX_RANK];
    int ns, ne, na, nst;
    XB_TRY(read_list(g, n, v10, 1, "starts", starts, &ns, ctx));
    XB_TRY(read_list(g, n, v10, 2, "ends", ends, &ne, ctx));
    XB_TRY(read_list(g, n, v10, 3, "axes", axes, &na, ctx));
    nst = -1;
    if (v10) XB_TRY(read_list(g, n, v10, 4, "steps", steps, &nst, ctx));
    if (ns < 0 || ne < 0) return xb_fail(ctx, XB_ERR_INVALID, "starts and ends are required");
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return xb_fail(ctx, XB_ERR_INVALID, "starts, ends, axes and steps differ in length");
    if (ns > r)
        return xb_fail(ctx, XB_ERR_INVALID, "%d slice entries for rank %d", ns, r);
    int64_t start[XB_MAX_RANK], step[XB_MAX_RANK], len[XB_MAX_RANK];
    int seen[XB_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) {
        start[k] = 0;
        step[k] = 1;
        len[k] = x->shape.d[k];
    }
    for (int i = 0; i < ns; i++) {
        int a = i;
        if (na >= 0) XB_TRY(xb_k_axis(axes[i], r, 0, "axis", &a, ctx));
        if (seen[a]) return xb_fail(ctx, XB_ERR_INVALID, "axis %d sliced twice", a);
        seen[a] = 1;
        int64_t d = x->shape.d[a], st = nst >= 0 ? steps[i] : 1;
        if (st == 0) return xb_fail(ctx, XB_ERR_INVALID, "step 0 on axis %d", a);
        int64_t s = starts[i], e = ends[i];
        if (s < 0) s += d;
        if (e < 0) e += d;
        int64_t cnt;
        if (st > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            /* Written so a huge step cannot overflow. */
            cnt = e > s ? 1 + (e - s - 1) / st : 0;
        } else {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            /* -st overflows for INT64_MIN; such a step takes one element. */
            cnt = s > e ? (st == INT64_MIN ? 1 : 1 + (s - e - 1) / -st) : 0;
        }
        if (d == 0) cnt = 0; /* the negative-step clamp range [0, -1] is empty */
        start[a] = s;
        step[a] = st;
        len[a] = cnt;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = r;
    for (int k = 0; k < r; k++) y->shape.d[k] = len[k];
    slice_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    int64_t stride = 1;
    for (int k = r - 1; k >= 0; k--) {
        p->base += start[k] * stride;
        p->od[k] = len[k];
        /* |step| <= d when more than one element is taken, so this fits. */
        p->is[k] = len[k] > 1 ? step[k] * stride : 0;
        stride *= x->shape.d[k];
    }
    p->rank = r;
    if (r == 0) {
        p->rank = 1;
        p->od[0] = 1;
        p->is[0] = 1;
    }
    return XB_OK;
}

xb_status xb_op_slice_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const slice_params *p = n->params;
    const xb_tensor *y = &g->tensors[n->out[0]];
    int64_t total = xb_shape_numel(&y->shape);
    if (total == 0) return XB_OK;
    if (xb_k_strided_gather(e->buf[n->in[0]], e->buf[n->out[0]], xb_dtype_size(y->dtype), p->rank,
                            p->od, p->is, p->base))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Slice of %s", xb_dtype_name(y->dtype));
    return XB_OK;
}
