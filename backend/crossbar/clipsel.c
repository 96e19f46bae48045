/* Which conversions of a row block can clip, per conversion (correction.c).
 *
 * With X1 = the sum of the block's input digits for one (digit plane,
 * position), a column's sum S = sum_k d_k lev_k is at most T(X1): the
 * digits, each <= dm = 2^d - 1, put on the column's largest levels
 * (dm on each of the largest, the rest on the next).  So a conversion can
 * clip only if X1 >= m, the smallest X1 with T(X1) beyond the code range;
 * m >= the old block-wide test's floor(thr / max level) + 1, and much larger
 * for columns with few high levels (most slices of small weights).  A signed
 * pair converts S+ - S-, inside [-S-, S+]: m is the smaller of the + column's
 * m against code_hi and the - column's against -code_lo.
 *
 * Per row block the conversions are sorted by m and their levels packed in
 * that order (levq), so the column sums of the conversions a group of
 * positions can clip are the first rows of one GEMM; ncnt[X] is how many
 * conversions have m <= X.  Built at layer construction (memory) and filled
 * whenever the ADC range changes (xb_crossbar_layer_set_adc), never during a
 * run. */
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/internal.h"
#include "kernels/igemm.h"

/* Largest digit sum of a block plus one: "never clips". */
static int64_t x_cap(const xb_crossbar_layer *l) {
    int64_t dm = ((int64_t)1 << l->cfg.dac_bits) - 1;
    return xb_block_rows(l->cfg.K, l->cfg.rows, l->cfg.even_rows, 0) * dm + 1;
}

xb_status xb_clipsel_alloc(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    /* Only integer sums without noise can take the correction path. */
    if (l->cond || l->read_noise || l->adc_err || c->spec_n) return XB_OK;
    xb_clipsel *q = xb_calloc(ctx, 1, sizeof *q);
    if (!q) return ctx->status;
    l->clipsel = q;
    int64_t nb = c->groups * l->R, ncc = xb_crossbar_convs_per_block(l);
    q->xcap = x_cap(l);
    q->perm = xb_calloc(ctx, (size_t)(nb * ncc), sizeof *q->perm);
    q->mclip = xb_calloc(ctx, (size_t)(nb * ncc), sizeof *q->mclip);
    q->ncnt = xb_calloc(ctx, (size_t)(nb * (q->xcap + 1)), sizeof *q->ncnt);
    q->levq = xb_calloc(ctx, (size_t)nb * l->levp_stride, 1);
    q->work = xb_calloc(ctx, (size_t)(q->xcap + 1 + ncc), sizeof *q->work);
    if (!q->perm || !q->mclip || !q->ncnt || !q->levq || !q->work) return ctx->status;
    return XB_OK;
}

void xb_clipsel_free(xb_clipsel *q) {
    if (!q) return;
    free(q->perm);
    free(q->mclip);
    free(q->ncnt);
    free(q->levq);
    free(q->work);
    free(q);
}

/* Smallest X1 whose bound T(X1) exceeds lim, given the column's level
 * counts cnt[v]; xcap if none. */
static int64_t first_clip(const int64_t *cnt, int top, int64_t dm, int64_t lim, int64_t xcap) {
    if (lim < 0) return 0;
    int64_t X = 0, T = 0;
    for (int v = top; v >= 1; v--) {
        if (!cnt[v]) continue;
        int64_t units = cnt[v] * dm;
        if (T + units * v > lim) {
            int64_t m = X + (lim - T) / v + 1;
            return m < xcap ? m : xcap;
        }
        T += units * v;
        X += units;
    }
    return xcap;
}

/* Level counts of column col in rows [k0, k0 + kb) of group g. */
static void level_counts(const xb_crossbar_layer *l, int64_t g, int64_t k0, int64_t kb,
                         int64_t col, int64_t *cnt) {
    memset(cnt, 0, 256 * sizeof *cnt);
    for (int64_t k = 0; k < kb; k++) cnt[l->lev[(g * l->cfg.K + k0 + k) * l->C + col]]++;
}

/* m of every conversion of block (g, r), sorted; perm, ncnt, levq. */
static void fill_block(xb_crossbar_layer *l, int64_t g, int64_t r) {
    const xb_crossbar_config *c = &l->cfg;
    xb_clipsel *q = l->clipsel;
    int64_t blk = g * l->R + r, ncc = xb_crossbar_convs_per_block(l), N = c->N;
    int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r);
    int64_t kb = xb_block_rows(c->K, c->rows, c->even_rows, r);
    int64_t dm = ((int64_t)1 << c->dac_bits) - 1, cnt[256];
    int32_t *perm = q->perm + blk * ncc, *mc = q->mclip + blk * ncc;
    int32_t *ncnt = q->ncnt + blk * (q->xcap + 1);
    int64_t *hist = q->work, *m = q->work + q->xcap + 1; /* m -> conversions; m per conversion */
    memset(hist, 0, (size_t)(q->xcap + 1) * sizeof *hist);
    for (int64_t cc = 0; cc < ncc; cc++) {
        int64_t col = xb_conversion_col(c->signed_pair, N, cc);
        level_counts(l, g, k0, kb, col, cnt);
        m[cc] = first_clip(cnt, 255, dm, c->code_hi, q->xcap);
        if (c->signed_pair) {
            level_counts(l, g, k0, kb, col + N, cnt);
            int64_t mn = first_clip(cnt, 255, dm, -c->code_lo, q->xcap);
            if (mn < m[cc]) m[cc] = mn;
        }
        hist[m[cc]]++;
    }
    /* counting sort by m (stable: equal m keep conversion order) */
    int64_t acc = 0;
    for (int64_t x = 0; x <= q->xcap; x++) {
        int64_t h = hist[x];
        hist[x] = acc;
        acc += h;
        ncnt[x] = (int32_t)acc;
    }
    for (int64_t cc = 0; cc < ncc; cc++) {
        int64_t at = hist[m[cc]]++;
        perm[at] = (int32_t)cc;
        mc[at] = (int32_t)m[cc];
    }
    /* levels of the sorted conversions: rows (+) or (+, -) per conversion,
     * each kpad(kb) bytes as in levp */
    int64_t kbq = xb_igemm_kpad(kb);
    const int8_t *src = l->levp + (size_t)blk * l->levp_stride;
    int8_t *dst = q->levq + (size_t)blk * l->levp_stride;
    int upc = c->signed_pair ? 2 : 1;
    for (int64_t i = 0; i < ncc; i++) {
        int64_t col = xb_conversion_col(c->signed_pair, N, perm[i]);
        memcpy(dst + (i * upc) * kbq, src + col * kbq, (size_t)kbq);
        if (upc == 2) memcpy(dst + (i * upc + 1) * kbq, src + (col + N) * kbq, (size_t)kbq);
    }
}

void xb_clipsel_fill(xb_crossbar_layer *l) {
    if (!l->clipsel || l->path != XB_XPATH_CORRECTION) return;
    for (int64_t g = 0; g < l->cfg.groups; g++)
        for (int64_t r = 0; r < l->R; r++) fill_block(l, g, r);
}
