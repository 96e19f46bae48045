/* MatMul (ai.onnx 1, 9, 13): numpy.matmul semantics.  A 1-D A is promoted to
 * [1, K] and a 1-D B to [K, 1], the promoted dimension being dropped from the
 * output; leading (batch) dimensions broadcast numpy-style.  Float only.
 *
 * Two layouts avoid per-batch work: when B has no batch dimensions the
 * batches of A are contiguous rows, so the whole op is one [batch*M, K] x
 * [K, N] product (the usual x @ W of a linear layer); and when N = 1 the
 * product is computed as y^T = b^T A^T, which the sgemm's M = 1 path does as
 * dot products instead of packing a one-column B. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/sgemm.h"

typedef struct {
    int64_t M, N, K;
    int brank;                       /* output batch rank */
    int64_t bd[XB_MAX_RANK];         /* output batch dims */
    int64_t as[XB_MAX_RANK], bs[XB_MAX_RANK]; /* batch strides in matrices (0 = broadcast) */
    int64_t batches;
    bool fold; /* B unbatched: one product with M * batches rows */
} matmul_params;

xb_status xb_op_matmul_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *a = xb_in_t(g, n, 0), *b = xb_in_t(g, n, 1);
    if (a->dtype != XB_F32 || b->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "MatMul on %s x %s (float only)",
                       xb_dtype_name(a->dtype), xb_dtype_name(b->dtype));
    const xb_shape *as = &a->shape, *bsh = &b->shape;
    char s1[128], s2[128];
    if (as->rank < 1 || bsh->rank < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "MatMul inputs must have rank >= 1, got %s and %s",
                       xb_shape_str(as, s1, sizeof s1), xb_shape_str(bsh, s2, sizeof s2));
    matmul_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    int ar = as->rank, br = bsh->rank;
    p->M = ar == 1 ? 1 : as->d[ar - 2];
    p->K = as->d[ar - 1];
    int64_t kb = br == 1 ? bsh->d[0] : bsh->d[br - 2];
    p->N = br == 1 ? 1 : bsh->d[br - 1];
    if (kb != p->K)
        return xb_fail(ctx, XB_ERR_INVALID, "MatMul inner dimensions differ: %s x %s",
                       xb_shape_str(as, s1, sizeof s1), xb_shape_str(bsh, s2, sizeof s2));
    int abr = ar > 2 ? ar - 2 : 0, bbr = br > 2 ? br - 2 : 0;
    p->brank = abr > bbr ? abr : bbr;
    /* Broadcast batch dims right-aligned; strides in whole matrices. */
    int64_t astr = 1, bstr = 1;
    p->batches = 1;
    for (int i = p->brank - 1; i >= 0; i--) {
        int ai = i - (p->brank - abr), bi = i - (p->brank - bbr);
        int64_t ad = ai >= 0 ? as->d[ai] : 1, bd = bi >= 0 ? bsh->d[bi] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return xb_fail(ctx, XB_ERR_INVALID, "MatMul batch dimensions do not broadcast: %s x %s",
                           xb_shape_str(as, s1, sizeof s1), xb_shape_str(bsh, s2, sizeof s2));
        p->bd[i] = ad == 1 ? bd : ad; /* 1 vs 0 gives 0, as in numpy */
        p->as[i] = ad == 1 ? 0 : astr;
        p->bs[i] = bd == 1 ? 0 : bstr;
        astr *= ad;
        bstr *= bd;
        if ((double)p->batches * (double)p->bd[i] > (double)((int64_t)1 << 30))
            return xb_fail(ctx, XB_ERR_NOMEM, "MatMul batch of %s x %s is too large",
                           xb_shape_str(as, s1, sizeof s1), xb_shape_str(bsh, s2, sizeof s2));
        p->batches *= p->bd[i];
    }
    /* In double: hostile shapes could overflow the int64 products. */
    double big = (double)((int64_t)1 << 30);
    if ((double)p->batches * (double)p->M * (double)p->N > big ||
        (double)p->batches * (double)p->M * (double)p->K > big || (double)p->K * (double)p->N > big)
        return xb_fail(ctx, XB_ERR_NOMEM, "MatMul of %s x %s is too large",
                       xb_shape_str(as, s1, sizeof s1), xb_shape_str(bsh, s2, sizeof s2));
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape.rank = 0;
    for (int i = 0; i < p->brank; i++) y->shape.d[y->shape.rank++] = p->bd[i];
    if (ar > 1) y->shape.d[y->shape.rank++] = p->M;
    if (br > 1) y->shape.d[y->shape.rank++] = p->N;
    /* B unbatched and A's batches not broadcast: A is one tall matrix. */
    p->fold = bbr == 0 && abr == p->brank;
    if (p->N == 1)
        n->scratch_bytes = xb_sgemm_scratch_bytes(1, p->M, p->K);
    else if (p->fold)
        n->scratch_bytes = xb_sgemm_scratch_bytes(p->M * p->batches, p->N, p->K);
    else
        n->scratch_bytes = xb_sgemm_scratch_bytes(p->M, p->N, p->K);
    return XB_OK;
}

xb_status xb_op_matmul_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const matmul_params *p = n->params;
    const float *A = XB_IN_F32(e, n, 0), *B = XB_IN_F32(e, n, 1);
    float *Y = XB_OUT_F32(e, n, 0);
    const int64_t M = p->M, N = p->N, K = p->K;
    if (p->fold && N != 1) {
        xb_sgemm(false, false, M * p->batches, N, K, A, K, B, N, Y, N, false, e->scratch);
        return XB_OK;
    }
    int64_t idx[XB_MAX_RANK] = {0};
    for (int64_t t = 0; t < p->batches; t++) {
        int64_t ao = 0, bo = 0;
        for (int i = 0; i < p->brank; i++) ao += idx[i] * p->as[i], bo += idx[i] * p->bs[i];
        const float *Ab = A + ao * M * K, *Bb = B + bo * K * N;
        float *Yb = Y + t * M * N;
        if (N == 1) /* y^T[1][M] = b^T[1][K] * (A^T)[K][M], A read transposed */
            xb_sgemm(false, true, 1, M, K, Bb, K, Ab, K, Yb, M, false, e->scratch);
        else
            xb_sgemm(false, false, M, N, K, Ab, K, Bb, N, Yb, N, false, e->scratch);
        for (int i = p->brank - 1; i >= 0; i--) {
            if (++idx[i] < p->bd[i]) break;
            idx[i] = 0;
        }
    }
    return XB_OK;
}
