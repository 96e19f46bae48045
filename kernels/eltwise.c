#include "kernels/eltwise.h"

#include <stdio.h>
#include <string.h>

const xb_dtype xb_k_f32_only[] = {XB_F32, XB_UNDEF};
const xb_dtype xb_k_numeric[] = {XB_F32, XB_U8, XB_I8, XB_I32, XB_I64, XB_UNDEF};
const xb_dtype xb_k_signed[] = {XB_F32, XB_I8, XB_I32, XB_I64, XB_UNDEF};
const xb_dtype xb_k_bool_only[] = {XB_BOOL, XB_UNDEF};

xb_status xb_k_dtype_in(const xb_node *n, xb_dtype dt, const xb_dtype *ok, xb_ctx *ctx) {
    for (const xb_dtype *t = ok; *t != XB_UNDEF; t++)
        if (*t == dt) return XB_OK;
    char list[128];
    size_t off = 0;
    list[0] = '\0';
    for (const xb_dtype *t = ok; *t != XB_UNDEF && off < sizeof list - 16; t++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "",
                                xb_dtype_name(*t));
    return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s on %s tensors in opset %d (supported: %s)",
                   n->op_type, xb_dtype_name(dt), n->opset, list);
}

xb_status xb_unary_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    XB_TRY(xb_k_dtype_in(n, x->dtype, ok, ctx));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_variadic_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1 << 20, 1, 1, ctx));
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] < 0) return xb_fail(ctx, XB_ERR_INVALID, "input %d is missing", i);
    const xb_tensor *x0 = xb_in_t(g, n, 0);
    XB_TRY(xb_k_dtype_in(n, x0->dtype, ok, ctx));
    xb_shape s = x0->shape;
    for (int i = 1; i < n->n_in; i++) {
        const xb_tensor *x = xb_in_t(g, n, i);
        if (x->dtype != x0->dtype)
            return xb_fail(ctx, XB_ERR_INVALID, "input types differ: '%s' is %s, '%s' is %s",
                           x0->name, xb_dtype_name(x0->dtype), x->name, xb_dtype_name(x->dtype));
        if (n->opset < 8 && !xb_shape_eq(&x->shape, &x0->shape)) {
            char sa[128], sb[128];
            return xb_fail(ctx, XB_ERR_INVALID,
                           "inputs '%s' %s and '%s' %s differ in shape; %s broadcasts only from "
                           "opset 8",
                           x0->name, xb_shape_str(&x0->shape, sa, sizeof sa), x->name,
                           xb_shape_str(&x->shape, sb, sizeof sb), n->op_type);
        }
        XB_TRY(xb_bcast_shape(&s, &x->shape, &s, ctx));
    }
    int n_steps = n->n_in == 2 ? 1 : n->n_in - 1;
    xb_variadic *v = xb_malloc(ctx, sizeof *v + (size_t)n_steps * sizeof(xb_bcast));
    if (!v) return ctx->status;
    n->params = v;
    v->n_in = n->n_in;
    /* x0's strides on the output's dims (aligned at the right), 0 where
     * x0 has size 1 or lacks the dim; a rank-0 output is one element. */
    v->rank = s.rank > 0 ? s.rank : 1;
    v->od[0] = 1;
    v->is0[0] = 0;
    int64_t st = 1;
    for (int k = s.rank - 1; k >= 0; k--) {
        int k0 = k - (s.rank - x0->shape.rank);
        int64_t d0 = k0 >= 0 ? x0->shape.d[k0] : 1;
        v->od[k] = s.d[k];
        v->is0[k] = d0 == 1 ? 0 : st;
        st *= d0;
    }
    if (n->n_in == 2) {
        xb_bcast_plan(&x0->shape, &xb_in_t(g, n, 1)->shape, &v->step[0]);
    } else {
        for (int i = 1; i < n->n_in; i++) xb_bcast_plan(&s, &xb_in_t(g, n, i)->shape, &v->step[i - 1]);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x0->dtype;
    y->shape = s;
    return XB_OK;
}

void xb_variadic_first(const xb_graph *g, const xb_node *n, xb_exec *e) {
    const xb_variadic *v = n->params;
    size_t es = xb_dtype_size(g->tensors[n->in[0]].dtype);
    /* es is 1, 4 or 8 for every dtype prepare accepts, so this cannot fail. */
    (void)xb_k_strided_gather(e->buf[n->in[0]], e->buf[n->out[0]], es, v->rank, v->od, v->is0, 0);
}

xb_status xb_compare_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    XB_TRY(xb_k_dtype_in(n, xb_in_t(g, n, 0)->dtype, ok, ctx));
    XB_TRY(xb_binary_prepare(g, n, ok, ctx));
    xb_out_t(g, n, 0)->dtype = XB_BOOL;
    return XB_OK;
}
