/* QLinearMatMul (ai.onnx 10).
 *
 *   acc[m][n] = matmul(a - a_zero_point, b - b_zero_point)      (exact int32)
 *   y[m][n]   = saturate(rint(acc * (a_scale * b_scale / y_scale)) + y_zero_point)
 *
 * with numpy.matmul broadcasting.  a's scale and zero point are per tensor
 * or per row, b's per tensor or per column (qint_per_vector), y's per
 * tensor; y takes y_zero_point's type.  Multiplier in float32, product in
 * double, as the ONNX reference (qmath.h). */
#include "kernels/kutil.h"
#include "kernels/qint.h"
#include "kernels/qmath.h"
#include "kernels/qparams.h"
#include "kernels/registry.h"

typedef struct {
    xb_qint_mm m;
    int64_t as_step, az_step, bs_step, bz_step;
    xb_dtype ydt;
    size_t off_acc;
} qlinear_matmul;

enum { A, AS, AZ, BM, BS, BZ, YS, YZ };

xb_status xb_op_qlinear_matmul_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 8, 8, 1, 1, ctx));
    qlinear_matmul *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    XB_TRY(xb_qint_mm_init(&p->m, g, n, BM, &y->shape, 0, ctx));
    size_t acc = (size_t)(p->m.M * p->m.N) * 4;
    XB_TRY(xb_qint_mm_init(&p->m, g, n, BM, &y->shape, acc, ctx));
    p->off_acc = 0;
    if (xb_in_t(g, n, AS)->dtype != XB_F32 || xb_in_t(g, n, BS)->dtype != XB_F32 ||
        xb_in_t(g, n, YS)->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_INVALID, "scales must be f32");
    if (xb_in_t(g, n, AZ)->dtype != p->m.adt || xb_in_t(g, n, BZ)->dtype != p->m.bdt)
        return xb_fail(ctx, XB_ERR_INVALID, "zero point types must match their inputs'");
    XB_TRY(xb_qint_per_vector(g, n, AS, "a_scale", p->m.M, "row of a", &p->as_step, ctx));
    XB_TRY(xb_qint_per_vector(g, n, AZ, "a_zero_point", p->m.M, "row of a", &p->az_step, ctx));
    XB_TRY(xb_qint_per_vector(g, n, BS, "b_scale", p->m.N, "column of b", &p->bs_step, ctx));
    XB_TRY(xb_qint_per_vector(g, n, BZ, "b_zero_point", p->m.N, "column of b", &p->bz_step, ctx));
    int64_t s1;
    XB_TRY(xb_qint_per_vector(g, n, YS, "y_scale", 1, "-", &s1, ctx));
    XB_TRY(xb_qint_per_vector(g, n, YZ, "y_zero_point", 1, "-", &s1, ctx));
    p->ydt = xb_in_t(g, n, YZ)->dtype;
    if (p->ydt != XB_U8 && p->ydt != XB_I8)
        return xb_fail(ctx, XB_ERR_INVALID, "y_zero_point is %s, expected u8 or i8",
                       xb_dtype_name(p->ydt));
    y->dtype = p->ydt;
    n->scratch_bytes = p->m.scratch;
    return XB_OK;
}

xb_status xb_op_qlinear_matmul_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const qlinear_matmul *p = n->params;
    const int64_t M = p->m.M, N = p->m.N;
    const float *as = e->buf[n->in[AS]], *bs = e->buf[n->in[BS]];
    const float ys = *(const float *)e->buf[n->in[YS]];
    const int32_t yz = xb_qint_get(e->buf[n->in[YZ]], p->ydt, 0);
    const int32_t lo = p->ydt == XB_U8 ? 0 : -128, hi = p->ydt == XB_U8 ? 255 : 127;
    int32_t *acc = (int32_t *)((uint8_t *)e->scratch + p->off_acc);
    for (int64_t b = 0; b < p->m.batch; b++) {
        xb_qint_mm_batch(&p->m, e->buf[n->in[A]], e->buf[n->in[BM]], b, e->buf[n->in[AZ]],
                         p->az_step, e->buf[n->in[BZ]], p->bz_step, e->scratch, acc);
        for (int64_t r = 0; r < M; r++)
            for (int64_t c = 0; c < N; c++) {
                const float m = as[r * p->as_step] * bs[c * p->bs_step] / ys;
                const int32_t v = xb_requantize1(acc[r * N + c], m, yz, lo, hi);
                const int64_t i = (b * M + r) * N + c;
                if (p->ydt == XB_U8)
                    ((uint8_t *)e->buf[n->out[0]])[i] = (uint8_t)v;
                else
                    ((int8_t *)e->buf[n->out[0]])[i] = (int8_t)v;
            }
    }
    return XB_OK;
}
