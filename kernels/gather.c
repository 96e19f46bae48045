/* Gather (ai.onnx 1, 11, 13): out[j.., i.., k..] = data[j.., idx[i..], k..]
 * along `axis` (default 0, negative counts from the end).  Output shape is
 * data.shape[:axis] + indices.shape + data.shape[axis+1:].  Indices are i32
 * or i64; negative indices count from the end of the axis (opset 11 made
 * that official; we accept it in every opset).  An index outside
 * [-n, n) is an error: at prepare when the indices are constant, otherwise
 * XB_ERR_RUNTIME at run (checked before anything is written).  Works on
 * every dtype because it only moves bytes. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int axis;
} gather_params;

static int64_t index_at(const void *idx, xb_dtype dt, int64_t i) {
    return dt == XB_I64 ? ((const int64_t *)idx)[i] : (int64_t)((const int32_t *)idx)[i];
}

/* Returns the position of the first bad index or -1. */
static int64_t find_bad_index(const void *idx, xb_dtype dt, int64_t count, int64_t n) {
    for (int64_t i = 0; i < count; i++) {
        int64_t k = index_at(idx, dt, i);
        if (k < -n || k >= n) return i;
    }
    return -1;
}

xb_status xb_op_gather_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    const xb_tensor *ind = xb_in_t(g, n, 1);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Gather on %s data", xb_dtype_name(x->dtype));
    if (ind->dtype != XB_I64 && ind->dtype != XB_I32)
        return xb_fail(ctx, XB_ERR_INVALID, "indices '%s' must be i32 or i64, got %s", ind->name,
                       xb_dtype_name(ind->dtype));
    if (x->shape.rank < 1) return xb_fail(ctx, XB_ERR_INVALID, "data must have rank >= 1");
    int axis;
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", 0), x->shape.rank, 0, "axis", &axis, ctx));
    int r = x->shape.rank - 1 + ind->shape.rank;
    if (r > XB_MAX_RANK)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "output rank %d exceeds %d", r, XB_MAX_RANK);
    int64_t dim = x->shape.d[axis];
    if (ind->is_const && ind->data) {
        int64_t bad = find_bad_index(ind->data, ind->dtype, xb_shape_numel(&ind->shape), dim);
        if (bad >= 0)
            return xb_fail(ctx, XB_ERR_INVALID, "index %lld at position %lld is out of range for axis %d of size %lld",
                           (long long)index_at(ind->data, ind->dtype, bad), (long long)bad, axis,
                           (long long)dim);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape.rank = 0;
    for (int k = 0; k < axis; k++) y->shape.d[y->shape.rank++] = x->shape.d[k];
    for (int k = 0; k < ind->shape.rank; k++) y->shape.d[y->shape.rank++] = ind->shape.d[k];
    for (int k = axis + 1; k < x->shape.rank; k++) y->shape.d[y->shape.rank++] = x->shape.d[k];
    gather_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    p->axis = axis;
    n->params = p;
    return XB_OK;
}

xb_status xb_op_gather_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const gather_params *p = n->params;
    const xb_tensor *x = &g->tensors[n->in[0]];
    const xb_tensor *ind = &g->tensors[n->in[1]];
    const void *idx = e->buf[n->in[1]];
    int64_t count = xb_shape_numel(&ind->shape);
    int64_t dim = x->shape.d[p->axis];
    int64_t bad = find_bad_index(idx, ind->dtype, count, dim);
    if (bad >= 0)
        return xb_fail(ctx, XB_ERR_RUNTIME,
                       "index %lld at position %lld is out of range for axis %d of size %lld",
                       (long long)index_at(idx, ind->dtype, bad), (long long)bad, p->axis,
                       (long long)dim);
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < p->axis; k++) outer *= x->shape.d[k];
    for (int k = p->axis + 1; k < x->shape.rank; k++) inner *= x->shape.d[k];
    size_t row = (size_t)inner * xb_dtype_size(x->dtype);
    const char *src = e->buf[n->in[0]];
    char *dst = e->buf[n->out[0]];
    for (int64_t o = 0; o < outer; o++) {
        const char *base = src + (size_t)(o * dim) * row;
        for (int64_t i = 0; i < count; i++) {
            int64_t k = index_at(idx, ind->dtype, i);
            if (k < 0) k += dim;
            memcpy(dst, base + (size_t)k * row, row);
            dst += row;
        }
    }
    return XB_OK;
}
