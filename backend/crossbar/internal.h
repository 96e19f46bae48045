/* Private to backend/crossbar/: what the construction, conversion and
 * statistics files share beyond the public crossbar.h. */
#ifndef XBAR_CROSSBAR_INTERNAL_H
#define XBAR_CROSSBAR_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/crossbar/crossbar.h"
#include "backend/crossbar/hist.h"

/* Draw kinds, folded into the random-number key so the streams never
 * overlap. */
enum { TAG_PROG = 1, TAG_STUCK = 2, TAG_READ = 3, TAG_DRIFT = 4, TAG_ADC = 5, TAG_TABLE = 6 };
enum { TAG_READ_INT = 7 }; /* integer read noise (dnoise.h), since session 8 */
enum { TAG_SPEC = 17 }; /* speculate.c's read noise */

static inline uint64_t layer_key(const xb_crossbar_config *c, int tag) {
    return ((uint64_t)(uint32_t)c->layer_id << 8) | (uint64_t)tag;
}

/* The full paths' outputs of one chunk [p0, p0 + pt) of group g: acc[n P +
 * p0 + q] = accd[n pt + q] minus the digital term (offset encoding's bias
 * 2^(wb-1) or the center c_n, times the inputs' sum xsum[q]), rounded to
 * nearest and clamped to int32, in a loop that vectorises: inside the
 * int32 range llrint (the rounding mode never changes) and nearbyint give
 * the same integer, which the conversion keeps; a NaN, which llrint turns
 * into LLONG_MIN and its int32 into 0, is 0 here too.  (A clamp and llrint
 * per value was a libm call per output: 1% of a calibrated-ADC run in
 * llrint alone, perf, session 13.)  convert.c and speculate.c share it. */
static inline void xb_full_outputs(const xb_crossbar_layer *l, int64_t g,
                                   const double *restrict accd, const int64_t *restrict xsum,
                                   int64_t pt, int64_t P, int64_t p0, int32_t *restrict acc) {
    const xb_crossbar_config *c = &l->cfg;
    for (int64_t n = 0; n < c->N; n++) {
        double offw = l->center       ? -(double)l->center[g * c->N + n]
                      : c->differential ? 0.0
                                        : ldexp(1.0, c->weight_bits - 1);
        const double *a = accd + n * pt;
        int32_t *out = acc + n * P + p0;
        for (int64_t q = 0; q < pt; q++) {
            double v = a[q] - offw * (double)xsum[q];
            double r = v > 2147483647.0    ? 2147483647.0
                       : v < -2147483648.0 ? -2147483648.0
                                           : nearbyint(v);
            out[q] = v != v ? 0 : (int32_t)r;
        }
    }
}

/* Positions per chunk: the column sums of one chunk, C x (J * Pt) values,
 * stay around 512 KB so they are still in cache for the ADC pass. */
static inline int64_t chunk_positions(const xb_crossbar_layer *l, int64_t P) {
    int64_t per = l->C * l->cfg.input_slices;
    int64_t pt = (131072 / (per > 0 ? per : 1)) & ~(int64_t)15;
    if (pt < 16) pt = 16;
    if (pt > P) pt = P;
    return pt;
}

/* Per-call scratch, carved from the caller's buffer (convert.c). */
typedef struct {
    uint8_t *igs;   /* igemm scratch (exact / correction paths) */
    uint8_t *dp;    /* packed digits [kpad(rows)][ppad(J*Pt)] */
    float *df;      /* float digits [rows][J*Pt] (conductance path) */
    void *S;        /* column sums [C][J*Pt], int32 or float */
    float *noise;   /* [C][J*Pt] read noise */
    float *vbuf;    /* [C][J*Pt] analog values before the ADC */
    double *accd;   /* [N][Pt] */
    int64_t *xsum;  /* [Pt] */
    int32_t *dsum;  /* flip, off compensation: [J*Pt] digit sums of the row block */
    int32_t *nsq;   /* read_row_sigma: [J*Pt] sums of squared digits of the row block */
    int32_t *qcols; /* correction path: first position of each kept run [J*Pt] */
    uint8_t *qj;    /* ... and its digit [J*Pt] */
    int64_t *corr;  /* correction path: [N][Pt] exact sum of clip corrections, or
                     * [Pt][xb_bits_corr_ld(N)] on the sorted popcount path */
    uint32_t *qw;   /* correction path: [Pt] one k-quad's codes interleaved */
    uint8_t *sg;    /* sgemm scratch */
    double *sarw;   /* SAR bounds (sar.c): digit sums, group totals, running sums */
    uint8_t *ictl;  /* input control: [J*Pt] 1 = the block's digits are all zero */
    uint8_t *bits;  /* popcount column sums (bitsums.c): transposed bytes and masks */
    uint8_t *srt;   /* sorted popcount corrections (bitsums.c): bucketed positions and
                       their X1, the output groups' thresholds, signs and shifts */
    uint8_t *zrun;  /* integer read noise: [J][runs of 16 positions] 1 = no active row */
    uint32_t *hsub; /* profile statistics: xb_stat_acc_bytes */
    size_t hsub_bytes;
} scratch_t;

/* Whether the full simulation converts this layer with the integer read
 * noise (convert.c, dnoise.h) rather than the float normals. */
bool xb_crossbar_int_noise(const xb_crossbar_layer *l);

/* Input control (input_control.c): marks in s->ictl the (digit, position)
 * columns of rows [k0, k0+kb) whose digits are all zero, zeroes their
 * values in vbuf[ncc][J*pt] (when vbuf is not NULL) and returns how many
 * conversions that leaves out. */
int64_t xb_input_control(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                         int64_t kb, int64_t p0, int64_t pt, int64_t ncc, uint8_t *ictl,
                         float *vbuf);

/* Device and circuit non-idealities (device.c). */
/* No cell departs from its ideal level (conductances not needed). */
bool xb_cells_ideal(const xb_crossbar_config *c);
/* Physical conductances l->cond: stuck cells, programming noise, off
 * state, drift (and its compensation factor), IR drop. */
xb_status xb_device_program(xb_crossbar_layer *l, xb_ctx *ctx);
/* Per-ADC offset, gain and INL draws into l->adc_err (when any is on). */
xb_status xb_device_adc(xb_crossbar_layer *l, xb_ctx *ctx);
/* The ADC transfer of one value v (unit levels) with error e[3] of its
 * ADC: v (1 + gain) + (offset + INL(v)) x LSB, INL a bow peaking at
 * mid-scale. */
static inline float adc_distort(const xb_crossbar_config *c, const float *e, float v) {
    float lsb = (float)c->lsb, span = (float)(c->code_hi - c->code_lo);
    float x = (v / lsb - (float)c->code_lo) / (span > 0 ? span : 1.0f);
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    return v * (1.0f + e[1]) + (e[0] + e[2] * 4.0f * x * (1.0f - x)) * lsb;
}

/* The correction path (correction.c): acc holds the exact product on entry. */
void xb_crossbar_run_correction(const xb_crossbar_layer *l, int64_t g, const uint8_t *x,
                                int64_t P, int32_t *acc, const scratch_t *s,
                                xb_crossbar_stats *st);

/* Profile images of an exact or correction layer (correction.c): the
 * correction path's result, every conversion's value in the statistics (acc
 * holds the exact product on entry). */
void xb_crossbar_run_profiled(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                              int32_t *acc, const scratch_t *s, xb_crossbar_stats *st);

/* Speculative input slicing (speculate.c): what it supports, scratch
 * bytes and the run. */
xb_status xb_spec_check(const xb_crossbar_config *c, xb_ctx *ctx);
size_t xb_spec_scratch_bytes(const xb_crossbar_layer *l, int64_t P);
void xb_spec_run(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                 int64_t image, bool profile, int32_t *acc, void *scratch, xb_crossbar_stats *st);

/* One observed pre-ADC value into the statistics. */
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

/* The statistics of one profile call (stats.c): histogram copies in
 * caller scratch (xb_stat_acc_bytes), folded into the stats by _end.
 * _begin returns false when the stats' bins are not one value each (then
 * use stat_ints). */
typedef struct {
    uint32_t *h;      /* [16][bins] */
    int64_t bins, lo; /* the stats' histogram: bin b holds value lo + b */
    int64_t zeros;    /* zeros counted outside the copies (all-zero runs) */
    int64_t observed;
    xb_hist_bits hb;  /* xb_stat_acc_ints' counts (hist.h), into copy 0 */
    int rows;         /* copies in use */
} xb_stat_acc;
size_t xb_stat_acc_bytes(const xb_crossbar_layer *l);
bool xb_stat_acc_begin(xb_stat_acc *a, const xb_crossbar_stats *st, void *mem, size_t bytes);
/* The same for xb_stat_acc_ints / _bitsums only (one copy). */
bool xb_stat_acc_begin_ints(xb_stat_acc *a, const xb_crossbar_stats *st, void *mem, size_t bytes);
void xb_stat_acc_ints(xb_stat_acc *a, const int32_t *Sp, const int32_t *Sn, int64_t n);
void xb_stat_acc_end(xb_stat_acc *a, xb_crossbar_stats *st);
/* xb_stat_acc_ints of block blk's popcount column sums over nr runs of nsel
 * positions (what xb_bits_sums would store), counted without storing them;
 * single-column conversions only (no signed pairs); x1: the digit sums
 * (xb_bits_x1). */
void xb_stat_acc_bitsums(xb_stat_acc *a, const xb_crossbar_layer *l, int64_t blk,
                         const uint64_t *bm, int64_t pt, const uint8_t *qj, const int32_t *qcols,
                         int64_t nr, int64_t nsel, const uint8_t *x1);

/* stat_value over n values, in the lane copies when hsub allows (stats.c). */
void xb_stat_floats(xb_crossbar_stats *st, const float *v, int64_t n, uint32_t *hsub,
                    size_t hsub_bytes);

/* stat_value for integer column sums (ideal cells, no read noise): no
 * rounding, and no division when a bin holds one value (the usual case:
 * max_sum under the histogram's bin limit). */
void xb_stat_ints_unit(xb_crossbar_stats *s, const int32_t *Sp, const int32_t *Sn, int64_t n);
/* Any bins, values outside them clamped into the end bins (noisy sums
 * can leave the noise-free range: dnoise.c). */
static inline void stat_ints_clamped(xb_crossbar_stats *s, const int32_t *Sp, const int32_t *Sn,
                                     int64_t n) {
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
static inline void stat_ints(xb_crossbar_stats *s, const int32_t *Sp, const int32_t *Sn,
                             int64_t n) {
    if (s->hist_width == 1 && s->hist_lo <= 0) { /* the usual case: stats.c */
        xb_stat_ints_unit(s, Sp, Sn, n);
        return;
    }
    stat_ints_clamped(s, Sp, Sn, n);
}

#endif
