/* Crossbar simulation (see crossbar.h for the model and the paths). */
#include "backend/crossbar/crossbar.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm.h"
#include "kernels/sgemm.h"

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

static uint64_t layer_key(const xb_crossbar_config *c, int tag) {
    return ((uint64_t)(uint32_t)c->layer_id << 8) | (uint64_t)tag;
}

/* --- construction -------------------------------------------------------- */

static void derive_path(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    bool noisy = c->read_sigma > 0 || l->cond != NULL;
    if (noisy) {
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

void xb_crossbar_layer_set_adc(xb_crossbar_layer *l, bool lossless, double lsb, int64_t lo, int64_t hi) {
    l->cfg.lossless = lossless;
    l->cfg.lsb = lsb < 1 ? 1 : lsb;
    l->cfg.code_lo = lo;
    l->cfg.code_hi = hi;
    derive_path(l);
}

/* Width of slice s (LSB first) and its bit offset. */
static int slice_width(const xb_crossbar_config *c, int s) {
    if (c->slice_bits[0]) return c->slice_bits[s];
    int mb = c->differential ? c->weight_bits - 1 : c->weight_bits;
    int left = mb - s * c->cell_bits;
    return left < c->cell_bits ? left : c->cell_bits;
}

static int slice_shift(const xb_crossbar_config *c, int s) {
    int sh = 0;
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
    double f = (double)(rows < K ? rows : K) / (double)K;
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

xb_crossbar_layer *xb_crossbar_layer_new(const xb_crossbar_config *cfg, const int8_t *w, xb_ctx *ctx) {
    const xb_crossbar_config *c = cfg;
    if (c->K < 1 || c->N < 1 || c->groups < 1 || c->rows < 1 || c->dac_bits < 1 ||
        c->cell_bits < 1 || c->cell_bits > 7 || c->weight_bits < 2 || c->weight_bits > 8 ||
        c->input_slices < 1 || c->input_slices * c->dac_bits < 1) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: invalid configuration");
        return NULL;
    }
    if (c->flip && c->differential) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: flip needs offset encoding");
        return NULL;
    }
    if (c->center && !c->differential) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: center encoding needs column pairs");
        return NULL;
    }
    if (c->K > XB_IGEMM_KMAX) {
        xb_fail(ctx, XB_ERR_INVALID, "analog layer: K = %lld exceeds %d", (long long)c->K,
                XB_IGEMM_KMAX);
        return NULL;
    }
    xb_crossbar_layer *l = xb_calloc(ctx, 1, sizeof *l);
    if (!l) return NULL;
    l->cfg = *c;
    int u = c->differential ? 2 : 1;
    int mb = c->differential ? c->weight_bits - 1 : c->weight_bits;
    if (c->slice_bits[0]) {
        int sum = 0, s = 0;
        for (; s < 16 && c->slice_bits[s]; s++) {
            if (c->slice_bits[s] < 1 || c->slice_bits[s] > c->cell_bits) break;
            sum += c->slice_bits[s];
        }
        if (s != c->w_slices || sum != mb) {
            xb_fail(ctx, XB_ERR_INVALID,
                    "analog layer: slice widths must be 1..%d bits and add up to %d", c->cell_bits,
                    mb);
            goto fail;
        }
    } else if (l->cfg.w_slices != (mb + c->cell_bits - 1) / c->cell_bits) {
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
    l->col_mask = xb_calloc(ctx, (size_t)l->C, 1);
    l->w = xb_malloc(ctx, (size_t)(c->groups * c->N * c->K));
    if (!l->lev || !l->maxlev || !l->col_shift || !l->col_sign || !l->col_n || !l->col_mask ||
        !l->w)
        goto fail;
    memcpy(l->w, w, (size_t)(c->groups * c->N * c->K));
    l->wpack = xb_malloc(ctx, (size_t)c->groups * xb_igemm_wpack_bytes(c->K, c->N) + 1);
    if (!l->wpack) goto fail;
    for (int64_t g = 0; g < c->groups; g++)
        xb_igemm_pack_w(w + g * c->N * c->K, c->K, c->N,
                        l->wpack + (size_t)g * xb_igemm_wpack_bytes(c->K, c->N));
    for (int s = 0; s < c->w_slices; s++)
        for (int pol = 0; pol < u; pol++)
            for (int64_t n = 0; n < c->N; n++) {
                int64_t col = ((int64_t)s * u + pol) * c->N + n;
                l->col_shift[col] = slice_shift(c, s);
                l->col_mask[col] = (uint8_t)((1 << slice_width(c, s)) - 1);
                l->col_sign[col] = pol ? -1 : 1;
                l->col_n[col] = n;
            }
    int wmax = (1 << (c->weight_bits - 1)) - 1, wmin = c->differential ? -wmax : -wmax - 1;
    int cmask = (1 << c->cell_bits) - 1;
    if (c->center) {
        l->center = xb_calloc(ctx, (size_t)(c->groups * c->N), sizeof(int32_t));
        if (!l->center) goto fail;
    }
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t n = 0; n < c->N; n++) {
            const int8_t *wn = w + (g * c->N + n) * c->K;
            for (int64_t k = 0; k < c->K; k++)
                if (wn[k] < wmin || wn[k] > wmax) {
                    xb_fail(ctx, XB_ERR_INVALID,
                            "weight %d (group %lld, output %lld, row %lld) does not fit %d-bit "
                            "%s encoding; quantize with --w-bits %d",
                            wn[k], (long long)g, (long long)n, (long long)k, c->weight_bits,
                            c->center ? "center" : c->differential ? "differential" : "offset",
                            c->weight_bits);
                    goto fail;
                }
            int32_t cn = 0;
            if (c->center) l->center[g * c->N + n] = cn =
                pick_center(c, wn, c->K, wmax);
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
                for (int s = 0; s < c->w_slices; s++) {
                    int64_t col = ((int64_t)s * u + pol) * c->N + n;
                    uint8_t v = (uint8_t)((mag >> l->col_shift[col]) & l->col_mask[col]);
                    row[col] = v;
                    uint8_t *mx = &l->maxlev[g * l->R + k / c->rows];
                    if (v > *mx) *mx = v;
                }
            }
        }
    /* Level sum of every column in every row block: the largest sum the
     * column can produce (times dmax), used by the path choice, flip, the
     * histogram range and the backend's SAR-cycle count. */
    l->levsum = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C), sizeof(int32_t));
    if (!l->levsum) goto fail;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t k = 0; k < c->K; k++) {
            const uint8_t *row = l->lev + (g * c->K + k) * l->C;
            int32_t *ls = l->levsum + (g * l->R + k / c->rows) * l->C;
            for (int64_t col = 0; col < l->C; col++) ls[col] += row[col];
        }
    /* ISAAC's flip: complement the columns whose block sum passes half. */
    if (c->flip) {
        l->flipped = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C), 1);
        if (!l->flipped) goto fail;
        memset(l->maxlev, 0, (size_t)(c->groups * l->R));
        for (int64_t g = 0; g < c->groups; g++)
            for (int64_t r = 0; r < l->R; r++) {
                int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
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
    if (!l->cond) {
        for (int64_t i = 0; i < c->groups * l->R * l->C; i++)
            if (l->levsum[i] > best) best = l->levsum[i];
    } else {
        for (int64_t g = 0; g < c->groups; g++)
            for (int64_t r = 0; r < l->R; r++) {
                int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
                for (int64_t col = 0; col < l->C; col++) {
                    double sum = 0;
                    for (int64_t k = k0; k < k1; k++) sum += l->cond[(g * c->K + k) * l->C + col];
                    if (sum > best) best = sum;
                }
            }
    }
    l->max_sum = (int64_t)ceil(best * (double)dmax);
    /* Per row block operands of the column-sum GEMMs: levels packed for
     * igemm ([C][rows] per block, the "weights" of that product), and the
     * conductances transposed the same way for sgemm. */
    int64_t kp = xb_igemm_kpad(c->rows < c->K ? c->rows : c->K);
    l->levp_stride = (size_t)(l->C * kp);
    l->levp = xb_calloc(ctx, (size_t)(c->groups * l->R) * l->levp_stride, 1);
    if (!l->levp) goto fail;
    if (l->cond) {
        l->condT = xb_calloc(ctx, (size_t)(c->groups * l->R * l->C * c->rows), sizeof(float));
        if (!l->condT) goto fail;
    }
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, kb = (k0 + c->rows < c->K ? k0 + c->rows : c->K) - k0;
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
    if (l->max_sum < 1) l->max_sum = 1;
    derive_path(l);
    return l;
fail:
    xb_crossbar_layer_free(l);
    return NULL;
}

void xb_crossbar_layer_free(xb_crossbar_layer *l) {
    if (!l) return;
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
    free(l->wpack);
    free(l->condT);
    free(l);
}

/* --- fast normals ---------------------------------------------------------- */

static inline float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline uint32_t float_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

/* Box-Muller pairs: SplitMix64's output for counter m (seed `key`) gives
 * u1 = k / 2^24 (k in 1..2^24, so log is finite) and u2 in [0, 1); normal
 * 2m is r cos(2 pi u2), normal 2m+1 is r sin(2 pi u2).  ln(k) from the
 * float exponent plus the atanh series ln m = 2 (s + s^3/3 + ...), s =
 * (m-1)/(m+1) <= 1/3 (relative error ~1e-6); both trigonometric values by
 * a Taylor sine on [-pi/2, pi/2] (error < 4e-6) after reducing with
 * cos(2 pi u) = -sin(2 pi (1/4 - |u - 1/2|)); sqrt by reciprocal-sqrt
 * Newton steps (libm's sqrtf may set errno, which stops vectorisation).
 * Branch-free, so the loop vectorises. */
static inline float sin_half_pi(float x) { /* |x| <= pi/2 */
    float x2 = x * x;
    return x * (1.0f - x2 * (1.0f / 6 - x2 * (1.0f / 120 - x2 * (1.0f / 5040 - x2 * (1.0f / 362880)))));
}

static void normal_pairs(uint64_t key, uint64_t m0, int64_t npairs, float *out) {
    for (int64_t i = 0; i < npairs; i++) {
        uint64_t h = mix64(key + (m0 + (uint64_t)i) * 0x9e3779b97f4a7c15ull);
        uint32_t k1 = (uint32_t)(h >> 40) + 1; /* 1 .. 2^24 */
        float u2 = (float)(uint32_t)((h >> 8) & 0xffffff) * 0x1.0p-24f;
        uint32_t b = float_to_bits((float)k1);
        float e = (float)((int32_t)(b >> 23) - 127 - 24);
        float m = bits_to_float((b & 0x7fffffu) | 0x3f800000u);
        float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
        float lnm = 2.0f * s *
                    (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
        float a = -2.0f * (lnm + e * 0.69314718f);
        a = a < 1e-30f ? 1e-30f : a;
        float y = bits_to_float(0x5f3759dfu - (float_to_bits(a) >> 1));
        y = y * (1.5f - 0.5f * a * y * y);
        y = y * (1.5f - 0.5f * a * y * y);
        y = y * (1.5f - 0.5f * a * y * y);
        float r = a * y;
        /* cos(2 pi u2) and sin(2 pi u2) = cos(2 pi (u2 - 1/4)). */
        float tc = fabsf(u2 - 0.5f);
        float u3 = u2 < 0.25f ? u2 + 0.75f : u2 - 0.25f;
        float ts = fabsf(u3 - 0.5f);
        out[2 * i] = -r * sin_half_pi(6.2831853f * (0.25f - tc));
        out[2 * i + 1] = -r * sin_half_pi(6.2831853f * (0.25f - ts));
    }
}

void xb_fast_normals(uint64_t key, uint64_t idx0, int64_t n, float *out) {
    float tmp[2 * 512 + 2];
    while (n > 0) {
        uint64_t m0 = idx0 >> 1;
        int64_t off = (int64_t)(idx0 & 1);
        int64_t take = n < 1024 - off ? n : 1024 - off;
        int64_t npairs = (off + take + 1) / 2;
        normal_pairs(key, m0, npairs, tmp);
        memcpy(out, tmp + off, (size_t)take * sizeof(float));
        out += take;
        idx0 += (uint64_t)take;
        n -= take;
    }
}

/* --- statistics ---------------------------------------------------------- */

#define HIST_MAX_BINS 4096

xb_status xb_crossbar_stats_init(xb_crossbar_stats *s, const xb_crossbar_layer *l, xb_ctx *ctx) {
    memset(s, 0, sizeof *s);
    int64_t lo = l->cfg.signed_pair ? -l->max_sum : 0, hi = l->max_sum;
    int64_t span = hi - lo + 1;
    s->hist_width = (span + HIST_MAX_BINS - 1) / HIST_MAX_BINS;
    s->hist_bins = (int)((span + s->hist_width - 1) / s->hist_width);
    s->hist_lo = lo;
    s->hist = xb_calloc(ctx, (size_t)s->hist_bins, sizeof(int64_t));
    return s->hist ? XB_OK : ctx->status;
}

void xb_crossbar_stats_merge(xb_crossbar_stats *into, const xb_crossbar_stats *from) {
    into->conversions += from->conversions;
    into->saturated += from->saturated;
    into->observed += from->observed;
    into->zeros += from->zeros;
    if (from->max_abs > into->max_abs) into->max_abs = from->max_abs;
    if (into->hist && from->hist && into->hist_bins == from->hist_bins)
        for (int i = 0; i < into->hist_bins; i++) into->hist[i] += from->hist[i];
}

void xb_crossbar_stats_free(xb_crossbar_stats *s) {
    free(s->hist);
    s->hist = NULL;
}

double xb_crossbar_stats_percentile(const xb_crossbar_stats *s, double pct) {
    /* Percentile of |value|: fold the histogram onto magnitudes (bin upper
     * edges), then walk up until the share is reached. */
    int64_t total = 0, maxmag = 0;
    for (int i = 0; i < s->hist_bins; i++) {
        total += s->hist[i];
        int64_t a = s->hist_lo + (int64_t)i * s->hist_width, b = a + s->hist_width - 1;
        int64_t m = llabs(a) > llabs(b) ? llabs(a) : llabs(b);
        if (m > maxmag) maxmag = m;
    }
    if (total == 0) return 0;
    int64_t nb = maxmag / s->hist_width + 1;
    int64_t *mag = calloc((size_t)nb, sizeof *mag);
    if (!mag) return (double)maxmag; /* no memory: the safe (widest) answer */
    for (int i = 0; i < s->hist_bins; i++) {
        int64_t a = s->hist_lo + (int64_t)i * s->hist_width, b = a + s->hist_width - 1;
        int64_t m = llabs(a) > llabs(b) ? llabs(a) : llabs(b);
        mag[m / s->hist_width] += s->hist[i];
    }
    double need = pct / 100.0 * (double)total, cum = 0;
    double ans = (double)maxmag;
    for (int64_t i = 0; i < nb; i++) {
        cum += (double)mag[i];
        if (cum >= need) {
            ans = (double)((i + 1) * s->hist_width - 1);
            if (ans > (double)maxmag) ans = (double)maxmag;
            break;
        }
    }
    free(mag);
    return ans;
}

static inline void stat_value(xb_crossbar_stats *s, double v) {
    int64_t r = llround(v);
    s->observed++;
    if (r == 0) s->zeros++;
    int64_t a = r < 0 ? -r : r;
    if (a > s->max_abs) s->max_abs = a;
    int64_t b = r < s->hist_lo ? 0 : (r - s->hist_lo) / s->hist_width;
    if (b >= s->hist_bins) b = s->hist_bins - 1;
    s->hist[b]++;
}

/* stat_value for integer column sums (ideal cells, no read noise): no
 * rounding, and no division when a bin holds one value (the usual case:
 * max_sum under HIST_MAX_BINS). */
static void stat_ints(xb_crossbar_stats *s, const int32_t *Sp, const int32_t *Sn, int64_t n) {
    int64_t zeros = 0, mx = s->max_abs, lo = s->hist_lo, top = s->hist_bins - 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = Sn ? (int64_t)Sp[i] - Sn[i] : Sp[i];
        zeros += r == 0;
        int64_t a = r < 0 ? -r : r;
        mx = a > mx ? a : mx;
        int64_t b = r < lo ? 0 : s->hist_width == 1 ? r - lo : (r - lo) / s->hist_width;
        s->hist[b > top ? top : b]++;
    }
    s->observed += n;
    s->zeros += zeros;
    s->max_abs = mx;
}

/* --- execution ----------------------------------------------------------- */

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Positions per chunk: the column sums of one chunk, C x (J * Pt) values,
 * stay around 512 KB so they are still in cache for the ADC pass. */
static int64_t chunk_positions(const xb_crossbar_layer *l, int64_t P) {
    int64_t per = l->C * l->cfg.input_slices;
    int64_t pt = (131072 / (per > 0 ? per : 1)) & ~(int64_t)15;
    if (pt < 16) pt = 16;
    if (pt > P) pt = P;
    return pt;
}

typedef struct {
    uint8_t *igs;   /* igemm scratch (exact / correction paths) */
    uint8_t *dp;    /* packed digits [kpad(rows)][ppad(J*Pt)] */
    float *df;      /* float digits [rows][J*Pt] (conductance path) */
    void *S;        /* column sums [C][J*Pt], int32 or float */
    float *noise;   /* [C][J*Pt] read noise */
    float *vbuf;    /* [C][J*Pt] analog values before the ADC */
    double *accd;   /* [N][Pt] */
    int64_t *xsum;  /* [Pt] */
    int32_t *dsum;  /* flip: [J*Pt] digit sums of the row block */
    int32_t *qcols; /* correction path: first position of each kept run [J*Pt] */
    uint8_t *qj;    /* ... and its digit [J*Pt] */
    int64_t *corr;  /* correction path: [N][Pt] exact sum of clip corrections */
    uint32_t *qw;   /* correction path: [Pt] one k-quad's codes interleaved */
    uint8_t *sg;    /* sgemm scratch */
} scratch_t;

static size_t sgemm_bytes(const xb_crossbar_layer *l, int64_t cols) {
    return l->cond ? xb_sgemm_scratch_bytes(l->C, cols, l->cfg.rows) : 0;
}

static size_t carve(const xb_crossbar_layer *l, int64_t P, uint8_t *base, scratch_t *s) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t pt = chunk_positions(l, P), cols = c->input_slices * pt;
    size_t off = 0;
#define TAKE(field, bytes)                                                                         \
    do {                                                                                           \
        if (s) s->field = (void *)(base + off);                                                    \
        off += align64(bytes);                                                                     \
    } while (0)
    TAKE(igs, xb_igemm_xpack_bytes(c->K, P));
    TAKE(dp, (size_t)(xb_igemm_kpad(c->rows) * xb_igemm_ppad(cols)));
    TAKE(df, l->cond ? (size_t)(c->rows * cols) * sizeof(float) : 0);
    TAKE(S, (size_t)(l->C * cols) * 4);
    TAKE(noise, (size_t)(l->C * cols) * sizeof(float));
    TAKE(vbuf, (size_t)(l->C * cols) * sizeof(float));
    TAKE(accd, (size_t)(c->N * pt) * sizeof(double));
    TAKE(xsum, (size_t)pt * sizeof(int64_t));
    TAKE(dsum, l->flipped ? (size_t)cols * sizeof(int32_t) : 0);
    TAKE(qcols, (size_t)cols * sizeof(int32_t));
    TAKE(qj, (size_t)cols);
    TAKE(corr, (size_t)(c->N * pt) * sizeof(int64_t));
    TAKE(qw, (size_t)pt * sizeof(uint32_t));
    TAKE(sg, sgemm_bytes(l, cols));
#undef TAKE
    return off;
}

size_t xb_crossbar_scratch_bytes(const xb_crossbar_layer *l, int64_t P) {
    return carve(l, P, NULL, NULL) + 64;
}

static int32_t clamp_i32(double v) {
    if (v > 2147483647.0) return 2147483647;
    if (v < -2147483648.0) return (-2147483647 - 1);
    return (int32_t)llrint(v);
}

/* Digits of row block [k0, k0+kb) for positions [p0, p0+pt), packed for
 * igemm: column j*pt + q holds digit j of x[k][p0+q]. */
static void pack_digits(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                        int64_t kb, int64_t p0, int64_t pt, uint8_t *dp) {
    int J = c->input_slices, d = c->dac_bits;
    uint32_t dm = (1u << d) - 1;
    int64_t cols = J * pt, Pp = xb_igemm_ppad(cols);
    /* Four rows (one k-quad of the packed layout) at a time, so each
     * (digit, position) writes one 4-byte word; rows past kb read as 0. */
    for (int64_t k = 0; k < kb; k += 4) {
        const uint8_t *r[4];
        for (int i = 0; i < 4; i++) r[i] = k + i < kb ? x + (k0 + k + i) * P + p0 : NULL;
        uint8_t *dst = dp + (k >> 2) * Pp * 4;
        for (int j = 0; j < J; j++) {
            uint8_t *dj = dst + (int64_t)j * pt * 4;
            int sh = j * d;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            if (r[3]) {
                /* Little-endian: byte i of the word is row k + i.  dj is
                 * 4-byte aligned (64-aligned buffer, offsets multiple of 4). */
                const uint8_t *a0 = r[0], *a1 = r[1], *a2 = r[2], *a3 = r[3];
                uint32_t *dw = (uint32_t *)(void *)dj;
                for (int64_t q = 0; q < pt; q++)
                    dw[q] = ((uint32_t)(a0[q] >> sh) & dm) | (((uint32_t)(a1[q] >> sh) & dm) << 8) |
                            (((uint32_t)(a2[q] >> sh) & dm) << 16) |
                            (((uint32_t)(a3[q] >> sh) & dm) << 24);
            } else
#endif
            {
                for (int64_t q = 0; q < pt; q++)
                    for (int i = 0; i < 4; i++)
                        dj[q * 4 + i] = r[i] ? (uint8_t)((r[i][q] >> sh) & dm) : 0;
            }
        }
    }
    xb_igemm_pack_x_clear(dp, kb, cols);
}

static void float_digits(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                         int64_t kb, int64_t p0, int64_t pt, float *df) {
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    int64_t cols = J * pt;
    for (int64_t k = 0; k < kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++)
                df[k * cols + j * pt + q] = (float)((xr[q] >> (j * d)) & dm);
    }
}

/* Flip: D[j][q] = sum of digit j over the block's rows, for positions
 * [p0, p0+pt) (the unit column). */
static void digit_sums(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                       int64_t kb, int64_t p0, int64_t pt, int32_t *D) {
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    memset(D, 0, (size_t)(J * pt) * sizeof *D);
    for (int64_t k = 0; k < kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++) D[j * pt + q] += (int32_t)((xr[q] >> (j * d)) & dm);
    }
}

/* Full simulation: per row block, all column sums of a chunk of positions
 * come from one GEMM of the level block [C][kb] with the digit matrix
 * [kb][J*pt] (igemm for ideal cells, sgemm for physical conductances);
 * the ADC pass then converts each and shift-adds into accd. */
static void run_full(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                     int64_t image, bool profile, int32_t *acc, const scratch_t *s,
                     xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    int J = c->input_slices, d = c->dac_bits;
    int64_t C = l->C, N = c->N;
    int64_t ncc = c->signed_pair ? C / 2 : C; /* conversions per (r, j, p) */
    int64_t pt_max = chunk_positions(l, P);
    uint64_t nkey = xb_hash4(c->seed, layer_key(c, TAG_READ), (uint64_t)image,
                             (uint64_t)c->layer_id);
    bool int_sums = l->cond == NULL;
    bool simple = int_sums && c->read_sigma == 0 && c->lsb == 1.0; /* y = clamp(S) */
    double lo = (double)c->code_lo, hi = (double)c->code_hi, lsb = c->lsb, inv = 1.0 / c->lsb;
    bool lossless = c->lossless;
    int64_t sat = 0;
    double pow2[64];
    for (int i = 0; i < 64; i++) pow2[i] = ldexp(1.0, i);
    for (int64_t p0 = 0; p0 < P; p0 += pt_max) {
        int64_t pt = P - p0 < pt_max ? P - p0 : pt_max, cols = J * pt;
        for (int64_t q = 0; q < pt; q++) s->xsum[q] = 0;
        for (int64_t k = 0; k < c->K; k++)
            for (int64_t q = 0; q < pt; q++) s->xsum[q] += x[k * P + p0 + q];
        for (int64_t i = 0; i < N * pt; i++) s->accd[i] = 0;
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, kb = (k0 + c->rows < c->K ? k0 + c->rows : c->K) - k0;
            if (int_sums) {
                pack_digits(c, x, P, k0, kb, p0, pt, s->dp);
                xb_igemm_packed(l->levp + (size_t)(g * l->R + r) * l->levp_stride, s->dp, kb, C,
                                cols, (int32_t *)s->S);
            } else {
                float_digits(c, x, P, k0, kb, p0, pt, s->df);
                xb_sgemm(false, false, C, cols, kb,
                         l->condT + (size_t)((g * l->R + r) * C * c->rows), kb, s->df, cols,
                         (float *)s->S, cols, false, s->sg);
            }
            const uint8_t *flr = l->flipped ? l->flipped + (g * l->R + r) * C : NULL;
            if (flr) digit_sums(c, x, P, k0, kb, p0, pt, s->dsum);
            if (!simple) {
                /* Analog values of every conversion of this block and chunk,
                 * then their read noise in one batch.  Conversion index:
                 * unique per (group, block, chunk, column, digit, position)
                 * and independent of threads. */
                for (int64_t cc = 0; cc < ncc; cc++) {
                    int64_t col = c->signed_pair ? (cc / N) * 2 * N + cc % N : cc;
                    float *v = s->vbuf + cc * cols;
                    if (int_sums) {
                        const int32_t *Sp = (const int32_t *)s->S + col * cols;
                        for (int64_t i = 0; i < cols; i++)
                            v[i] = (float)(c->signed_pair ? Sp[i] - Sp[i + N * cols] : Sp[i]);
                    } else {
                        const float *Sp = (const float *)s->S + col * cols;
                        for (int64_t i = 0; i < cols; i++)
                            v[i] = c->signed_pair ? Sp[i] - Sp[i + N * cols] : Sp[i];
                    }
                }
                if (c->read_sigma > 0) {
                    int64_t nchunks = (P + pt_max - 1) / pt_max;
                    uint64_t idx = (((uint64_t)g * (uint64_t)l->R + (uint64_t)r) * (uint64_t)nchunks +
                                    (uint64_t)(p0 / pt_max)) * (uint64_t)(ncc * J * pt_max);
                    xb_fast_normals(nkey, idx, ncc * cols, s->noise);
                    float sg = (float)c->read_sigma;
                    for (int64_t i = 0; i < ncc * cols; i++) s->vbuf[i] += sg * s->noise[i];
                }
                /* Every conversion of the block in one vectorised pass;
                 * vbuf then holds the reconstructed values. */
                float *vb = s->vbuf;
                int64_t tot = ncc * cols, ns = 0;
                if (profile && st)
                    for (int64_t i = 0; i < tot; i++) stat_value(st, (double)vb[i]);
                if (lossless) {
                    for (int64_t i = 0; i < tot; i++) vb[i] = nearbyintf(vb[i]);
                } else {
                    float finv = (float)inv, flsb = (float)lsb, flo = (float)lo, fhi = (float)hi;
                    for (int64_t i = 0; i < tot; i++) {
                        float code = nearbyintf(vb[i] * finv);
                        float y = code > fhi ? fhi : code < flo ? flo : code;
                        ns += y != code;
                        vb[i] = y * flsb;
                    }
                }
                sat += ns;
            }
            for (int64_t cc = 0; cc < ncc; cc++) {
                /* Signed pair: columns (s, +, n) = s*2N + n and (s, -, n) =
                 * s*2N + N + n are subtracted before the one conversion. */
                int64_t col = c->signed_pair ? (cc / N) * 2 * N + cc % N : cc;
                int64_t n = l->col_n[col];
                double sign = c->signed_pair ? 1.0 : (double)l->col_sign[col];
                double *an = s->accd + n * pt;
                if (flr && flr[col]) {
                    /* S = cmask * D - S': the D part digitally, the
                     * converted S' with the opposite sign below. */
                    for (int j = 0; j < J; j++) {
                        double cf = sign * l->col_mask[col] * pow2[j * d + l->col_shift[col]];
                        const int32_t *D = s->dsum + (int64_t)j * pt;
                        for (int64_t q = 0; q < pt; q++) an[q] += cf * (double)D[q];
                    }
                    sign = -sign;
                }
                for (int j = 0; j < J; j++) {
                    double coef = sign * pow2[j * d + l->col_shift[col]];
                    int64_t off = col * cols + (int64_t)j * pt;
                    if (simple) {
                        const int32_t *Sp = (const int32_t *)s->S + off;
                        const int32_t *Sn = c->signed_pair ? Sp + N * cols : NULL;
                        int32_t ilo = (int32_t)c->code_lo, ihi = (int32_t)c->code_hi;
                        int64_t ns = 0;
                        if (lossless) {
                            for (int64_t q = 0; q < pt; q++) {
                                int32_t v = Sn ? Sp[q] - Sn[q] : Sp[q];
                                an[q] += coef * (double)v;
                            }
                        } else {
                            for (int64_t q = 0; q < pt; q++) {
                                int32_t v = Sn ? Sp[q] - Sn[q] : Sp[q];
                                int32_t y = v > ihi ? ihi : v < ilo ? ilo : v;
                                ns += y != v;
                                an[q] += coef * (double)y;
                            }
                        }
                        sat += ns;
                        if (profile && st) stat_ints(st, Sp, Sn, pt);
                        continue;
                    }
                    /* Converted values (y, in vbuf) come from the batch
                     * conversion above.  Few positions (Gemm layers): the
                     * digits of one column are summed in a register below
                     * instead. */
                    if (pt < 8) break;
                    const float *y = s->vbuf + cc * cols + (int64_t)j * pt;
                    for (int64_t q = 0; q < pt; q++) an[q] += coef * (double)y[q];
                }
                if (!simple && pt < 8) {
                    const float *y = s->vbuf + cc * cols;
                    for (int64_t q = 0; q < pt; q++) {
                        double t = 0;
                        for (int j = 0; j < J; j++)
                            t += pow2[j * d + l->col_shift[col]] * (double)y[(int64_t)j * pt + q];
                        an[q] += sign * t;
                    }
                }
            }
        }
        /* The digital term: offset encoding's bias, or the center c_n. */
        for (int64_t n = 0; n < N; n++) {
            double offw = l->center     ? -(double)l->center[g * N + n]
                          : c->differential ? 0.0
                                            : ldexp(1.0, c->weight_bits - 1);
            for (int64_t q = 0; q < pt; q++)
                acc[n * P + p0 + q] = clamp_i32(s->accd[n * pt + q] - offw * (double)s->xsum[q]);
        }
    }
    if (st) {
        st->conversions += P * l->R * J * ncc;
        st->saturated += sat;
    }
}

/* Clipping ADC with LSB 1 and no noise: acc already holds the exact
 * product.  Only (digit, position) columns of a row block whose bound
 * X1 * max level (X1 = sum of the digits in the block) exceeds the ADC
 * range can clip.  Flagged columns are taken in runs of RUN positions of
 * one digit plane (a run is kept if any of its columns is flagged): runs
 * pack four rows per 32-bit word with vector code, where picking single
 * columns would cost a scalar gather per byte, more than the GEMM work it
 * saves.  The column sums of the kept runs come from one GEMM, and every
 * clipped conversion corrects acc by sign * (clip(S) - S) * 2^shift,
 * summed exactly in int64 per output and position (corr) and applied once
 * per chunk, so the result equals the full simulation's. */
#define RUN 16

static void run_correction(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                           int32_t *acc, const scratch_t *s, xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    int64_t C = l->C, N = c->N;
    int64_t ncc = c->signed_pair ? C / 2 : C;
    int64_t thr = c->signed_pair ? (c->code_hi < -c->code_lo ? c->code_hi : -c->code_lo)
                                 : c->code_hi;
    int32_t ilo = (int32_t)c->code_lo, ihi = (int32_t)c->code_hi;
    uint32_t ulo = (uint32_t)ilo, uspan = (uint32_t)ihi - (uint32_t)ilo;
    int64_t pt_max = chunk_positions(l, P);
    int64_t sat = 0;
    for (int64_t p0 = 0; p0 < P; p0 += pt_max) {
        int64_t pt = P - p0 < pt_max ? P - p0 : pt_max, nrb = (pt + RUN - 1) / RUN;
        int64_t *corr = s->corr;
        memset(corr, 0, (size_t)(N * pt) * sizeof *corr);
        bool touched = false;
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = r * c->rows, kb = (k0 + c->rows < c->K ? k0 + c->rows : c->K) - k0;
            int64_t ml = l->maxlev[g * l->R + r];
            if (ml == 0) continue;
            /* X1 > lim  <=>  X1 * ml > thr  (integers, ml > 0). */
            int64_t lim = thr < 0 ? -1 : thr / ml;
            /* X1 per (j, q) in one pass over the rows (contiguous in q), in
             * bytes when a block's digit sum fits (1-bit DACs, up to 255
             * rows: 64 lanes per vector instead of 16). */
            bool bytes = (int64_t)kb * dm <= 255;
            int32_t *x1 = (int32_t *)s->S;
            uint8_t *x8 = (uint8_t *)s->S;
            if (bytes) {
                memset(x8, 0, (size_t)(J * pt));
                for (int64_t k = 0; k < kb; k++) {
                    const uint8_t *xr = x + (k0 + k) * P + p0;
                    for (int j = 0; j < J; j++) {
                        uint8_t *xj = x8 + (int64_t)j * pt;
                        int sh = j * d;
                        for (int64_t q = 0; q < pt; q++) xj[q] += (uint8_t)((xr[q] >> sh) & dm);
                    }
                }
            } else {
                memset(x1, 0, (size_t)(J * pt) * sizeof *x1);
                for (int64_t k = 0; k < kb; k++) {
                    const uint8_t *xr = x + (k0 + k) * P + p0;
                    for (int j = 0; j < J; j++) {
                        int32_t *xj = x1 + (int64_t)j * pt;
                        for (int64_t q = 0; q < pt; q++) xj[q] += (xr[q] >> (j * d)) & dm;
                    }
                }
            }
            int64_t nr = 0, nsel = 0;
            for (int j = 0; j < J; j++)
                for (int64_t rb = 0; rb < nrb; rb++) {
                    int64_t q0 = rb * RUN, w = pt - q0 < RUN ? pt - q0 : RUN;
                    int32_t f = 0;
                    if (bytes) {
                        const uint8_t *xq = x8 + (int64_t)j * pt + q0;
                        for (int64_t i = 0; i < w; i++) f |= xq[i] > lim;
                    } else {
                        const int32_t *xq = x1 + (int64_t)j * pt + q0;
                        for (int64_t i = 0; i < w; i++) f |= xq[i] > lim;
                    }
                    if (!f) continue;
                    s->qj[nr] = (uint8_t)j;
                    s->qcols[nr++] = (int32_t)q0;
                    nsel += w;
                }
            if (!nr) continue;
            touched = true;
            /* Pack the runs' digits: four rows (one k-quad) per word. */
            int64_t Pp = xb_igemm_ppad(nsel);
            for (int64_t k = 0; k < kb; k += 4) {
                /* The k-quad's raw codes interleaved once (byte i of word q =
                 * row k + i, rows past kb 0); each run's digits are then
                 * (word >> shift) & mask per byte: bits a shift pulls in from
                 * the next byte land above the byte's own bits and are masked
                 * off. */
                uint32_t *qw = s->qw;
                const uint8_t *rw[4];
                for (int i = 0; i < 4; i++) rw[i] = k + i < kb ? x + (k0 + k + i) * P + p0 : NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                if (rw[3]) {
                    const uint8_t *a0 = rw[0], *a1 = rw[1], *a2 = rw[2], *a3 = rw[3];
                    for (int64_t q = 0; q < pt; q++)
                        qw[q] = (uint32_t)a0[q] | ((uint32_t)a1[q] << 8) |
                                ((uint32_t)a2[q] << 16) | ((uint32_t)a3[q] << 24);
                } else
#endif
                {
                    uint8_t *qb = (uint8_t *)qw;
                    for (int64_t q = 0; q < pt; q++)
                        for (int i = 0; i < 4; i++) qb[q * 4 + i] = rw[i] ? rw[i][q] : 0;
                }
                uint32_t *dst = (uint32_t *)(void *)(s->dp + (k >> 2) * Pp * 4);
                int64_t pos = 0;
                for (int64_t ri = 0; ri < nr; ri++) {
                    int sh = s->qj[ri] * d;
                    /* The top digit may be cut by the byte's end (j * d + d
                     * > 8): only the bits still inside it count. */
                    uint32_t mask = (dm & (0xffu >> sh)) * 0x01010101u;
                    int64_t q0 = s->qcols[ri];
                    const uint32_t *src = qw + q0;
                    uint32_t *dw = dst + pos;
                    if (pt - q0 >= RUN) {
                        for (int i = 0; i < RUN; i++) dw[i] = (src[i] >> sh) & mask;
                        pos += RUN;
                    } else {
                        for (int64_t i = 0; i < pt - q0; i++) dw[i] = (src[i] >> sh) & mask;
                        pos += pt - q0;
                    }
                }
            }
            xb_igemm_pack_x_clear(s->dp, kb, nsel);
            xb_igemm_packed(l->levp + (size_t)(g * l->R + r) * l->levp_stride, s->dp, kb, C, nsel,
                            (int32_t *)s->S);
            const int32_t *S = (const int32_t *)s->S;
            for (int64_t cc = 0; cc < ncc; cc++) {
                /* Signed pair: columns (s, +, n) = s*2N + n and (s, -, n) =
                 * s*2N + N + n are subtracted before the one conversion. */
                int64_t col = c->signed_pair ? (cc / N) * 2 * N + cc % N : cc;
                const int32_t *Sp = S + col * nsel, *Sn = c->signed_pair ? Sp + N * nsel : NULL;
                int64_t sign = c->signed_pair ? 1 : l->col_sign[col];
                /* A flipped column's converted value enters negated. */
                if (l->flipped && l->flipped[(g * l->R + r) * C + col]) sign = -sign;
                int64_t *cn = corr + l->col_n[col] * pt;
                /* Whole column first, one vector pass (one unsigned
                 * compare per value against the code range): many columns
                 * clip nowhere. */
                uint32_t any = 0;
                if (Sn) {
                    for (int64_t i = 0; i < nsel; i++) any |= (uint32_t)(Sp[i] - Sn[i]) - ulo > uspan;
                } else {
                    for (int64_t i = 0; i < nsel; i++) any |= (uint32_t)Sp[i] - ulo > uspan;
                }
                if (!any) continue;
                int64_t pos = 0, ns = 0;
                for (int64_t ri = 0; ri < nr; ri++) {
                    int64_t q0 = s->qcols[ri], w = pt - q0 < RUN ? pt - q0 : RUN;
                    int64_t wgt = sign * ((int64_t)1 << (s->qj[ri] * d + l->col_shift[col]));
                    const int32_t *a = Sp + pos;
                    int64_t *cq = cn + q0;
                    if (w == RUN) {
                        /* The same test per run: most runs clip nowhere. */
                        uint32_t m = 0;
                        if (Sn) {
                            const int32_t *bn = Sn + pos;
                            for (int i = 0; i < RUN; i++)
                                m |= (uint32_t)(a[i] - bn[i]) - ulo > uspan;
                        } else {
                            for (int i = 0; i < RUN; i++) m |= (uint32_t)a[i] - ulo > uspan;
                        }
                        if (!m) {
                            pos += w;
                            continue;
                        }
                    }
                    if (Sn) {
                        const int32_t *bn = Sn + pos;
                        for (int64_t i = 0; i < w; i++) {
                            int32_t v = a[i] - bn[i];
                            int32_t y = v > ihi ? ihi : v < ilo ? ilo : v;
                            ns += y != v;
                            cq[i] += (int64_t)(y - v) * wgt;
                        }
                    } else {
                        for (int64_t i = 0; i < w; i++) {
                            int32_t v = a[i];
                            int32_t y = v > ihi ? ihi : v < ilo ? ilo : v;
                            ns += y != v;
                            cq[i] += (int64_t)(y - v) * wgt;
                        }
                    }
                    pos += w;
                }
                sat += ns;
            }
        }
        if (!touched) continue;
        for (int64_t n = 0; n < N; n++) {
            int32_t *an = acc + n * P + p0;
            const int64_t *cn = corr + n * pt;
            for (int64_t q = 0; q < pt; q++) {
                int64_t t = (int64_t)an[q] + cn[q];
                an[q] = (int32_t)(t > INT32_MAX ? INT32_MAX : t < INT32_MIN ? INT32_MIN : t);
            }
        }
    }
    if (st) {
        st->conversions += P * l->R * J * ncc;
        st->saturated += sat;
    }
}

void xb_crossbar_matmul(const xb_crossbar_layer *l, int group, const uint8_t *x, int64_t P,
                      int64_t image, bool profile, int32_t *acc, void *scratch,
                      xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    scratch_t s;
    carve(l, P, base, &s);
    int64_t g = group;
    if (profile || l->path == XB_XPATH_FULL) {
        run_full(l, g, x, P, image, profile, acc, &s, st);
        return;
    }
    /* Weights were packed at build: only x is packed per call, as the
     * int8 reference does. */
    xb_igemm_pack_x(x, c->K, P, s.igs);
    xb_igemm_packed(l->wpack + (size_t)g * xb_igemm_wpack_bytes(c->K, c->N), s.igs, c->K, c->N,
                    P, acc);
    if (l->path == XB_XPATH_CORRECTION) {
        run_correction(l, g, x, P, acc, &s, st);
    } else {
        xb_crossbar_count_exact(l, P, st);
    }
}

void xb_crossbar_count_exact(const xb_crossbar_layer *l, int64_t P, xb_crossbar_stats *st) {
    if (!st) return;
    int64_t ncc = l->cfg.signed_pair ? l->C / 2 : l->C;
    st->conversions += P * l->R * l->cfg.input_slices * ncc;
}
