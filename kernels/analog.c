/* Analog crossbar executor (see analog.h for the model and the paths). */
#include "analog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "igemm.h"

/* --- counter-based random numbers ---------------------------------------
 * splitmix64's finalizer (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014) applied to the key: every
 * draw is a pure function of (seed, what, where), so no generator state is
 * shared between threads and the thread count cannot change a result. */
static inline uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t xb_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    return mix64(mix64(mix64(mix64(seed) ^ a) ^ b) ^ c);
}

double xb_hash_uniform(uint64_t h) { return (double)((h >> 11) + 1) * 0x1.0p-53; }

double xb_hash_normal(uint64_t h) {
    double u1 = (double)((h >> 32) + 1) * 0x1.0p-32; /* (0, 1]: log is finite */
    double u2 = (double)(h & 0xffffffffu) * 0x1.0p-32;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Draw kinds, folded into the key so the streams never overlap. */
enum { TAG_PROG = 1, TAG_STUCK = 2, TAG_READ = 3 };

static uint64_t layer_key(const xb_analog_config *c, int tag) {
    return ((uint64_t)(uint32_t)c->layer_id << 8) | (uint64_t)tag;
}

/* --- construction -------------------------------------------------------- */

static void derive_path(xb_analog_layer *l) {
    const xb_analog_config *c = &l->cfg;
    bool noisy = c->read_sigma > 0 || l->cond != NULL;
    if (noisy) {
        l->path = XB_APATH_FULL;
        return;
    }
    if (c->lossless) {
        l->path = XB_APATH_EXACT;
        return;
    }
    if (c->lsb != 1.0) {
        l->path = XB_APATH_FULL;
        return;
    }
    /* LSB 1, may clip: exact if no column can reach beyond the code range. */
    int64_t dmax = ((int64_t)1 << c->dac_bits) - 1;
    int64_t hi = c->code_hi, lo = -c->code_lo;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
            for (int64_t col = 0; col < l->C; col++) {
                int64_t sum = 0;
                for (int64_t k = k0; k < k1; k++) sum += l->lev[(g * c->K + k) * l->C + col];
                sum *= dmax;
                int64_t lim = (c->signed_pair && l->col_sign[col] < 0) ? lo : hi;
                if (sum > lim) {
                    l->path = XB_APATH_CORRECTION;
                    return;
                }
            }
        }
    l->path = XB_APATH_EXACT;
}

void xb_analog_layer_set_adc(xb_analog_layer *l, bool lossless, double lsb, int64_t lo, int64_t hi) {
    l->cfg.lossless = lossless;
    l->cfg.lsb = lsb < 1 ? 1 : lsb;
    l->cfg.code_lo = lo;
    l->cfg.code_hi = hi;
    derive_path(l);
}

xb_analog_layer *xb_analog_layer_new(const xb_analog_config *cfg, const int8_t *w, xb_ctx *ctx) {
    const xb_analog_config *c = cfg;
    if (c->K < 1 || c->N < 1 || c->groups < 1 || c->rows < 1 || c->dac_bits < 1 ||
        c->cell_bits < 1 || c->cell_bits > 8 || c->weight_bits < 2 || c->weight_bits > 8 ||
        c->input_slices < 1 || c->input_slices * c->dac_bits < 1) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: invalid configuration");
        return NULL;
    }
    if (c->K > XB_IGEMM_KMAX) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: K = %lld exceeds %d", (long long)c->K,
                XB_IGEMM_KMAX);
        return NULL;
    }
    xb_analog_layer *l = xb_calloc(ctx, 1, sizeof *l);
    if (!l) return NULL;
    l->cfg = *c;
    int u = c->differential ? 2 : 1;
    int mb = c->differential ? c->weight_bits - 1 : c->weight_bits;
    if (l->cfg.w_slices != (mb + c->cell_bits - 1) / c->cell_bits) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: w_slices inconsistent with bits");
        goto fail;
    }
    l->C = (int64_t)c->w_slices * u * c->N;
    l->R = (c->K + c->rows - 1) / c->rows;
    size_t cells;
    if (xb_mul_overflow((size_t)(c->groups * c->K), (size_t)l->C, &cells) ||
        cells > XB_MAX_TENSOR_BYTES) {
        xb_fail(ctx, XB_ERR_NOMEM, "analog layer: too many cells");
        goto fail;
    }
    l->lev = xb_calloc(ctx, cells ? cells : 1, 1);
    l->maxlev = xb_calloc(ctx, (size_t)(c->groups * l->R), 1);
    l->col_shift = xb_calloc(ctx, (size_t)l->C, sizeof(int64_t));
    l->col_sign = xb_calloc(ctx, (size_t)l->C, 1);
    l->col_n = xb_calloc(ctx, (size_t)l->C, sizeof(int64_t));
    l->w = xb_malloc(ctx, (size_t)(c->groups * c->N * c->K));
    if (!l->lev || !l->maxlev || !l->col_shift || !l->col_sign || !l->col_n || !l->w) goto fail;
    memcpy(l->w, w, (size_t)(c->groups * c->N * c->K));
    for (int s = 0; s < c->w_slices; s++)
        for (int pol = 0; pol < u; pol++)
            for (int64_t n = 0; n < c->N; n++) {
                int64_t col = ((int64_t)s * u + pol) * c->N + n;
                l->col_shift[col] = (int64_t)s * c->cell_bits;
                l->col_sign[col] = pol ? -1 : 1;
                l->col_n[col] = n;
            }
    int wmax = (1 << (c->weight_bits - 1)) - 1, wmin = c->differential ? -wmax : -wmax - 1;
    int cmask = (1 << c->cell_bits) - 1;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t n = 0; n < c->N; n++)
            for (int64_t k = 0; k < c->K; k++) {
                int wv = w[(g * c->N + n) * c->K + k];
                if (wv < wmin || wv > wmax) {
                    xb_fail(ctx, XB_ERR_INVALID,
                            "weight %d (group %lld, output %lld, row %lld) does not fit %d-bit "
                            "%s encoding; quantize with --w-bits %d",
                            wv, (long long)g, (long long)n, (long long)k, c->weight_bits,
                            c->differential ? "differential" : "offset", c->weight_bits);
                    goto fail;
                }
                unsigned mag;
                int pol = 0;
                if (c->differential) {
                    mag = (unsigned)(wv < 0 ? -wv : wv);
                    pol = wv < 0;
                } else {
                    mag = (unsigned)(wv + (1 << (c->weight_bits - 1)));
                }
                uint8_t *row = l->lev + (g * c->K + k) * l->C;
                for (int s = 0; s < c->w_slices; s++) {
                    uint8_t v = (uint8_t)((mag >> (s * c->cell_bits)) & (unsigned)cmask);
                    row[((int64_t)s * u + pol) * c->N + n] = v;
                    uint8_t *mx = &l->maxlev[g * l->R + k / c->rows];
                    if (v > *mx) *mx = v;
                }
            }
    /* Physical cells: variation, stuck cells and off-state leakage. */
    bool cells_ideal = c->prog_sigma == 0 && c->stuck_low == 0 && c->stuck_high == 0 &&
                       c->on_off_ratio == 0;
    if (!cells_ideal) {
        l->cond = xb_malloc(ctx, cells * sizeof(float));
        if (!l->cond) goto fail;
        double g0 = c->on_off_ratio > 0 ? (double)cmask / (c->on_off_ratio - 1) : 0.0;
        for (int64_t g = 0; g < c->groups; g++)
            for (int64_t k = 0; k < c->K; k++)
                for (int64_t col = 0; col < l->C; col++) {
                    size_t i = (size_t)((g * c->K + k) * l->C + col);
                    uint64_t where = (uint64_t)(g * c->K + k);
                    double lv = l->lev[i];
                    if (c->stuck_low > 0 || c->stuck_high > 0) {
                        double uu = xb_hash_uniform(
                            xb_hash4(c->seed, layer_key(c, TAG_STUCK), where, (uint64_t)col));
                        if (uu <= c->stuck_low) lv = 0;
                        else if (uu <= c->stuck_low + c->stuck_high) lv = cmask;
                    }
                    if (c->prog_sigma > 0)
                        lv *= 1.0 + c->prog_sigma * xb_hash_normal(xb_hash4(
                                                      c->seed, layer_key(c, TAG_PROG), where,
                                                      (uint64_t)col));
                    if (lv < 0) lv = 0; /* a conductance cannot be negative */
                    l->cond[i] = (float)(lv + g0);
                }
    }
    /* Largest possible |column sum|, for the histogram range. */
    int64_t dmax = ((int64_t)1 << c->dac_bits) - 1;
    double best = 0;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
            for (int64_t col = 0; col < l->C; col++) {
                double sum = 0;
                for (int64_t k = k0; k < k1; k++) {
                    size_t i = (size_t)((g * c->K + k) * l->C + col);
                    sum += l->cond ? l->cond[i] : l->lev[i];
                }
                if (sum > best) best = sum;
            }
        }
    l->max_sum = (int64_t)ceil(best * (double)dmax);
    if (l->max_sum < 1) l->max_sum = 1;
    derive_path(l);
    return l;
fail:
    xb_analog_layer_free(l);
    return NULL;
}

void xb_analog_layer_free(xb_analog_layer *l) {
    if (!l) return;
    free(l->lev);
    free(l->cond);
    free(l->maxlev);
    free(l->col_shift);
    free(l->col_sign);
    free(l->col_n);
    free(l->w);
    free(l);
}

/* --- statistics ---------------------------------------------------------- */

#define HIST_MAX_BINS 4096

xb_status xb_analog_stats_init(xb_analog_stats *s, const xb_analog_layer *l, xb_ctx *ctx) {
    memset(s, 0, sizeof *s);
    int64_t lo = l->cfg.signed_pair ? -l->max_sum : 0, hi = l->max_sum;
    int64_t span = hi - lo + 1;
    s->hist_width = (span + HIST_MAX_BINS - 1) / HIST_MAX_BINS;
    s->hist_bins = (int)((span + s->hist_width - 1) / s->hist_width);
    s->hist_lo = lo;
    s->hist = xb_calloc(ctx, (size_t)s->hist_bins, sizeof(int64_t));
    return s->hist ? XB_OK : ctx->status;
}

void xb_analog_stats_merge(xb_analog_stats *into, const xb_analog_stats *from) {
    into->conversions += from->conversions;
    into->saturated += from->saturated;
    into->observed += from->observed;
    into->zeros += from->zeros;
    if (from->max_abs > into->max_abs) into->max_abs = from->max_abs;
    if (into->hist && from->hist && into->hist_bins == from->hist_bins)
        for (int i = 0; i < into->hist_bins; i++) into->hist[i] += from->hist[i];
}

void xb_analog_stats_free(xb_analog_stats *s) {
    free(s->hist);
    s->hist = NULL;
}

double xb_analog_stats_percentile(const xb_analog_stats *s, double pct) {
    /* Percentile of |value|: fold the signed histogram onto magnitudes. */
    int64_t total = 0;
    for (int i = 0; i < s->hist_bins; i++) total += s->hist[i];
    if (total == 0) return 0;
    int64_t maxmag = 0;
    for (int i = 0; i < s->hist_bins; i++) {
        int64_t a = s->hist_lo + (int64_t)i * s->hist_width, b = a + s->hist_width - 1;
        int64_t m = llabs(a) > llabs(b) ? llabs(a) : llabs(b);
        if (m > maxmag) maxmag = m;
    }
    double need = pct / 100.0 * (double)total;
    /* Scan magnitudes upward: a bin counts once its far edge is reached. */
    for (int64_t mag = 0; mag <= maxmag; mag += s->hist_width) {
        int64_t cum = 0;
        for (int i = 0; i < s->hist_bins; i++) {
            int64_t a = s->hist_lo + (int64_t)i * s->hist_width, b = a + s->hist_width - 1;
            int64_t m = llabs(a) > llabs(b) ? llabs(a) : llabs(b);
            if (m <= mag) cum += s->hist[i];
        }
        if ((double)cum >= need) return (double)mag;
    }
    return (double)maxmag;
}

static inline void stat_value(xb_analog_stats *s, double v) {
    int64_t r = llround(v);
    s->observed++;
    if (r == 0) s->zeros++;
    int64_t a = r < 0 ? -r : r;
    if (a > s->max_abs) s->max_abs = a;
    if (s->hist) {
        int64_t b = (r - s->hist_lo) / s->hist_width;
        if (r < s->hist_lo) b = 0;
        if (b >= s->hist_bins) b = s->hist_bins - 1;
        s->hist[b]++;
    }
}

/* --- execution ----------------------------------------------------------- */

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t xb_analog_scratch_bytes(const xb_analog_layer *l, int64_t P) {
    const xb_analog_config *c = &l->cfg;
    size_t ig = xb_igemm_scratch_bytes(c->K, c->N, P);
    size_t dig = align64((size_t)(c->input_slices * c->K));
    size_t S = align64((size_t)(c->input_slices * l->C) * 4);
    size_t accd = align64((size_t)c->N * sizeof(double));
    return align64(ig) + dig + S + accd + 64;
}

/* One ADC conversion: value in unit levels -> reconstructed value.  Sets
 * *sat when the code saturated. */
static inline double adc_convert(const xb_analog_config *c, double v, int *sat) {
    if (c->lossless) return nearbyint(v);
    double q = nearbyint(v / c->lsb);
    if (q > (double)c->code_hi) {
        q = (double)c->code_hi;
        *sat = 1;
    } else if (q < (double)c->code_lo) {
        q = (double)c->code_lo;
        *sat = 1;
    }
    return q * c->lsb;
}

static int32_t clamp_i32(double v) {
    if (v > 2147483647.0) return 2147483647;
    if (v < -2147483648.0) return (-2147483647 - 1);
    return (int32_t)llrint(v);
}

static void digits_of(const xb_analog_config *c, const uint8_t *x, int64_t P, int64_t p,
                      uint8_t *dig, int64_t *xsum) {
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    int64_t s = 0;
    for (int64_t k = 0; k < c->K; k++) {
        unsigned xv = x[k * P + p];
        s += xv;
        for (int j = 0; j < J; j++) dig[j * c->K + k] = (uint8_t)((xv >> (j * d)) & dm);
    }
    *xsum = s;
}

/* Column sums of row block [k0, k1) for all digits: S[j][col]. */
static void column_sums_int(const xb_analog_layer *l, int64_t g, int64_t k0, int64_t k1,
                            const uint8_t *dig, int32_t *S) {
    const xb_analog_config *c = &l->cfg;
    int J = c->input_slices;
    int64_t C = l->C;
    memset(S, 0, (size_t)(J * C) * sizeof(int32_t));
    for (int64_t k = k0; k < k1; k++) {
        const uint8_t *row = l->lev + (g * c->K + k) * C;
        for (int j = 0; j < J; j++) {
            int32_t v = dig[j * c->K + k];
            if (!v) continue; /* bit-level sparsity: most digits are 0 */
            int32_t *Sj = S + j * C;
            for (int64_t col = 0; col < C; col++) Sj[col] += v * (int32_t)row[col];
        }
    }
}

static void column_sums_float(const xb_analog_layer *l, int64_t g, int64_t k0, int64_t k1,
                              const uint8_t *dig, float *S) {
    const xb_analog_config *c = &l->cfg;
    int J = c->input_slices;
    int64_t C = l->C;
    memset(S, 0, (size_t)(J * C) * sizeof(float));
    for (int64_t k = k0; k < k1; k++) {
        const float *row = l->cond + (g * c->K + k) * C;
        for (int j = 0; j < J; j++) {
            float v = dig[j * c->K + k];
            if (v == 0.0f) continue;
            float *Sj = S + j * C;
            for (int64_t col = 0; col < C; col++) Sj[col] += v * row[col];
        }
    }
}

static void run_full(const xb_analog_layer *l, int64_t g, const uint8_t *x, int64_t P,
                     int64_t image, int32_t *acc, uint8_t *dig, void *Sbuf, double *accd,
                     xb_analog_stats *st) {
    const xb_analog_config *c = &l->cfg;
    int J = c->input_slices, d = c->dac_bits;
    int64_t C = l->C, N = c->N;
    int64_t nconv_cols = c->signed_pair ? C / 2 : C;
    uint64_t rkey = layer_key(c, TAG_READ);
    for (int64_t p = 0; p < P; p++) {
        int64_t xsum;
        digits_of(c, x, P, p, dig, &xsum);
        for (int64_t n = 0; n < N; n++) accd[n] = 0;
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
            if (l->cond) column_sums_float(l, g, k0, k1, dig, (float *)Sbuf);
            else column_sums_int(l, g, k0, k1, dig, (int32_t *)Sbuf);
            for (int j = 0; j < J; j++) {
                uint64_t conv_base = (uint64_t)((((g * P + p) * l->R + r) * J + j) * nconv_cols);
                for (int64_t cc = 0; cc < nconv_cols; cc++) {
                    /* signed pair: columns (s, +, n) and (s, -, n) are
                     * s*2N + n and s*2N + N + n. */
                    int64_t col = c->signed_pair ? (cc / N) * 2 * N + cc % N : cc;
                    double v = l->cond ? (double)((const float *)Sbuf)[j * C + col]
                                       : (double)((const int32_t *)Sbuf)[j * C + col];
                    if (c->signed_pair)
                        v -= l->cond ? (double)((const float *)Sbuf)[j * C + col + N]
                                     : (double)((const int32_t *)Sbuf)[j * C + col + N];
                    if (c->read_sigma > 0)
                        v += c->read_sigma *
                             xb_hash_normal(xb_hash4(c->seed ^ rkey, (uint64_t)image,
                                                     (uint64_t)c->layer_id, conv_base + (uint64_t)cc));
                    int sat = 0;
                    double y = adc_convert(c, v, &sat);
                    if (st) {
                        st->conversions++;
                        st->saturated += sat;
                        stat_value(st, v);
                    }
                    double sign = c->signed_pair ? 1.0 : (double)l->col_sign[col];
                    accd[l->col_n[col]] += sign * ldexp(y, (int)(j * d + l->col_shift[col]));
                }
            }
        }
        double off = c->differential ? 0.0 : ldexp((double)xsum, c->weight_bits - 1);
        for (int64_t n = 0; n < N; n++) acc[n * P + p] = clamp_i32(accd[n] - off);
    }
}

static void run_correction(const xb_analog_layer *l, int64_t g, const uint8_t *x, int64_t P,
                           int32_t *acc, uint8_t *dig, int32_t *S, xb_analog_stats *st) {
    const xb_analog_config *c = &l->cfg;
    int J = c->input_slices, d = c->dac_bits;
    int64_t C = l->C, N = c->N;
    int64_t nconv_cols = c->signed_pair ? C / 2 : C;
    int64_t thr = c->signed_pair ? (c->code_hi < -c->code_lo ? c->code_hi : -c->code_lo)
                                 : c->code_hi;
    int64_t sat = 0;
    for (int64_t p = 0; p < P; p++) {
        int64_t xsum;
        digits_of(c, x, P, p, dig, &xsum);
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
            int64_t ml = l->maxlev[g * l->R + r];
            for (int j = 0; j < J; j++) {
                const uint8_t *dj = dig + j * c->K;
                int64_t x1 = 0;
                for (int64_t k = k0; k < k1; k++) x1 += dj[k];
                /* No column sum of this digit can exceed X1 * max level. */
                if (x1 * ml <= thr) continue;
                int32_t *Sj = S;
                memset(Sj, 0, (size_t)C * sizeof(int32_t));
                for (int64_t k = k0; k < k1; k++) {
                    int32_t v = dj[k];
                    if (!v) continue;
                    const uint8_t *row = l->lev + (g * c->K + k) * C;
                    for (int64_t col = 0; col < C; col++) Sj[col] += v * (int32_t)row[col];
                }
                for (int64_t cc = 0; cc < nconv_cols; cc++) {
                    int64_t col = c->signed_pair ? (cc / N) * 2 * N + cc % N : cc;
                    int64_t v = Sj[col];
                    if (c->signed_pair) v -= Sj[col + N];
                    int64_t y = v > c->code_hi ? c->code_hi : v < c->code_lo ? c->code_lo : v;
                    if (y == v) continue;
                    sat++;
                    int64_t sign = c->signed_pair ? 1 : l->col_sign[col];
                    int64_t delta = sign * (y - v) * ((int64_t)1 << (j * d + l->col_shift[col]));
                    int32_t *a = &acc[l->col_n[col] * P + p];
                    *a = clamp_i32((double)*a + (double)delta);
                }
            }
        }
    }
    if (st) {
        st->conversions += P * l->R * J * nconv_cols;
        st->saturated += sat;
    }
}

void xb_analog_matmul(const xb_analog_layer *l, int group, const uint8_t *x, int64_t P,
                      int64_t image, bool profile, int32_t *acc, void *scratch,
                      xb_analog_stats *st) {
    const xb_analog_config *c = &l->cfg;
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    size_t ig = align64(xb_igemm_scratch_bytes(c->K, c->N, P));
    uint8_t *dig = base + ig;
    void *S = dig + align64((size_t)(c->input_slices * c->K));
    double *accd = (double *)((uint8_t *)S + align64((size_t)(c->input_slices * l->C) * 4));
    int64_t g = group;
    if (profile || l->path == XB_APATH_FULL) {
        run_full(l, g, x, P, image, acc, dig, S, accd, st);
        return;
    }
    xb_igemm(l->w + g * c->N * c->K, x, c->K, c->N, P, acc, base);
    if (l->path == XB_APATH_CORRECTION) {
        run_correction(l, g, x, P, acc, dig, (int32_t *)S, st);
    } else if (st) {
        int64_t nconv_cols = c->signed_pair ? l->C / 2 : l->C;
        st->conversions += P * l->R * c->input_slices * nconv_cols;
    }
}
