/* ADC statistics of a crossbar layer: counts and a histogram of the
 * pre-ADC values, kept in integers so merging the per-worker copies is
 * order-independent.  The hot-loop recorders (stat_value, stat_ints) are in
 * internal.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/internal.h"
#include "backend/crossbar/noise.h"

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
    into->spec_units += from->spec_units;
    into->spec_recovered += from->spec_recovered;
    into->skipped += from->skipped;
    into->dac_pulses += from->dac_pulses;
    into->fused_blocks += from->fused_blocks;
    if (from->max_abs > into->max_abs) into->max_abs = from->max_abs;
    into->sar_convs += from->sar_convs;
    into->sar_trials += from->sar_trials;
    into->sar_units += from->sar_units;
    into->sar_trials_col += from->sar_trials_col;
    into->sar_logic += from->sar_logic;
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

void xb_crossbar_stats_clear(xb_crossbar_stats *s) {
    int64_t *h = s->hist;
    int bins = s->hist_bins;
    int64_t lo = s->hist_lo, wd = s->hist_width;
    memset(s, 0, sizeof *s);
    s->hist = h;
    s->hist_bins = bins;
    s->hist_lo = lo;
    s->hist_width = wd;
    if (h) memset(h, 0, (size_t)bins * sizeof *h);
}

void xb_crossbar_count_exact(const xb_crossbar_layer *l, int64_t P, xb_crossbar_stats *st) {
    if (!st) return;
    st->conversions += P * l->R * l->cfg.input_slices * xb_crossbar_convs_per_block(l);
}

/* stat_ints when a bin holds one value and 0 is a bin: zeros and the
 * largest magnitude in one vector pass per 64 values, the histogram
 * incremented only for the nonzero values, whose positions come from a
 * 64-bit mask.  Column sums are mostly 0 (sparse digit planes): incrementing
 * the zero bin once per value would chain each store on the previous one. */
void xb_stat_ints_unit(xb_crossbar_stats *s, const int32_t *Sp, const int32_t *Sn, int64_t n) {
    int64_t *h = s->hist - s->hist_lo; /* h[v] is v's bin (lo <= v <= lo + bins - 1) */
    int64_t zeros = 0;
    int32_t mx = (int32_t)s->max_abs;
    int32_t v[64];
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        int m = n - i0 < 64 ? (int)(n - i0) : 64;
        uint64_t nz = 0;
        int32_t bmx = 0;
        if (Sn) {
            for (int i = 0; i < m; i++) v[i] = Sp[i0 + i] - Sn[i0 + i];
        } else {
            for (int i = 0; i < m; i++) v[i] = Sp[i0 + i];
        }
        for (int i = 0; i < m; i++) {
            int32_t a = v[i] < 0 ? -v[i] : v[i];
            bmx = a > bmx ? a : bmx;
            nz |= (uint64_t)(v[i] != 0) << i;
        }
        mx = bmx > mx ? bmx : mx;
        zeros += m - __builtin_popcountll(nz);
        while (nz) {
            h[v[__builtin_ctzll(nz)]]++;
            nz &= nz - 1;
        }
    }
    h[0] += zeros;
    s->observed += n;
    s->zeros += zeros;
    s->max_abs = mx;
}

/* --- profile accumulator (xb_stat_acc, internal.h) ------------------------
 * The histogram of one profile call in 16 uint32 copies of the bins, folded
 * into the stats once per call.  Integer values (xb_stat_acc_ints) are
 * counted in bit-sliced counters (hist.c) that fold into copy 0; analog
 * values (xb_stat_floats) go lane i of each block of 16 into copy i: no
 * branch per value and no increment waiting on the previous one's store to
 * the same word.  Zeros are counted from the zero bin, the largest
 * magnitude from the highest non-empty bins. */

#define ACC_LANES 16
#define ACC_MAX_BINS 1024
/* The bit-sliced counters' window: the smallest magnitudes (the most
 * frequent sums), from lo when the bins start near 0. */
#define ACC_WIN_BASE (-(XB_HIST_WIN / 2))

size_t xb_stat_acc_bytes(const xb_crossbar_layer *l) {
    int64_t span = (l->cfg.signed_pair ? 2 * l->max_sum : l->max_sum) + 1;
    return span <= ACC_MAX_BINS ? (size_t)(ACC_LANES * span + XB_HIST_OVF_BUF) * sizeof(uint32_t)
                                : 0;
}

/* rows: the histogram copies in use (1: xb_stat_acc_ints only) */
static bool acc_begin(xb_stat_acc *a, const xb_crossbar_stats *st, void *mem, size_t bytes,
                      int rows) {
    memset(a, 0, sizeof *a);
    if (!mem || st->hist_width != 1 || st->hist_lo > 0 ||
        (size_t)(ACC_LANES * st->hist_bins + XB_HIST_OVF_BUF) * sizeof(uint32_t) > bytes)
        return false;
    a->h = mem;
    a->bins = st->hist_bins;
    a->lo = st->hist_lo;
    a->rows = rows;
    memset(a->h, 0, (size_t)(rows * a->bins) * sizeof(uint32_t));
    int32_t base = a->lo > ACC_WIN_BASE ? (int32_t)a->lo : ACC_WIN_BASE;
    /* the counters' outlier buffer after the copies */
    xb_hist_init(&a->hb, base, a->h - a->lo, rows > 1 ? (int32_t)a->bins : 0,
                 (int32_t *)(void *)(a->h + ACC_LANES * a->bins));
    return true;
}

bool xb_stat_acc_begin(xb_stat_acc *a, const xb_crossbar_stats *st, void *mem, size_t bytes) {
    return acc_begin(a, st, mem, bytes, ACC_LANES);
}

/* Integer values only: the counters' outliers (with AVX-512 the values
 * past their second level, 0.2% of ResNet-20's sums) all go into copy 0,
 * and only copy 0 is cleared and folded: for LeNet-5's small layer calls
 * clearing and folding 16 copies was a fixed cost per call. */
bool xb_stat_acc_begin_ints(xb_stat_acc *a, const xb_crossbar_stats *st, void *mem,
                            size_t bytes) {
    return acc_begin(a, st, mem, bytes, 1);
}

/* The copies into the stats' histogram; returns the largest magnitude
 * among the values counted. */
static int64_t acc_fold(const xb_stat_acc *a, xb_crossbar_stats *st) {
    int64_t mx = 0;
    for (int64_t b = 0; b < a->bins; b++) {
        int64_t t = 0;
        for (int i = 0; i < a->rows; i++) t += a->h[i * a->bins + b];
        st->hist[b] += t;
        int64_t m = a->lo + b < 0 ? -(a->lo + b) : a->lo + b;
        if (t && m > mx) mx = m;
    }
    return mx;
}

void xb_stat_acc_end(xb_stat_acc *a, xb_crossbar_stats *st) {
    int64_t z0 = st->hist[-a->lo];
    xb_hist_flush(&a->hb);
    int64_t mx = acc_fold(a, st); /* integer sums are never clamped: the zero bin counts the zeros */
    st->hist[-a->lo] += a->zeros; /* zeros counted without the copies */
    st->observed += a->observed;
    st->zeros += st->hist[-a->lo] - z0;
    if (mx > st->max_abs) st->max_abs = mx;
}

/* The 16 values of v into their lanes' copies. */
static inline void acc_block(uint32_t *h0, int64_t bins, const int32_t *v) {
    for (int i = 0; i < ACC_LANES; i++) h0[i * bins + v[i]]++;
}

void xb_stat_acc_ints(xb_stat_acc *a, const int32_t *Sp, const int32_t *Sn, int64_t n) {
    xb_hist_add(&a->hb, Sp, Sn, n);
    a->observed += n;
}

void xb_stat_acc_bitsums(xb_stat_acc *a, const xb_crossbar_layer *l, int64_t blk,
                         const uint64_t *bm, int64_t pt, const uint8_t *qj, const int32_t *qcols,
                         int64_t nr, int64_t nsel, const uint8_t *x1) {
    int64_t C = l->C, W = l->lev_words;
    const uint64_t *lb = l->levbits + (size_t)(blk * C * l->lev_planes * W);
    a->zeros += xb_hist_add_bitsums(&a->hb, lb, C, l->lev_planes, W, bm, xb_bits_ppad(pt), pt, qj,
                                    qcols, nr, x1);
    a->observed += C * nsel;
}

/* stat_value over n analog values: with one value per bin, rounded as
 * llround does (half away from zero: floor(|v| + 0.5) is exact in double
 * for a float v) and counted in the 16 lane copies; else one by one. */
void xb_stat_floats(xb_crossbar_stats *st, const float *v, int64_t n, uint32_t *hsub,
                    size_t hsub_bytes) {
    xb_stat_acc a;
    if (!xb_stat_acc_begin(&a, st, hsub, hsub_bytes)) {
        xb_stat_floats_batched(st, v, n); /* noise.c: the same counts, any bins */
        return;
    }
    uint32_t *h0 = a.h - a.lo;
    int64_t lo = a.lo, hi = a.lo + a.bins - 1, mx = st->max_abs, zeros = 0;
    int32_t r[ACC_LANES];
    for (int64_t i0 = 0; i0 < n; i0 += ACC_LANES) {
        int m = n - i0 < ACC_LANES ? (int)(n - i0) : ACC_LANES;
        for (int i = 0; i < m; i++) {
            double x = (double)v[i0 + i];
            double ax = floor(fabs(x) + 0.5);
            ax = ax < 1e15 ? ax : 1e15; /* no int64 overflow (sums are far below) */
            int64_t ri = (int64_t)(x < 0 ? -ax : ax), ab = (int64_t)ax;
            mx = ab > mx ? ab : mx;
            zeros += ri == 0;
            r[i] = (int32_t)(ri < lo ? lo : ri > hi ? hi : ri);
        }
        if (m == ACC_LANES) {
            acc_block(h0, a.bins, r);
        } else {
            for (int i = 0; i < m; i++) h0[r[i]]++;
        }
    }
    /* values below or above the bins are clamped into the end bins, as
     * stat_value does; zeros are the values that round to 0 */
    acc_fold(&a, st);
    st->observed += n;
    st->zeros += zeros;
    st->max_abs = mx;
}
