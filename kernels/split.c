/* Split (ai.onnx 2, 11, 13): cut the input into consecutive parts along
 * `axis` (default 0, negative counts from the end from opset 11), one per
 * output.  Part lengths come from the `split` attribute before opset 13 and
 * from the optional 1-D i64 `split` input (constant after folding) from 13;
 * without them the axis is cut into equal parts, which requires it to divide
 * evenly (uneven splits via num_outputs arrive in opset 18).  Lengths must
 * be >= 0 and sum to the axis size; zero-length parts are allowed.  Any
 * element type; run is one memcpy per (outer index, output). */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

#define SPLIT_MAX_OUT 256

typedef struct {
    int64_t outer, len, inner; /* input viewed as [outer, len, inner] */
    size_t es;
    int n_out;
    int64_t part[]; /* length of each output along the axis */
} split_params;

/* part[] has room for SPLIT_MAX_OUT values. */
static xb_status split_sizes(const xb_graph *g, const xb_node *n, int64_t len, int64_t *part,
                             xb_ctx *ctx) {
    int cnt = -1;
    if (n->opset >= 13) {
        if (xb_attr_find(n, "split"))
            return xb_fail(ctx, XB_ERR_INVALID,
                           "Split takes `split` as an input from opset 13, not an attribute");
        if (xb_k_has_in(n, 1))
            XB_TRY(xb_k_const_ints(g, n, 1, "split", 0, part, SPLIT_MAX_OUT, &cnt, ctx));
    } else {
        const int64_t *a = NULL;
        cnt = xb_attr_ints(n, "split", &a);
        if (cnt > SPLIT_MAX_OUT) return xb_fail(ctx, XB_ERR_INVALID, "too many parts (%d)", cnt);
        for (int k = 0; k < cnt; k++) part[k] = a[k];
    }
    if (cnt < 0) {
        if (len % n->n_out != 0)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "axis of size %lld cannot be split into %d equal parts", (long long)len,
                           n->n_out);
        for (int k = 0; k < n->n_out; k++) part[k] = len / n->n_out;
        return XB_OK;
    }
    if (cnt != n->n_out)
        return xb_fail(ctx, XB_ERR_INVALID, "split has %d values but the node has %d outputs",
                       cnt, n->n_out);
    int64_t sum = 0;
    for (int k = 0; k < cnt; k++) {
        if (part[k] < 0 || part[k] > len)
            return xb_fail(ctx, XB_ERR_INVALID, "split[%d] = %lld is out of range", k,
                           (long long)part[k]);
        sum += part[k];
    }
    if (sum != len)
        return xb_fail(ctx, XB_ERR_INVALID, "split values sum to %lld, but the axis has size %lld",
                       (long long)sum, (long long)len);
    return XB_OK;
}

xb_status xb_op_split_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, n->opset >= 13 ? 2 : 1, 1, SPLIT_MAX_OUT, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Split on %s tensors", xb_dtype_name(x->dtype));
    int r = x->shape.rank, axis;
    if (r < 1) return xb_fail(ctx, XB_ERR_INVALID, "cannot split a scalar");
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", 0), r, 0, "axis", &axis, ctx));
    split_params *p = xb_calloc(ctx, 1, sizeof *p + (size_t)n->n_out * sizeof(int64_t));
    if (!p) return ctx->status;
    n->params = p;
    p->n_out = n->n_out;
    p->es = xb_dtype_size(x->dtype);
    p->outer = 1, p->inner = 1, p->len = x->shape.d[axis];
    for (int k = 0; k < r; k++) {
        if (k < axis) p->outer *= x->shape.d[k];
        if (k > axis) p->inner *= x->shape.d[k];
    }
    int64_t part[SPLIT_MAX_OUT];
    XB_TRY(split_sizes(g, n, p->len, part, ctx));
    memcpy(p->part, part, (size_t)n->n_out * sizeof *part);
    for (int k = 0; k < n->n_out; k++) {
        if (n->out[k] < 0) continue;
        xb_tensor *y = xb_out_t(g, n, k);
        y->dtype = x->dtype;
        y->shape = x->shape;
        y->shape.d[axis] = p->part[k];
    }
    return XB_OK;
}

xb_status xb_op_split_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const split_params *p = n->params;
    const uint8_t *x = e->buf[n->in[0]];
    const size_t row = (size_t)(p->len * p->inner) * p->es;
    int64_t start = 0;
    for (int k = 0; k < p->n_out; k++) {
        size_t chunk = (size_t)(p->part[k] * p->inner) * p->es;
        if (n->out[k] >= 0 && chunk > 0) {
            uint8_t *y = e->buf[n->out[k]];
            const uint8_t *xs = x + (size_t)(start * p->inner) * p->es;
            for (int64_t o = 0; o < p->outer; o++) memcpy(y + o * chunk, xs + o * row, chunk);
        }
        start += p->part[k];
    }
    return XB_OK;
}
