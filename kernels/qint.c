#include "kernels/qint.h"

#include <string.h>

#include "kernels/igemm.h"
#include "kernels/im2col_packed.h"

int32_t xb_qint_get(const void *p, xb_dtype dt, int64_t i) {
    if (!p) return 0;
    switch (dt) {
    case XB_U8: return ((const uint8_t *)p)[i];
    case XB_I8: return ((const int8_t *)p)[i];
    case XB_I32: return ((const int32_t *)p)[i];
    default: return 0;
    }
}

xb_status xb_qint_check_8bit(const xb_tensor *t, const char *what, xb_ctx *ctx) {
    if (t->dtype != XB_U8 && t->dtype != XB_I8)
        return xb_fail(ctx, XB_ERR_INVALID, "%s '%s' is %s, expected u8 or i8", what, t->name,
                       xb_dtype_name(t->dtype));
    return XB_OK;
}

/* Flipping the top bit maps int8 <-> uint8 with an offset of 128. */
static void flip_copy(const void *src, int64_t n, bool flip, uint8_t *dst) {
    const uint8_t *s = src;
    if (flip)
        for (int64_t i = 0; i < n; i++) dst[i] = s[i] ^ 0x80;
    else
        memcpy(dst, s, (size_t)n);
}

static size_t lay(size_t *off, size_t bytes) {
    size_t at = (*off + 63) & ~(size_t)63;
    *off = at + bytes;
    return at;
}

static xb_status check_k(int64_t K, xb_ctx *ctx) {
    if (K > XB_IGEMM_KMAX)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "a dot product of %lld terms could overflow the int32 accumulator (max %d)",
                       (long long)K, XB_IGEMM_KMAX);
    return XB_OK;
}

/* acc[n][p] (strides sn, sp) = S[n*P+p] - xz*rowsum[n] - wz[n]*colsum[p] + K*wz[n]*xz
 * in int64, stored modulo 2^32. */
static void correct(const int32_t *S, int64_t N, int64_t P, int64_t K, const int32_t *rowsum,
                    const int32_t *colsum, const void *xz, xb_dtype xdt, int64_t xz_step,
                    const void *wz, xb_dtype wdt, int64_t wz_step, int64_t n0, int32_t *acc,
                    int64_t sn, int64_t sp) {
    for (int64_t n = 0; n < N; n++) {
        const int64_t wzn = xb_qint_wzp(xb_qint_get(wz, wdt, (n0 + n) * wz_step), wdt);
        const int32_t *s = S + n * P;
        if (xz_step == 0) {
            const int64_t x0 = xb_qint_xzp(xb_qint_get(xz, xdt, 0), xdt);
            const int64_t c = -x0 * rowsum[n] + K * wzn * x0;
            for (int64_t p = 0; p < P; p++)
                acc[n * sn + p * sp] = (int32_t)(uint32_t)(uint64_t)(s[p] + c - wzn * colsum[p]);
        } else {
            for (int64_t p = 0; p < P; p++) {
                const int64_t xp = xb_qint_xzp(xb_qint_get(xz, xdt, p * xz_step), xdt);
                int64_t v = s[p] - xp * rowsum[n] - wzn * colsum[p] + K * wzn * xp;
                acc[n * sn + p * sp] = (int32_t)(uint32_t)(uint64_t)v;
            }
        }
    }
}

/* Convert N rows of K weights to int8, sum each row, pack for igemm. */
static void prep_weights(const int8_t *wt, int64_t N, int64_t K, int32_t *rowsum, int8_t *wp) {
    for (int64_t n = 0; n < N; n++) {
        int32_t s = 0;
        for (int64_t k = 0; k < K; k++) s += wt[n * K + k];
        rowsum[n] = s;
    }
    xb_igemm_pack_w(wt, K, N, wp);
}

xb_status xb_qint_conv_init(xb_qint_conv *c, const xb_graph *g, const xb_node *n, int w_in,
                            size_t base, xb_ctx *ctx) {
    const xb_tensor *x = &g->tensors[n->in[0]], *w = &g->tensors[n->in[w_in]];
    XB_TRY(xb_qint_check_8bit(x, "x", ctx));
    XB_TRY(xb_qint_check_8bit(w, "w", ctx));
    c->xdt = x->dtype;
    c->wdt = w->dtype;
    XB_TRY(xb_conv_geom_init(&c->cg, n, &x->shape, &w->shape, false, ctx));
    const xb_conv_geom *cg = &c->cg;
    XB_TRY(check_k(cg->K, ctx));
    size_t off = base;
    c->off_xu = lay(&off, (size_t)(cg->cin * xb_plane_bytes(cg)));
    c->off_xp = lay(&off, xb_igemm_xpack_bytes(cg->K, cg->P));
    c->off_wt = lay(&off, (size_t)(cg->cout_g * cg->K));
    c->off_wp = lay(&off, xb_igemm_wpack_bytes(cg->K, cg->cout_g));
    c->off_rs = lay(&off, (size_t)cg->cout_g * 4);
    c->off_cs = lay(&off, (size_t)cg->P * 4);
    c->scratch = off;
    if (off > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "scratch of %zu bytes is too large", off);
    return XB_OK;
}

void xb_qint_conv_image(const xb_qint_conv *c, const void *x_img, const void *w, int32_t xz,
                        const void *wz, int64_t wz_step, uint8_t *scratch, int32_t *acc) {
    const xb_conv_geom *cg = &c->cg;
    const int64_t K = cg->K, N = cg->cout_g, P = cg->P;
    uint8_t *xu = scratch + c->off_xu, *xp = scratch + c->off_xp;
    int8_t *wt = (int8_t *)(scratch + c->off_wt), *wp = (int8_t *)(scratch + c->off_wp);
    int32_t *rowsum = (int32_t *)(scratch + c->off_rs), *colsum = (int32_t *)(scratch + c->off_cs);
    /* Padded planes of uint8 codes; the border is the (mapped) x zero
     * point, real value 0. */
    const uint8_t pad = (uint8_t)xb_qint_xzp(xz, c->xdt);
    xb_pad_planes_u8(cg, cg->cin, x_img, c->xdt == XB_I8 ? 0x80 : 0, pad, xu);
    /* Already mapped; tagged i32 so correct() maps it no further. */
    const int32_t xz_arr[1] = {pad};
    const int64_t chw = cg->cin_g * xb_plane_bytes(cg);
    for (int64_t gi = 0; gi < cg->group; gi++) {
        xb_im2col_u8_packed(cg, xu + gi * chw, xp);
        /* Column sums from the packed layout: 4 codes per position per
         * quad; the zero rows past K add nothing. */
        const int64_t Pp = xb_igemm_ppad(P), Kq = xb_igemm_kpad(K) / 4;
        for (int64_t p = 0; p < P; p++) colsum[p] = 0;
        for (int64_t q = 0; q < Kq; q++) {
            const uint8_t *r = xp + q * Pp * 4;
            for (int64_t p = 0; p < P; p++)
                colsum[p] += r[4 * p] + r[4 * p + 1] + r[4 * p + 2] + r[4 * p + 3];
        }
        flip_copy((const uint8_t *)w + gi * N * K, N * K, c->wdt == XB_U8, (uint8_t *)wt);
        prep_weights(wt, N, K, rowsum, wp);
        int32_t *ag = acc + gi * N * P;
        xb_igemm_packed(wp, xp, K, N, P, ag);
        correct(ag, N, P, K, rowsum, colsum, xz_arr, XB_I32, 0, wz, c->wdt, wz_step, gi * N, ag, P,
                1);
    }
}

xb_status xb_qint_mm_init(xb_qint_mm *m, const xb_graph *g, const xb_node *n, int b_in,
                          xb_shape *y, size_t base, xb_ctx *ctx) {
    const xb_tensor *a = &g->tensors[n->in[0]], *b = &g->tensors[n->in[b_in]];
    XB_TRY(xb_qint_check_8bit(a, "A", ctx));
    XB_TRY(xb_qint_check_8bit(b, "B", ctx));
    m->adt = a->dtype;
    m->bdt = b->dtype;
    const xb_shape *as = &a->shape, *bs = &b->shape;
    if (as->rank < 1 || bs->rank < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "matmul operands must have rank >= 1");
    /* numpy.matmul: a 1-D A is a row [1,K], a 1-D B a column [K,1]; the
     * added dimension is dropped from the result. */
    int ar = as->rank, br = bs->rank;
    m->M = ar == 1 ? 1 : as->d[ar - 2];
    m->K = as->d[ar - 1];
    int64_t kb = br == 1 ? bs->d[0] : bs->d[br - 2];
    m->N = br == 1 ? 1 : bs->d[br - 1];
    if (kb != m->K) {
        char s1[128], s2[128];
        return xb_fail(ctx, XB_ERR_INVALID, "shapes %s and %s do not agree on K",
                       xb_shape_str(as, s1, sizeof s1), xb_shape_str(bs, s2, sizeof s2));
    }
    XB_TRY(check_k(m->K, ctx));
    int abr = ar > 2 ? ar - 2 : 0, bbr = br > 2 ? br - 2 : 0;
    m->brank = abr > bbr ? abr : bbr;
    int64_t ast = 1, bst = 1;
    m->batch = 1;
    for (int i = m->brank - 1; i >= 0; i--) {
        int ai = i - (m->brank - abr), bi = i - (m->brank - bbr);
        int64_t da = ai >= 0 ? as->d[ai] : 1, db = bi >= 0 ? bs->d[bi] : 1;
        if (da != db && da != 1 && db != 1) {
            char s1[128], s2[128];
            return xb_fail(ctx, XB_ERR_INVALID, "batch dimensions of %s and %s do not broadcast",
                           xb_shape_str(as, s1, sizeof s1), xb_shape_str(bs, s2, sizeof s2));
        }
        /* numpy's rule: 1 against 0 gives 0 (the larger, 1, would run one
         * batch over an empty operand's buffer). */
        m->bshape[i] = da == 1 ? db : da;
        m->astride[i] = da == 1 ? 0 : ast;
        m->bstride[i] = db == 1 ? 0 : bst;
        ast *= da;
        bst *= db;
        if ((double)m->batch * (double)m->bshape[i] > (double)((int64_t)1 << 30)) {
            char s1[128], s2[128];
            return xb_fail(ctx, XB_ERR_NOMEM, "batch of %s x %s is too large",
                           xb_shape_str(as, s1, sizeof s1), xb_shape_str(bs, s2, sizeof s2));
        }
        m->batch *= m->bshape[i];
    }
    y->rank = 0;
    for (int i = 0; i < m->brank; i++) y->d[y->rank++] = m->bshape[i];
    if (ar > 1) y->d[y->rank++] = m->M;
    if (br > 1) y->d[y->rank++] = m->N;
    size_t off = base;
    m->off_xu = lay(&off, (size_t)(m->M * m->K));
    m->off_xp = lay(&off, xb_igemm_xpack_bytes(m->K, m->M));
    m->off_wt = lay(&off, (size_t)(m->N * m->K));
    m->off_wp = lay(&off, xb_igemm_wpack_bytes(m->K, m->N));
    m->off_rs = lay(&off, (size_t)m->N * 4);
    m->off_cs = lay(&off, (size_t)m->M * 4);
    m->off_s = lay(&off, (size_t)(m->M * m->N) * 4);
    m->scratch = off;
    if (off > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "scratch of %zu bytes is too large", off);
    return XB_OK;
}

void xb_qint_mm_batch(const xb_qint_mm *m, const void *a, const void *b, int64_t bi,
                      const void *az, int64_t az_step, const void *bz, int64_t bz_step,
                      uint8_t *scratch, int32_t *acc) {
    const int64_t M = m->M, K = m->K, N = m->N;
    int64_t ao = 0, bo = 0, rem = bi;
    for (int i = m->brank - 1; i >= 0; i--) {
        int64_t idx = rem % m->bshape[i];
        rem /= m->bshape[i];
        ao += idx * m->astride[i];
        bo += idx * m->bstride[i];
    }
    const uint8_t *am = (const uint8_t *)a + ao * M * K, *bm = (const uint8_t *)b + bo * K * N;
    uint8_t *xu = scratch + m->off_xu, *xp = scratch + m->off_xp;
    int8_t *wt = (int8_t *)(scratch + m->off_wt), *wp = (int8_t *)(scratch + m->off_wp);
    int32_t *rowsum = (int32_t *)(scratch + m->off_rs), *colsum = (int32_t *)(scratch + m->off_cs);
    int32_t *S = (int32_t *)(scratch + m->off_s);
    flip_copy(am, M * K, m->adt == XB_I8, xu);
    for (int64_t r = 0; r < M; r++) {
        int32_t s = 0;
        for (int64_t k = 0; k < K; k++) s += xu[r * K + k];
        colsum[r] = s;
    }
    xb_igemm_pack_xrows(xu, K, K, M, xp);
    /* B is [K][N]; the kernel wants one row of K weights per output column. */
    const uint8_t flip = m->bdt == XB_U8 ? 0x80 : 0;
    for (int64_t k = 0; k < K; k++)
        for (int64_t c = 0; c < N; c++) ((uint8_t *)wt)[c * K + k] = bm[k * N + c] ^ flip;
    prep_weights(wt, N, K, rowsum, wp);
    xb_igemm_packed(wp, xp, K, N, M, S);
    correct(S, N, M, K, rowsum, colsum, az, m->adt, az_step, bz, m->bdt, bz_step, 0, acc, 1, N);
}

xb_status xb_qint_per_vector(const xb_graph *g, const xb_node *n, int i, const char *what,
                             int64_t per, const char *per_what, int64_t *step, xb_ctx *ctx) {
    const xb_tensor *t = &g->tensors[n->in[i]];
    int64_t cnt = xb_shape_numel(&t->shape);
    int big = 0;
    for (int d = 0; d < t->shape.rank; d++)
        if (t->shape.d[d] != 1) big++;
    if (cnt == 1) {
        *step = 0;
        return XB_OK;
    }
    if (cnt == per && big == 1) {
        *step = 1;
        return XB_OK;
    }
    char b[128];
    return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                   "%s '%s' of shape %s: supported are a single value or one per %s (%lld)", what,
                   t->name, xb_shape_str(&t->shape, b, sizeof b), per_what, (long long)per);
}
