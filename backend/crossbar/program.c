/* Building a crossbar layer: what gets programmed into the cells.
 *
 * xb_crossbar_layer_new runs the steps in order: check the configuration,
 * allocate the tables, encode each output's weights (offset, differential
 * or center, with the center chosen per output) into sliced conductance
 * levels, sum the levels per column and row block, flip the columns that
 * pass half their range (ISAAC), apply the cell and ADC non-idealities
 * (device.c), bound the
 * column sums, pack the per-block GEMM operands, and choose the execution
 * path (crossbar.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/internal.h"
#include "backend/crossbar/rng.h"
#include "backend/crossbar/sar.h"
#include "kernels/igemm.h"

static void derive_path(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    bool noisy = l->read_noise || l->cond != NULL || l->adc_err != NULL;
    if (noisy || c->spec_n) { /* speculation counts conversions as they happen */
        l->path = XB_XPATH_FULL;
        return;
    }
    if (c->lossless) {
        l->path = XB_XPATH_EXACT;
        return;
    }
    if (c->lsb != 1.0) {
        l->path = XB_XPATH_FULL;
        return;
    }
    /* LSB 1, may clip: exact if no column can reach beyond the code range. */
    int64_t dmax = ((int64_t)1 << c->dac_bits) - 1;
    int64_t hi = c->code_hi, lo = -c->code_lo;
    for (int64_t i = 0; i < c->groups * l->R * l->C; i++) {
        int64_t col = i % l->C;
        int64_t lim = (c->signed_pair && l->col_sign[col] < 0) ? lo : hi;
        if (l->levsum[i] * dmax > lim) {
            l->path = XB_XPATH_CORRECTION;
            return;
        }
    }
    l->path = XB_XPATH_EXACT;
}

void xb_crossbar_layer_set_adc(xb_crossbar_layer *l, bool lossless, double lsb, int64_t lo,
                               int64_t hi) {
    l->cfg.lossless = lossless;
    l->cfg.lsb = lsb < 1 ? 1 : lsb;
    l->cfg.code_lo = lo;
    l->cfg.code_hi = hi;
    if (l->lev_thr && l->lev_thr_hi != hi) xb_bits_thresholds(l);
    derive_path(l);
}

/* Width of slice s (LSB first) and its bit offset. */
static int magnitude_bits(const xb_crossbar_config *c);

static int slice_width(const xb_crossbar_config *c, int s) {
    if (c->slice_bits[0]) return c->slice_bits[s];
    int mb = magnitude_bits(c);
    int left = mb - s * c->cell_bits;
    return left < c->cell_bits ? left : c->cell_bits;
}

static int slice_shift(const xb_crossbar_config *c, int s) {
    /* Binary offset: the cell holds b = (w + 1) / 2 and w = 2b - 1, so its
     * one slice sits at bit 1 and the digital offset 2^(B-1) = 1 x sum(x). */
    int sh = c->weight_bits == 1 && !c->differential ? 1 : 0;
    for (int t = 0; t < s; t++) sh += slice_width(c, t);
    return sh;
}

/* RAELLA's Center+Offset (Andrulis et al., ISCA 2023): w = c + o per output
 * channel, o stored as sign and magnitude, c * sum(x) added digitally.  The
 * paper picks c so the positive and negative slices balance; its exact
 * criterion is not public, so this is a reconstruction (docs/ARCH.md): c
 * minimises the expected squared signed column sum, weighted by each
 * slice's place value (2^shift_s squared), over one row block of b rows
 * with input digits of mean mu and variance var (uniform digits):
 *     sum_s 4^shift_s * (mu^2 (b/K)^2 D_s^2 + var (b/K) Q_s),
 *     D_s = sum_k sign(o_k) slice_s(|o_k|),  Q_s = sum_k slice_s(|o_k|)^2.
 * The mean term is RAELLA's balance; the variance term stops a shift that
 * balances the mean but turns a channel's many zero weights into nonzero
 * offsets (a symmetric channel keeps c = 0).  Candidates are the c that
 * keep every |o_k| <= wmax (always including 0: the weights fit); ties go
 * to the smallest |c|, then the smaller c.  Weights are counted by value
 * first, so a candidate costs 2^B, not K. */
static int32_t pick_center(const xb_crossbar_config *cf, const int8_t *w, int64_t K, int wmax) {
    int slices = cf->w_slices, rows = cf->rows, dac_bits = cf->dac_bits;
    int64_t hist[256] = {0};
    int lo = 127, hi = -128;
    for (int64_t k = 0; k < K; k++) {
        hist[w[k] + 128]++;
        if (w[k] < lo) lo = w[k];
        if (w[k] > hi) hi = w[k];
    }
    double dm = ldexp(1.0, dac_bits) - 1, mu = dm / 2, var = ((dm + 1) * (dm + 1) - 1) / 12;
    double f = (double)xb_block_rows(K, rows, cf->even_rows, 0) / (double)K;
    int32_t best = 0;
    double best_obj = -1;
    for (int c = hi - wmax; c <= lo + wmax; c++) {
        double obj = 0;
        for (int s = 0; s < slices; s++) {
            int64_t d = 0, q = 0;
            int sh = slice_shift(cf, s), smask = (1 << slice_width(cf, s)) - 1;
            for (int v = lo; v <= hi; v++) {
                int64_t h = hist[v + 128];
                if (!h) continue;
                int o = v - c, m = o < 0 ? -o : o;
                int64_t sl = (m >> sh) & smask;
                d += o < 0 ? -h * sl : h * sl;
                q += h * sl * sl;
            }
            obj += ldexp(mu * mu * f * f * (double)d * (double)d + var * f * (double)q, 2 * sh);
        }
        int ac = c < 0 ? -c : c, ab = best < 0 ? -best : best;
        if (best_obj < 0 || obj < best_obj || (obj == best_obj && ac < ab)) {
            best_obj = obj;
            best = c;
        }
    }
    return best;
}

int32_t xb_crossbar_pick_center(const xb_crossbar_config *c, const int8_t *wn, int64_t K) {
    return pick_center(c, wn, K, (1 << (c->weight_bits - 1)) - 1);
}

/* Magnitude bits per weight: offset stores all B bits, the column-pair
 * encodings the B-1 bits of |w| (or |w - c_n|). */
static int magnitude_bits(const xb_crossbar_config *c) {
    if (c->weight_bits == 1) return 1; /* binary: (w + 1) / 2, or |w| = 1 on a pair */
    return c->differential ? c->weight_bits - 1 : c->weight_bits;
}

static xb_status check_config(const xb_crossbar_config *c, xb_ctx *ctx) {
    if (c->K < 1 || c->N < 1 || c->groups < 1 || c->rows < 1 || c->dac_bits < 1 ||
        c->cell_bits < 1 || c->cell_bits > 7 || c->weight_bits < 1 || c->weight_bits > 8 ||
        (c->weight_bits == 1 && c->center) ||
        c->input_slices < 1 || c->input_slices * c->dac_bits < 1)
        return xb_fail(ctx, XB_ERR_INVALID, "analog layer: invalid configuration");
    if (c->flip && c->differential)
        return xb_fail(ctx, XB_ERR_INVALID, "analog layer: flip needs offset encoding");
    if (c->center && !c->differential)
        return xb_fail(ctx, XB_ERR_INVALID, "analog layer: center encoding needs column pairs");
    if (c->table && !xb_cells_ideal(c))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "analog layer: a measured noise table needs ideal cells (it replaces the "
                       "device model)");
    if (c->K > XB_IGEMM_KMAX)
        return xb_fail(ctx, XB_ERR_INVALID, "analog layer: K = %lld exceeds %d", (long long)c->K,
                       XB_IGEMM_KMAX);
    XB_TRY(xb_spec_check(c, ctx));
    int mb = magnitude_bits(c);
    if (c->slice_bits[0]) {
        int sum = 0, s = 0;
        for (; s < 16 && c->slice_bits[s]; s++) {
            if (c->slice_bits[s] < 1 || c->slice_bits[s] > c->cell_bits) break;
            sum += c->slice_bits[s];
        }
        if (s != c->w_slices || sum != mb)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "analog layer: slice widths must be 1..%d bits and add up to %d",
                           c->cell_bits, mb);
    } else if (c->w_slices != (mb + c->cell_bits - 1) / c->cell_bits) {
        return xb_fail(ctx, XB_ERR_INVALID, "analog layer: w_slices inconsistent with bits");
    }
    return XB_OK;
}

/* Geometry, the level and column tables, the weight copy and its igemm
 * packing (the exact and correction paths multiply with it). */
static xb_status alloc_tables(xb_crossbar_layer *l, const int8_t *w, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    int u = c->differential ? 2 : 1;
    l->C = (int64_t)c->w_slices * u * c->N;
    l->R = xb_row_blocks(c->K, c->rows);
    size_t cells;
    if (xb_mul_overflow((size_t)(c->groups * c->K), (size_t)l->C, &cells) ||
        cells > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "analog layer: too many cells");
    l->lev = xb_calloc(ctx, cells ? cells : 1, 1);
    l->maxlev = xb_calloc(ctx, (size_t)(c->groups * l->R), 1);
    l->col_shift = xb_calloc(ctx, (size_t)l->C, sizeof(int64_t));
    l->col_sign = xb_calloc(ctx, (size_t)l->C, 1);
    l->col_n = xb_calloc(ctx, (size_t)l->C, sizeof(int64_t));
    l->col_mask = xb_calloc(ctx, (size_t)l->C, 1);
    l->w = xb_malloc(ctx, (size_t)(c->groups * c->N * c->K));
    if (!l->lev || !l->maxlev || !l->col_shift || !l->col_sign || !l->col_n || !l->col_mask ||
        !l->w)
        return XB_ERR_NOMEM;
    memcpy(l->w, w, (size_t)(c->groups * c->N * c->K));
    size_t wpb = xb_igemm_wpack_bytes(c->K, c->N);
    l->wpack = xb_malloc(ctx, (size_t)c->groups * wpb + 1);
    if (!l->wpack) return XB_ERR_NOMEM;
    for (int64_t g = 0; g < c->groups; g++)
        xb_igemm_pack_w(w + g * c->N * c->K, c->K, c->N, l->wpack + (size_t)g * wpb);
    if (c->center) {
        l->center = xb_calloc(ctx, (size_t)(c->groups * c->N), sizeof(int32_t));
        if (!l->center) return XB_ERR_NOMEM;
    }
    return XB_OK;
}

/* Column (slice s, polarity, output n) = (s * u + pol) * N + n: its bit
 * offset, top level, sign and output. */
static void column_tables(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    int u = c->differential ? 2 : 1;
    for (int s = 0; s < c->w_slices; s++)
        for (int pol = 0; pol < u; pol++)
            for (int64_t n = 0; n < c->N; n++) {
                int64_t col = ((int64_t)s * u + pol) * c->N + n;
                l->col_shift[col] = slice_shift(c, s);
                l->col_mask[col] = (uint8_t)((1 << slice_width(c, s)) - 1);
                l->col_sign[col] = pol ? -1 : 1;
                l->col_n[col] = n;
            }
}

/* The levels of output n's weights wn[K] (center already subtracted via
 * cn), and the largest level per row block. */
static void encode_output(xb_crossbar_layer *l, int64_t g, int64_t n, const int8_t *wn,
                          int32_t cn) {
    const xb_crossbar_config *c = &l->cfg;
    int u = c->differential ? 2 : 1;
    for (int64_t k = 0; k < c->K; k++) {
        int wv = wn[k] - cn; /* |wv| <= wmax by the choice of cn */
        unsigned mag;
        int pol = 0;
        if (c->differential) {
            mag = (unsigned)(wv < 0 ? -wv : wv);
            pol = wv < 0;
        } else {
            mag = (unsigned)(wv + (1 << (c->weight_bits - 1)));
        }
        uint8_t *row = l->lev + (g * c->K + k) * l->C;
        uint8_t *mx = &l->maxlev[g * l->R + xb_row_block_of(c->K, c->rows, c->even_rows, k)];
        for (int s = 0; s < c->w_slices; s++) {
            int64_t col = ((int64_t)s * u + pol) * c->N + n;
            uint8_t v = (uint8_t)((mag >> l->col_shift[col]) & l->col_mask[col]);
            row[col] = v;
            if (v > *mx) *mx = v;
        }
    }
}

/* Every output's weights: range check, center choice, levels. */
static xb_status encode_weights(xb_crossbar_layer *l, const int8_t *w, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    int wmax = (1 << (c->weight_bits - 1)) - 1, wmin = c->differential ? -wmax : -wmax - 1;
    bool binary = c->weight_bits == 1; /* exactly -1 or +1 */
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t n = 0; n < c->N; n++) {
            const int8_t *wn = w + (g * c->N + n) * c->K;
            for (int64_t k = 0; k < c->K; k++)
                if (binary ? (wn[k] != 1 && wn[k] != -1) : (wn[k] < wmin || wn[k] > wmax))
                    return xb_fail(
                        ctx, XB_ERR_INVALID,
                        "weight %d (group %lld, output %lld, row %lld) does not fit %d-bit "
                        "%s encoding; quantize with --w-bits %d",
                        wn[k], (long long)g, (long long)n, (long long)k, c->weight_bits,
                        c->center ? "center" : c->differential ? "differential" : "offset",
                        c->weight_bits);
            int32_t cn = 0;
            if (c->center) l->center[g * c->N + n] = cn = pick_center(c, wn, c->K, wmax);
            encode_output(l, g, n, wn, cn);
        }
    return XB_OK;
}

/* Level sum of every column in every row block: the largest sum the
 * column can produce (times dmax), used by the path choice, flip, the
 * histogram range and the backend's SAR-cycle count. */
static xb_status level_sums(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    l->levsum = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C), sizeof(int32_t));
    if (!l->levsum) return XB_ERR_NOMEM;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t k = 0; k < c->K; k++) {
            const uint8_t *row = l->lev + (g * c->K + k) * l->C;
            int64_t r = xb_row_block_of(c->K, c->rows, c->even_rows, k);
            int32_t *ls = l->levsum + (g * l->R + r) * l->C;
            for (int64_t col = 0; col < l->C; col++) ls[col] += row[col];
        }
    return XB_OK;
}

/* ISAAC's flip: complement the columns whose block sum passes half (their
 * levels, level sums and the block's largest level follow). */
static xb_status flip_columns(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    l->flipped = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C), 1);
    if (!l->flipped) return XB_ERR_NOMEM;
    memset(l->maxlev, 0, (size_t)(c->groups * l->R));
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r),
                    k1 = k0 + xb_block_rows(c->K, c->rows, c->even_rows, r);
            uint8_t *mx = &l->maxlev[g * l->R + r];
            int32_t *ls = l->levsum + (g * l->R + r) * l->C;
            for (int64_t col = 0; col < l->C; col++) {
                int32_t top = l->col_mask[col], span = (int32_t)(k1 - k0) * top;
                bool fl = 2 * ls[col] > span;
                l->flipped[(g * l->R + r) * l->C + col] = fl;
                if (fl) ls[col] = span - ls[col];
                for (int64_t k = k0; k < k1; k++) {
                    uint8_t *v = &l->lev[(g * c->K + k) * l->C + col];
                    if (fl) *v = (uint8_t)(top - *v);
                    if (*v > *mx) *mx = *v;
                }
            }
        }
    return XB_OK;
}

/* Largest possible |column sum|, for the histogram range (at least 1). */
static void bound_sums(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t dmax = ((int64_t)1 << c->dac_bits) - 1;
    double best = 0;
    if (!l->cond) {
        for (int64_t i = 0; i < c->groups * l->R * l->C; i++)
            if (l->levsum[i] > best) best = l->levsum[i];
    } else {
        for (int64_t g = 0; g < c->groups; g++)
            for (int64_t r = 0; r < l->R; r++) {
                int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r),
                    k1 = k0 + xb_block_rows(c->K, c->rows, c->even_rows, r);
                for (int64_t col = 0; col < l->C; col++) {
                    double sum = 0;
                    for (int64_t k = k0; k < k1; k++) sum += l->cond[(g * c->K + k) * l->C + col];
                    if (sum > best) best = sum;
                }
            }
    }
    l->max_sum = (int64_t)ceil(best * (double)dmax);
    if (l->max_sum < 1) l->max_sum = 1;
}

/* Per row block operands of the column-sum GEMMs: levels packed for
 * igemm ([C][rows] per block, the "weights" of that product), and the
 * conductances transposed the same way for sgemm. */
static xb_status pack_blocks(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t kp = xb_igemm_kpad(xb_block_rows(c->K, c->rows, c->even_rows, 0));
    l->levp_stride = (size_t)(l->C * kp);
    l->levp = xb_calloc(ctx, (size_t)(c->groups * l->R) * l->levp_stride, 1);
    if (!l->levp) return XB_ERR_NOMEM;
    if (l->cond) {
        l->condT = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C * c->rows), sizeof(float));
        if (!l->condT) return XB_ERR_NOMEM;
    }
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r),
                    kb = xb_block_rows(c->K, c->rows, c->even_rows, r);
            int8_t *dst = l->levp + (size_t)(g * l->R + r) * l->levp_stride;
            int64_t kbp = xb_igemm_kpad(kb);
            for (int64_t col = 0; col < l->C; col++)
                for (int64_t k = 0; k < kb; k++)
                    dst[col * kbp + k] = (int8_t)l->lev[(g * c->K + k0 + k) * l->C + col];
            if (l->condT) {
                float *ct = l->condT + (size_t)((g * l->R + r) * l->C * c->rows);
                for (int64_t col = 0; col < l->C; col++)
                    for (int64_t k = 0; k < kb; k++)
                        ct[col * kb + k] = l->cond[(g * c->K + k0 + k) * l->C + col];
            }
        }
    return XB_OK;
}

xb_crossbar_layer *xb_crossbar_layer_new(const xb_crossbar_config *cfg, const int8_t *w,
                                         xb_ctx *ctx) {
    if (check_config(cfg, ctx) != XB_OK) return NULL;
    xb_crossbar_layer *l = xb_calloc(ctx, 1, sizeof *l);
    if (!l) return NULL;
    l->cfg = *cfg;
    l->cfg.table = NULL;
    l->drift_alpha = 1;
    int cmask = (1 << cfg->cell_bits) - 1;
    l->g0 = cfg->on_off_ratio > 0 ? (double)cmask / (cfg->on_off_ratio - 1) : 0.0;
    l->read_noise = cfg->read_sigma > 0 || cfg->read_current_sigma > 0 ||
                    cfg->read_row_sigma > 0 || cfg->table != NULL || cfg->buf_sigma > 0;
    if (cfg->table && !(l->table = xb_noise_table_copy(cfg->table, ctx))) goto fail;
    if (alloc_tables(l, w, ctx) != XB_OK) goto fail;
    column_tables(l);
    if (encode_weights(l, w, ctx) != XB_OK || level_sums(l, ctx) != XB_OK) goto fail;
    if (cfg->flip && flip_columns(l, ctx) != XB_OK) goto fail;
    if (!xb_cells_ideal(cfg) && xb_device_program(l, ctx) != XB_OK) goto fail;
    if (xb_device_adc(l, ctx) != XB_OK) goto fail;
    bound_sums(l);
    if (pack_blocks(l, ctx) != XB_OK || xb_bits_levels(l, ctx) != XB_OK) goto fail;
    derive_path(l);
    xb_crossbar_pulse_table(l);
    return l;
fail:
    xb_crossbar_layer_free(l);
    return NULL;
}

void xb_crossbar_layer_free(xb_crossbar_layer *l) {
    if (!l) return;
    xb_sar_free(l->sar);
    free(l->lev);
    free(l->cond);
    free(l->maxlev);
    free(l->center);
    free(l->flipped);
    free(l->levsum);
    free(l->col_shift);
    free(l->col_sign);
    free(l->col_n);
    free(l->col_mask);
    free(l->w);
    free(l->levp);
    free(l->levbits);
    free(l->lev_thr);
    free(l->lev_bk);
    free(l->lev_cols);
    free(l->lev_gthr);
    free(l->lev_gneg);
    free(l->lev_gsh);
    free(l->wpack);
    free(l->condT);
    free(l->adc_err);
    xb_noise_table_free(l->table);
    free(l);
}
