/* MatMulInteger (ai.onnx 10): Y(int32) = matmul(A - a_zero_point, B - b_zero_point)
 * with numpy.matmul broadcasting.  A, B u8 or i8 (zero points of the same
 * type); a_zero_point per tensor or per row of A ([M] or [..., M, 1] with
 * ones elsewhere), b_zero_point per tensor or per column of B ([N] or
 * [..., 1, N]).  Zero points that differ between batch entries are not
 * supported. */
#include "kernels/kutil.h"
#include "kernels/qint.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

typedef struct {
    xb_qint_mm m;
    int64_t az_step, bz_step;
} matmul_integer;

xb_status xb_op_matmul_integer_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 4, 1, 1, ctx));
    matmul_integer *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    XB_TRY(xb_qint_mm_init(&p->m, g, n, 1, &y->shape, 0, ctx));
    y->dtype = XB_I32;
    if (xb_k_has_in(n, 2)) {
        if (xb_in_t(g, n, 2)->dtype != p->m.adt)
            return xb_fail(ctx, XB_ERR_INVALID, "a_zero_point type differs from A's");
        XB_TRY(xb_qint_per_vector(g, n, 2, "a_zero_point", p->m.M, "row of A", &p->az_step, ctx));
    }
    if (xb_k_has_in(n, 3)) {
        if (xb_in_t(g, n, 3)->dtype != p->m.bdt)
            return xb_fail(ctx, XB_ERR_INVALID, "b_zero_point type differs from B's");
        XB_TRY(xb_qint_per_vector(g, n, 3, "b_zero_point", p->m.N, "column of B", &p->bz_step,
                                  ctx));
    }
    n->scratch_bytes = p->m.scratch;
    return XB_OK;
}

xb_status xb_op_matmul_integer_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const matmul_integer *p = n->params;
    const void *az = xb_k_has_in(n, 2) ? e->buf[n->in[2]] : NULL;
    const void *bz = xb_k_has_in(n, 3) ? e->buf[n->in[3]] : NULL;
    int32_t *y = e->buf[n->out[0]];
    for (int64_t b = 0; b < p->m.batch; b++)
        xb_qint_mm_batch(&p->m, e->buf[n->in[0]], e->buf[n->in[1]], b, az, p->az_step, bz,
                         p->bz_step, e->scratch, y + b * p->m.M * p->m.N);
    return XB_OK;
}
