#include "kernels/kutil.h"

#include <string.h>

xb_status xb_k_arity(const xb_node *n, int min_in, int max_in, int min_out, int max_out,
                     xb_ctx *ctx) {
    if (n->n_in < min_in || n->n_in > max_in) {
        if (min_in == max_in)
            return xb_fail(ctx, XB_ERR_INVALID, "takes %d input%s, got %d", min_in,
                           min_in == 1 ? "" : "s", n->n_in);
        return xb_fail(ctx, XB_ERR_INVALID, "takes %d to %d inputs, got %d", min_in, max_in,
                       n->n_in);
    }
    if (n->n_out < min_out || n->n_out > max_out) {
        if (min_out == max_out)
            return xb_fail(ctx, XB_ERR_INVALID, "has %d output%s, got %d", min_out,
                           min_out == 1 ? "" : "s", n->n_out);
        return xb_fail(ctx, XB_ERR_INVALID, "has %d to %d outputs, got %d", min_out, max_out,
                       n->n_out);
    }
    for (int i = 0; i < min_in; i++)
        if (n->in[i] < 0) return xb_fail(ctx, XB_ERR_INVALID, "required input %d is missing", i);
    for (int i = 0; i < min_out; i++)
        if (n->out[i] < 0) return xb_fail(ctx, XB_ERR_INVALID, "required output %d is missing", i);
    return XB_OK;
}

xb_status xb_k_axis(int64_t axis, int rank, int inclusive, const char *what, int *out,
                    xb_ctx *ctx) {
    int64_t hi = inclusive ? rank : rank - 1;
    if (axis < -(int64_t)rank || axis > hi)
        return xb_fail(ctx, XB_ERR_INVALID, "%s %lld out of range for rank %d (allowed %d..%lld)",
                       what, (long long)axis, rank, -rank, (long long)hi);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return XB_OK;
}

xb_status xb_k_const_ints(const xb_graph *g, const xb_node *n, int i, const char *what, int allow_i32,
                          int64_t *vals, int max, int *count, xb_ctx *ctx) {
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (!t->is_const || (!t->data && xb_shape_numel(&t->shape) != 0))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s input '%s' is not constant after folding (data-dependent shapes are "
                       "not supported)",
                       what, t->name);
    if (t->dtype != XB_I64 && !(allow_i32 && t->dtype == XB_I32))
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be i64, got %s", what, t->name,
                       xb_dtype_name(t->dtype));
    if (t->shape.rank > 1)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be a 1-D tensor, got rank %d", what,
                       t->name, t->shape.rank);
    int64_t len = xb_shape_numel(&t->shape);
    if (len < 0 || len > max)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' has %lld values (at most %d allowed)",
                       what, t->name, (long long)len, max);
    for (int64_t k = 0; k < len; k++)
        vals[k] = t->dtype == XB_I64 ? ((const int64_t *)t->data)[k]
                                     : (int64_t)((const int32_t *)t->data)[k];
    *count = (int)len;
    return XB_OK;
}

size_t xb_k_bytes(const xb_tensor *t) {
    return (size_t)xb_shape_numel(&t->shape) * xb_dtype_size(t->dtype);
}

int xb_k_dtype_ok(xb_dtype t) { return xb_dtype_size(t) != 0; }

xb_status xb_k_copy_run(const xb_graph *g, const xb_node *n, struct xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    size_t bytes = xb_k_bytes(&g->tensors[n->in[0]]);
    if (bytes) memcpy(e->buf[n->out[0]], e->buf[n->in[0]], bytes);
    return XB_OK;
}

#define XB_GATHER_LOOP(T)                                                                          \
    do {                                                                                           \
        const T *s0 = (const T *)src;                                                              \
        T *d = (T *)dst;                                                                           \
        for (int64_t o = 0; o < outer; o++) {                                                      \
            const T *s_ = s0 + off;                                                                \
            for (int64_t i = 0; i < inner; i++) d[i] = s_[i * st];                                 \
            d += inner;                                                                            \
            /* odometer over the outer axes: advance the last one, carry */                        \
            for (int k = rank - 2; k >= 0; k--) {                                                  \
                off += is[k];                                                                      \
                if (++idx[k] < od[k]) break;                                                       \
                off -= is[k] * od[k];                                                              \
                idx[k] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

int xb_k_strided_gather(const void *src, void *dst, size_t elem_size, int rank, const int64_t *od,
                        const int64_t *is, int64_t base) {
    int64_t total = 1;
    for (int k = 0; k < rank; k++) total *= od[k];
    if (total == 0) return 0;
    int64_t inner = od[rank - 1], st = is[rank - 1];
    int64_t outer = total / inner;
    int64_t idx[XB_MAX_RANK] = {0};
    int64_t off = base;
    switch (elem_size) {
    case 1: XB_GATHER_LOOP(uint8_t); break;
    case 4: XB_GATHER_LOOP(uint32_t); break;
    case 8: XB_GATHER_LOOP(uint64_t); break;
    default: return -1;
    }
    return 0;
}
