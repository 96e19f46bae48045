/* XbarQGemm (domain xbar): the integer fully-connected layer of qlayer.h.
 * y[..., n] = sum_k w[n][k] * x[..., k] in the quantized domain; all rows of
 * x (every leading index) are the positions P = M of one matrix product.
 * x is float, quantized here, or the u8 codes the previous layer wrote
 * (frontend/chain_qcodes.c); with y_scale / y_zero_point / y_bits the
 * output is the next layer's codes. */
#include <stdlib.h>

#include "kernels/igemm.h"
#include "kernels/qlayer_impl.h"
#include "kernels/qmath.h"

xb_status xb_op_xbar_qgemm_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->n_in < 3 || n->n_in > 4 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0 ||
        n->in[2] < 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "XbarQGemm takes inputs x, w, w_scale[, bias] and 1 output");
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1);
    if (x->dtype != XB_F32 && x->dtype != XB_U8)
        return xb_fail(ctx, XB_ERR_INVALID, "input x is %s, expected f32 (or u8 codes)",
                       xb_dtype_name(x->dtype));
    if (!w->is_const || w->dtype != XB_I8 || w->shape.rank != 2)
        return xb_fail(ctx, XB_ERR_INVALID, "weight '%s' must be a constant i8 [N,K] tensor",
                       w->name);
    if (x->shape.rank < 1 || x->shape.d[x->shape.rank - 1] != w->shape.d[1]) {
        char a[128], b[128];
        return xb_fail(ctx, XB_ERR_INVALID, "input shape %s does not end in K of weight %s",
                       xb_shape_str(&x->shape, a, sizeof a), xb_shape_str(&w->shape, b, sizeof b));
    }
    xb_qlayer_priv *pr = xb_calloc(ctx, 1, sizeof *pr);
    if (!pr) return ctx->status;
    n->params = pr;
    n->params_free = xb_qlayer_priv_free;
    xb_qlayer *q = &pr->q;
    q->kind = XB_QL_GEMM;
    q->K = w->shape.d[1];
    q->N = w->shape.d[0];
    q->groups = 1;
    pr->M = q->K ? xb_shape_numel(&x->shape) / q->K : 0;
    q->P = pr->M;
    q->w = w->data;
    XB_TRY(xb_qlayer_prepare_common(g, n, pr, ctx));
    if (q->P <= XB_IGEMM_ROWS_MAX_M) {
        pr->wpackt = xb_malloc(ctx, xb_igemm_wt_bytes(q->K, q->N) + 1);
        if (!pr->wpackt) return ctx->status;
        xb_igemm_pack_wt(q->w, q->K, q->N, pr->wpackt);
    }

    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = pr->y_codes ? XB_U8 : XB_F32;
    y->shape = x->shape;
    y->shape.d[y->shape.rank - 1] = q->N;

    /* Scratch: int32 acc [N][M] | codes [M][K] (float input only) | codes
     * transposed [K][M] (engine only) | packed x. */
    size_t acc = (size_t)(q->N * q->P) * sizeof(int32_t);
    size_t codes = (size_t)(q->P * q->K);
    pr->off_acc = 0;
    pr->off_codes = (acc + 63) & ~(size_t)63;
    pr->off_col = (pr->off_codes + (pr->x_codes ? 0 : codes) + 63) & ~(size_t)63;
    pr->off_xp = (pr->off_col + codes + 63) & ~(size_t)63;
    pr->scratch = pr->off_xp + xb_igemm_xpack_bytes(q->K, q->P);
    if (pr->scratch > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "scratch of %zu bytes is too large", pr->scratch);
    n->scratch_bytes = pr->scratch;
    return XB_OK;
}

/* One position (M = 1, a fully-connected layer on one image): acc [N] is
 * contiguous, so with restrict pointers the loop vectorises over outputs. */
static void epilogue1(const xb_qlayer_priv *pr, const int32_t *restrict acc,
                      const int32_t *restrict rowsum, const float *restrict mult,
                      const float *restrict bias, void *y) {
    const int64_t N = pr->q.N;
    const int32_t zp = pr->q.x_zp;
    const bool relu = pr->relu;
    if (pr->y_codes) {
        uint8_t *restrict yc = y;
        const float ys = pr->y_scale, fz = pr->y_fz, fh = pr->y_fh;
        for (int64_t o = 0; o < N; o++) {
            float f = (float)(acc[o] - zp * rowsum[o]) * mult[o] + (bias ? bias[o] : 0.0f);
            f = relu && !(f > 0.0f) ? 0.0f : f;
            yc[o] = (uint8_t)(int32_t)xb_clampf(rintf(f / ys) + fz, 0.0f, fh);
        }
    } else {
        float *restrict yf = y;
        for (int64_t o = 0; o < N; o++) {
            float f = (float)(acc[o] - zp * rowsum[o]) * mult[o] + (bias ? bias[o] : 0.0f);
            yf[o] = relu && !(f > 0.0f) ? 0.0f : f;
        }
    }
}

/* y [M][N] from acc [N][M], as float or as the next layer's codes (the
 * expressions of xb_qlayer_store_row; the Relu as relu.c computes it). */
static void epilogue(const xb_qlayer_priv *pr, const int32_t *acc, int64_t M, void *y) {
    const xb_qlayer *q = &pr->q;
    const int64_t N = q->N;
    if (M == 1) {
        epilogue1(pr, acc, q->w_rowsum, pr->mult, q->bias, y);
        return;
    }
    for (int64_t m = 0; m < M; m++)
        for (int64_t o = 0; o < N; o++) {
            int32_t v = acc[o * M + m] - q->x_zp * q->w_rowsum[o];
            float f = (float)v * pr->mult[o] + (q->bias ? q->bias[o] : 0.0f);
            f = pr->relu && !(f > 0.0f) ? 0.0f : f;
            if (pr->y_codes)
                ((uint8_t *)y)[m * N + o] =
                    (uint8_t)(int32_t)xb_clampf(rintf(f / pr->y_scale) + pr->y_fz, 0.0f, pr->y_fh);
            else
                ((float *)y)[m * N + o] = f;
        }
}

xb_status xb_op_xbar_qgemm_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const xb_qlayer_priv *pr = n->params;
    const xb_qlayer *q = &pr->q;
    uint8_t *s = e->scratch;
    int32_t *acc = (int32_t *)(s + pr->off_acc);
    uint8_t *own = s + pr->off_codes, *col = s + pr->off_col, *xp = s + pr->off_xp;
    const int64_t K = q->K, N = q->N, M = q->P;
    const uint8_t *codes = pr->x_codes ? e->buf[n->in[0]] : xb_ql_given_codes(g, n, e);
    if (!codes) {
        xb_quantize_u8(XB_IN_F32(e, n, 0), M * K, q->x_scale, q->x_zp, (1 << q->x_bits) - 1,
                       own);
        codes = own;
    }
    bool engine = e->engine && e->engine->qmatmul;
    if (engine && e->engine->exact)
        engine = !e->engine->exact(e->engine->self, e, q->layer_index, 0, K, N, M);
    if (engine) {
        /* The engine contract takes x as [K][P]. */
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++) col[k * M + m] = codes[m * K + k];
        XB_TRY(e->engine->qmatmul(e->engine->self, e, n, q->layer_index, 0, col, q->w, K, N, M,
                                  acc, ctx));
    } else if (M <= XB_IGEMM_ROWS_MAX_M) {
        /* The transposed form only has an AVX-512 kernel; elsewhere the
         * row-major dot products (compiler-vectorised) are faster. */
        if (xb_igemm_isa_used() == XB_IGEMM_AVX512VNNI)
            xb_igemm_rows_t(pr->wpackt, codes, K, K, N, M, acc);
        else
            xb_igemm_rows(pr->wpack, codes, K, K, N, M, acc);
    } else {
        xb_igemm_pack_xrows(codes, K, K, M, xp);
        xb_igemm_packed(pr->wpack, xp, K, N, M, acc);
    }
    epilogue(pr, acc, M, e->buf[n->out[0]]);
    return XB_OK;
}
