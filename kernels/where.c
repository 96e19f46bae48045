/* Where (ai.onnx 9, 16): y = condition ? X : Y elementwise, the three
 * inputs broadcast multidirectionally to one output shape (ONNX
 * Broadcasting.md).  condition is bool (any nonzero byte is true,
 * kernels/eltwise.h); X and Y share any of our dtypes, which the output
 * takes.  Elements are moved as 1-, 4- or 8-byte words, so the kernel does
 * not depend on the dtype beyond its size.
 *
 * The plan is the three-input form of kernels/broadcast.h's: each input's
 * element strides on the output's dims (0 where broadcast), size-1 dims
 * dropped, and neighbouring dims merged when every input's strides chain. */

#include "kernels/eltwise.h"
#include "kernels/registry.h"

typedef struct {
    int rank; /* >= 1 */
    int64_t d[XB_MAX_RANK];
    int64_t s[3][XB_MAX_RANK]; /* condition, X, Y */
    int64_t n;                 /* output elements */
} where_params;

static void where_plan(const xb_shape *const in[3], const xb_shape *out, where_params *p) {
    int r = out->rank;
    int64_t st[3][XB_MAX_RANK];
    for (int j = 0; j < 3; j++) {
        int64_t run = 1;
        for (int k = r - 1; k >= 0; k--) {
            int kj = k - (r - in[j]->rank);
            int64_t dj = kj >= 0 ? in[j]->d[kj] : 1;
            st[j][k] = dj == 1 ? 0 : run;
            run *= dj;
        }
    }
    p->n = xb_shape_numel(out);
    int m = 0;
    for (int k = 0; k < r; k++) {
        if (out->d[k] == 1) continue;
        p->d[m] = out->d[k];
        for (int j = 0; j < 3; j++) p->s[j][m] = st[j][k];
        m++;
    }
    if (m == 0) {
        p->rank = 1;
        p->d[0] = 1;
        for (int j = 0; j < 3; j++) p->s[j][0] = 0;
        return;
    }
    int w = m - 1; /* merged dims are written from the right */
    for (int k = m - 2; k >= 0; k--) {
        int chain = 1;
        for (int j = 0; j < 3; j++) chain &= p->s[j][k] == p->s[j][w] * p->d[w];
        if (chain) {
            p->d[w] *= p->d[k];
        } else {
            w--;
            p->d[w] = p->d[k];
            for (int j = 0; j < 3; j++) p->s[j][w] = p->s[j][k];
        }
    }
    p->rank = m - w;
    for (int k = 0; k < p->rank; k++) {
        p->d[k] = p->d[w + k];
        for (int j = 0; j < 3; j++) p->s[j][k] = p->s[j][w + k];
    }
}

xb_status xb_op_where_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 3, 3, 1, 1, ctx));
    const xb_tensor *c = xb_in_t(g, n, 0);
    const xb_tensor *x = xb_in_t(g, n, 1);
    const xb_tensor *y = xb_in_t(g, n, 2);
    if (c->dtype != XB_BOOL)
        return xb_fail(ctx, XB_ERR_INVALID, "condition '%s' is %s, must be bool", c->name,
                       xb_dtype_name(c->dtype));
    if (x->dtype != y->dtype)
        return xb_fail(ctx, XB_ERR_INVALID, "input types differ: '%s' is %s, '%s' is %s", x->name,
                       xb_dtype_name(x->dtype), y->name, xb_dtype_name(y->dtype));
    XB_TRY(xb_k_dtype_in(n, x->dtype, (const xb_dtype[]){XB_F32, XB_U8, XB_I8, XB_I32, XB_I64,
                                                          XB_BOOL, XB_UNDEF},
                         ctx));
    xb_shape s;
    XB_TRY(xb_bcast_shape(&c->shape, &x->shape, &s, ctx));
    XB_TRY(xb_bcast_shape(&s, &y->shape, &s, ctx));
    where_params *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    const xb_shape *in[3] = {&c->shape, &x->shape, &y->shape};
    where_plan(in, &s, p);
    n->params = p;
    xb_tensor *o = xb_out_t(g, n, 0);
    o->dtype = x->dtype;
    o->shape = s;
    return XB_OK;
}

/* Walk the outer dims with a counter; the innermost dim is a plain loop. */
#define WHERE_LOOP(T)                                                                              \
    do {                                                                                           \
        const uint8_t *c = e->buf[n->in[0]];                                                       \
        const T *x = e->buf[n->in[1]];                                                             \
        const T *y = e->buf[n->in[2]];                                                             \
        T *o = e->buf[n->out[0]];                                                                  \
        int r = p->rank;                                                                           \
        int64_t in = p->d[r - 1], outer = in > 0 ? p->n / in : 0;                                  \
        int64_t ic = p->s[0][r - 1], ix = p->s[1][r - 1], iy = p->s[2][r - 1];                     \
        int64_t idx[XB_MAX_RANK] = {0}, oc = 0, ox = 0, oy = 0;                                    \
        for (int64_t q = 0; q < outer; q++) {                                                      \
            T *ro = o + q * in;                                                                    \
            for (int64_t i = 0; i < in; i++)                                                       \
                ro[i] = c[oc + i * ic] ? x[ox + i * ix] : y[oy + i * iy];                          \
            for (int k = r - 2; k >= 0; k--) {                                                     \
                oc += p->s[0][k];                                                                  \
                ox += p->s[1][k];                                                                  \
                oy += p->s[2][k];                                                                  \
                if (++idx[k] < p->d[k]) break;                                                     \
                oc -= p->s[0][k] * p->d[k];                                                        \
                ox -= p->s[1][k] * p->d[k];                                                        \
                oy -= p->s[2][k] * p->d[k];                                                        \
                idx[k] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

xb_status xb_op_where_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const where_params *p = n->params;
    switch (xb_dtype_size(g->tensors[n->out[0]].dtype)) {
    case 1: WHERE_LOOP(uint8_t); break;
    case 4: WHERE_LOOP(uint32_t); break;
    case 8: WHERE_LOOP(uint64_t); break;
    default: break;
    }
    return XB_OK;
}
