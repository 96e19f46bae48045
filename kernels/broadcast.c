#include "kernels/broadcast.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels/kutil.h"

xb_status xb_bcast_shape(const xb_shape *a, const xb_shape *b, xb_shape *out, xb_ctx *ctx) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    xb_shape s = {.rank = r};
    for (int k = 0; k < r; k++) {
        int ka = k - (r - a->rank), kb = k - (r - b->rank);
        int64_t da = ka >= 0 ? a->d[ka] : 1, db = kb >= 0 ? b->d[kb] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[128], sb[128];
            return xb_fail(ctx, XB_ERR_INVALID, "shapes %s and %s do not broadcast (dim %d: %lld vs %lld)",
                           xb_shape_str(a, sa, sizeof sa), xb_shape_str(b, sb, sizeof sb), k,
                           (long long)da, (long long)db);
        }
        /* 1 vs 0 gives 0, as in numpy. */
        s.d[k] = da == 1 ? db : da;
    }
    /* Each input's count fits int64, their broadcast may not ([2^32, 1] by
     * [1, 2^32]; found by fuzz_onnx_struct, session 6): the plan and every
     * buffer size multiply these dims. */
    size_t numel = 1;
    for (int k = 0; k < r; k++)
        if (xb_mul_overflow(numel, (size_t)s.d[k], &numel) || numel > (size_t)INT64_MAX) {
            char sa[128], sb[128];
            return xb_fail(ctx, XB_ERR_INVALID, "shapes %s and %s broadcast to more than 2^63 elements",
                           xb_shape_str(a, sa, sizeof sa), xb_shape_str(b, sb, sizeof sb));
        }
    *out = s;
    return XB_OK;
}

/* A zero dim anywhere: nothing to compute.  Checked first because the
 * stride products below, taken from the right, may pass 2^63 before they
 * reach the zero (a [0, 2^32, 2^32] input is a legal empty tensor). */
static bool has_zero_dim(const xb_shape *s) {
    for (int k = 0; k < s->rank; k++)
        if (s->d[k] == 0) return true;
    return false;
}

void xb_bcast_plan(const xb_shape *a, const xb_shape *b, xb_bcast *p) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    if (has_zero_dim(a) || has_zero_dim(b)) {
        p->n = 0;
        p->rank = 1;
        p->d[0] = 0;
        p->sa[0] = p->sb[0] = 0;
        return;
    }
    /* Full-rank dims and contiguous strides of each input (0 = broadcast). */
    int64_t d[XB_MAX_RANK], sa[XB_MAX_RANK], sb[XB_MAX_RANK];
    int64_t ra = 1, rb = 1;
    p->n = 1;
    for (int k = r - 1; k >= 0; k--) {
        int ka = k - (r - a->rank), kb = k - (r - b->rank);
        int64_t da = ka >= 0 ? a->d[ka] : 1, db = kb >= 0 ? b->d[kb] : 1;
        d[k] = da == 1 ? db : da;
        sa[k] = da == 1 ? 0 : ra;
        sb[k] = db == 1 ? 0 : rb;
        ra *= da;
        rb *= db;
        p->n *= d[k];
    }
    /* Drop size-1 dims, then merge a dim into its right neighbour when both
     * inputs' strides chain (s[k] == s[k+1] * d[k+1]). */
    int m = 0;
    for (int k = 0; k < r; k++) {
        if (d[k] == 1) continue;
        p->d[m] = d[k];
        p->sa[m] = sa[k];
        p->sb[m] = sb[k];
        m++;
    }
    if (m == 0) {
        p->rank = 1;
        p->d[0] = 1;
        p->sa[0] = p->sb[0] = 0;
        return;
    }
    int w = m - 1; /* merged dims are written from the right */
    for (int k = m - 2; k >= 0; k--) {
        if (p->sa[k] == p->sa[w] * p->d[w] && p->sb[k] == p->sb[w] * p->d[w]) {
            p->d[w] *= p->d[k];
        } else {
            w--;
            p->d[w] = p->d[k];
            p->sa[w] = p->sa[k];
            p->sb[w] = p->sb[k];
        }
    }
    p->rank = m - w;
    for (int k = 0; k < p->rank; k++) {
        p->d[k] = p->d[w + k];
        p->sa[k] = p->sa[w + k];
        p->sb[k] = p->sb[w + k];
    }
}

xb_status xb_binary_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *a = xb_in_t(g, n, 0);
    const xb_tensor *b = xb_in_t(g, n, 1);
    if (a->dtype != b->dtype)
        return xb_fail(ctx, XB_ERR_INVALID, "input types differ: '%s' is %s, '%s' is %s", a->name,
                       xb_dtype_name(a->dtype), b->name, xb_dtype_name(b->dtype));
    int good = 0;
    for (const xb_dtype *t = ok; *t != XB_UNDEF; t++) good |= *t == a->dtype;
    if (!good) {
        char list[128];
        size_t off = 0;
        list[0] = '\0';
        for (const xb_dtype *t = ok; *t != XB_UNDEF && off < sizeof list - 16; t++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "",
                                    xb_dtype_name(*t));
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s on %s tensors (supported: %s)", n->op_type,
                       xb_dtype_name(a->dtype), list);
    }
    xb_shape s;
    XB_TRY(xb_bcast_shape(&a->shape, &b->shape, &s, ctx));
    xb_bcast *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    xb_bcast_plan(&a->shape, &b->shape, p);
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = a->dtype;
    y->shape = s;
    return XB_OK;
}
