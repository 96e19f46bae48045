/* Gemm (ai.onnx 7, 9, 11, 13): Y = alpha * A' * B' + beta * C, A' = transA ?
 * A^T : A (2-D), likewise B', C unidirectionally broadcast to [M, N].  Opset
 * 11 made C optional; 7..10 require it.  Float only (the integer matrix
 * layers are XbarQGemm and MatMulInteger). */
#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/sgemm.h"

typedef struct {
    int64_t M, N, K;
    bool ta, tb;
    float alpha, beta;
    bool has_c;
    int64_t c_rs, c_cs; /* C strides in elements per row/column of Y (0 = broadcast) */
} gemm_params;

xb_status xb_op_gemm_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, n->opset >= 11 ? 2 : 3, 3, 1, 1, ctx));
    const xb_tensor *a = xb_in_t(g, n, 0), *b = xb_in_t(g, n, 1), *c = xb_in_t(g, n, 2);
    if (a->dtype != XB_F32 || b->dtype != XB_F32 || (c && c->dtype != XB_F32))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Gemm on %s x %s (float only)",
                       xb_dtype_name(a->dtype), xb_dtype_name(b->dtype));
    char s1[96], s2[96];
    if (a->shape.rank != 2 || b->shape.rank != 2)
        return xb_fail(ctx, XB_ERR_INVALID, "Gemm needs 2-D A and B, got %s and %s",
                       xb_shape_str(&a->shape, s1, sizeof s1),
                       xb_shape_str(&b->shape, s2, sizeof s2));
    gemm_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    int64_t ta = xb_attr_int(n, "transA", 0), tb = xb_attr_int(n, "transB", 0);
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1))
        return xb_fail(ctx, XB_ERR_INVALID, "transA/transB must be 0 or 1");
    p->ta = ta, p->tb = tb;
    p->alpha = xb_attr_float(n, "alpha", 1.0f);
    p->beta = xb_attr_float(n, "beta", 1.0f);
    p->M = ta ? a->shape.d[1] : a->shape.d[0];
    p->K = ta ? a->shape.d[0] : a->shape.d[1];
    int64_t kb = tb ? b->shape.d[1] : b->shape.d[0];
    p->N = tb ? b->shape.d[0] : b->shape.d[1];
    if (kb != p->K)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "inner dimensions differ: A %s (transA=%d), B %s (transB=%d)",
                       xb_shape_str(&a->shape, s1, sizeof s1), (int)ta,
                       xb_shape_str(&b->shape, s2, sizeof s2), (int)tb);
    if ((double)p->M * (double)p->N > (double)((int64_t)1 << 30) ||
        (double)p->M * (double)p->K > (double)((int64_t)1 << 30) ||
        (double)p->K * (double)p->N > (double)((int64_t)1 << 30))
        return xb_fail(ctx, XB_ERR_NOMEM, "Gemm of %lld x %lld x %lld is too large",
                       (long long)p->M, (long long)p->K, (long long)p->N);
    if (c) {
        /* Unidirectional broadcast: align C's dims to the right of [M, N]. */
        const xb_shape *cs = &c->shape;
        int64_t cm = 1, cn = 1;
        if (cs->rank > 2)
            return xb_fail(ctx, XB_ERR_INVALID, "C has rank %d (at most 2)", cs->rank);
        if (cs->rank == 2) cm = cs->d[0], cn = cs->d[1];
        if (cs->rank == 1) cn = cs->d[0];
        if ((cm != 1 && cm != p->M) || (cn != 1 && cn != p->N))
            return xb_fail(ctx, XB_ERR_INVALID, "C shape %s does not broadcast to [%lld,%lld]",
                           xb_shape_str(cs, s1, sizeof s1), (long long)p->M, (long long)p->N);
        p->has_c = true;
        p->c_rs = cm == 1 ? 0 : cn;
        p->c_cs = cn == 1 ? 0 : 1;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape.rank = 2;
    y->shape.d[0] = p->M;
    y->shape.d[1] = p->N;
    n->scratch_bytes = xb_sgemm_scratch_bytes(p->M, p->N, p->K);
    return XB_OK;
}

xb_status xb_op_gemm_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const gemm_params *p = n->params;
    const float *A = XB_IN_F32(e, n, 0), *B = XB_IN_F32(e, n, 1);
    const float *C = p->has_c ? XB_IN_F32(e, n, 2) : NULL;
    float *Y = XB_OUT_F32(e, n, 0);
    int64_t lda = p->ta ? p->M : p->K, ldb = p->tb ? p->K : p->N;
    /* beta == 0 drops C entirely (so a NaN/Inf in C does not leak in, as
     * in ONNX Runtime). */
    bool use_c = C && p->beta != 0.0f;
    if (use_c && p->alpha == 1.0f) {
        /* Y = beta*C first, then the product accumulates onto it. */
        for (int64_t i = 0; i < p->M; i++)
            for (int64_t j = 0; j < p->N; j++)
                Y[i * p->N + j] = p->beta * C[i * p->c_rs + j * p->c_cs];
        xb_sgemm(p->ta, p->tb, p->M, p->N, p->K, A, lda, B, ldb, Y, p->N, true, e->scratch);
        return XB_OK;
    }
    xb_sgemm(p->ta, p->tb, p->M, p->N, p->K, A, lda, B, ldb, Y, p->N, false, e->scratch);
    if (use_c) {
        for (int64_t i = 0; i < p->M; i++)
            for (int64_t j = 0; j < p->N; j++)
                Y[i * p->N + j] =
                    p->alpha * Y[i * p->N + j] + p->beta * C[i * p->c_rs + j * p->c_cs];
    } else if (p->alpha != 1.0f) {
        for (int64_t i = 0; i < p->M * p->N; i++) Y[i] *= p->alpha;
    }
    return XB_OK;
}
