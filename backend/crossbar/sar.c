/* SAR trial skipping and the non-uniform transfer at conversion time
 * (sar.h).  [reconstructed]: the DATE'24 paper is known here only by its
 * abstract ("skip redundant SAR cycles" from per-column bounds and the
 * output distribution; piecewise-uniform partial-sum quantization with
 * early termination), so what follows is our design of it.
 *
 * What the ADC knows when it converts conversion cc (column col) of row
 * block r, input digit j, position q, and why each item is causal:
 *
 *  1. the static bound dmax x (level sum of col in the block + g0 x rows):
 *     from the programmed weights, fixed at programming time (a register
 *     per column);
 *  2. the digit sum D = sum_k digit_j[k] of the block: the inputs are in
 *     the input register before the DAC drives the rows, so a popcount
 *     (an adder tree over the rows' digits) finishes during the 100 ns
 *     crossbar read, before the first conversion; S <= D x (cmax + g0)
 *     with cmax the column's largest level in the block (a register);
 *  3. the running partial sums of its conversion group: the columns one
 *     ADC converts one after another for this (block, digit, position),
 *     in their physical order.  The group total T = sum_k digit_j[k] x
 *     rowsum[k] (rowsum[k]: row k's levels over the group's columns, fixed
 *     at programming) is a digital dot product of the digits with
 *     constants, computed like D during the read; after converting columns
 *     1..i-1 the ADC has their codes, so column i (all values >= 0) is at
 *     most T - (sum of the earlier values).  Only unsigned conversions:
 *     a signed pair's values can be negative, which voids the argument.
 *
 * The trials above bits_for(bound in codes) are not run: their code bits
 * are 0.  With ideal cells and no noise the bounds hold, so the result is
 * exactly the full conversion's; with noise a value can pass its bound
 * and is then clamped, as the hardware would (what it converts is the
 * noisy value, the bound is on the nominal one).  With a rounding ADC (LSB
 * > 1) or noise, the running bound subtracts (code - 1/2) LSB, the
 * smallest value a code can stand for, so it never undercuts the truth.
 *
 * The bound logic is charged (sar_logic, bit-adds): the popcount, the dot
 * product per group and a subtract and compare per conversion. */
#include "backend/crossbar/sar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/internal.h"

struct xb_sar {
    int mode;
    int64_t ncc, ngrp;
    int32_t *order;  /* [ncc] conversions in ADC sequence, group after group */
    int64_t *gstart; /* [ngrp + 1] */
    uint8_t *cmax;   /* [groups * R][ncc] largest level (signed pair: + side) */
    uint8_t *cmaxn;  /* [groups * R][ncc] signed pair: - side, else NULL */
    int32_t *rowsum; /* [groups * R][ngrp][rows] unsigned, data mode, else NULL */
    int64_t gcols_max;
    int sum_bits;    /* width of a group total (bound-logic bit count) */
    xb_nu_quant q;
};

static int bits_of(int64_t v) { return v <= 0 ? 0 : 64 - __builtin_clzll((unsigned long long)v); }

void xb_sar_free(xb_sar *s) {
    if (!s) return;
    free(s->order);
    free(s->gstart);
    free(s->cmax);
    free(s->cmaxn);
    free(s->rowsum);
    free(s);
}

xb_nu_quant xb_sar_quantizer(const xb_crossbar_layer *l) {
    xb_nu_quant none = {0};
    return l->sar ? l->sar->q : none;
}

/* The ADC group of column col and its place in the sequence, as the
 * crossbars hold the columns (the same placement as device.c's per-ADC
 * errors: units s * N + n fill crossbars of `cols` columns, a pair's two
 * columns side by side, cols / adcs consecutive columns per ADC). */
static int64_t adc_group(const xb_crossbar_layer *l, int64_t col, int64_t *pos) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t u = c->differential ? 2 : 1, W = c->cols > 0 ? c->cols : l->C;
    int64_t s = col / (u * c->N), pol = (col / c->N) % u, n = col % c->N;
    int64_t unit = s * c->N + n, upx = W / u < 1 ? 1 : W / u;
    int64_t adcs = c->adcs_per_xbar > 0 ? c->adcs_per_xbar : 1, per = (W + adcs - 1) / adcs;
    int64_t p = (unit % upx) * u + pol;
    *pos = unit / upx * W + p;
    return unit / upx * adcs + p / per;
}

typedef struct {
    int64_t key;
    int32_t cc;
} keyed;

static int by_key(const void *a, const void *b) {
    int64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return x < y ? -1 : x > y;
}

/* Conversion order: by group, then by position within the crossbar. */
static xb_status build_order(const xb_crossbar_layer *l, xb_sar *s, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    keyed *k = xb_malloc(ctx, (size_t)s->ncc * sizeof *k);
    s->order = xb_malloc(ctx, (size_t)s->ncc * sizeof *s->order);
    if (!k || !s->order) {
        free(k);
        return XB_ERR_NOMEM;
    }
    int64_t W = (c->cols > 0 ? c->cols : l->C), ng = 0;
    for (int64_t cc = 0; cc < s->ncc; cc++) {
        int64_t pos, g = adc_group(l, xb_conversion_col(c->signed_pair, c->N, cc), &pos);
        k[cc].key = g * (W * (l->C / W + 2)) + pos;
        k[cc].cc = (int32_t)cc;
        if (g + 1 > ng) ng = g + 1;
    }
    qsort(k, (size_t)s->ncc, sizeof *k, by_key);
    s->gstart = xb_calloc(ctx, (size_t)ng + 1, sizeof *s->gstart);
    if (!s->gstart) {
        free(k);
        return XB_ERR_NOMEM;
    }
    int64_t pos;
    for (int64_t i = 0; i < s->ncc; i++) {
        s->order[i] = k[i].cc;
        s->gstart[adc_group(l, xb_conversion_col(c->signed_pair, c->N, k[i].cc), &pos) + 1]++;
    }
    for (int64_t g = 0; g < ng; g++) {
        if (s->gstart[g + 1] > s->gcols_max) s->gcols_max = s->gstart[g + 1];
        s->gstart[g + 1] += s->gstart[g];
    }
    s->ngrp = ng;
    free(k);
    return XB_OK;
}

/* Per block: each conversion's largest level(s), and for data mode on
 * unsigned conversions each row's level sum over its group's columns. */
static xb_status build_tables(const xb_crossbar_layer *l, xb_sar *s, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t nb = c->groups * l->R, N = c->N;
    s->cmax = xb_calloc(ctx, (size_t)(nb * s->ncc), 1);
    if (!s->cmax) return XB_ERR_NOMEM;
    if (c->signed_pair && !(s->cmaxn = xb_calloc(ctx, (size_t)(nb * s->ncc), 1)))
        return XB_ERR_NOMEM;
    bool rs = s->mode == XB_SAR_DATA && !c->signed_pair;
    if (rs && !(s->rowsum = xb_calloc(ctx, (size_t)(nb * s->ngrp * c->rows), sizeof(int32_t))))
        return XB_ERR_NOMEM;
    int64_t tmax = 0;
    for (int64_t blk = 0; blk < nb; blk++) {
        int64_t g = blk / l->R, r = blk % l->R;
        int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r);
        int64_t kb = xb_block_rows(c->K, c->rows, c->even_rows, r);
        for (int64_t gi = 0; gi < s->ngrp; gi++)
            for (int64_t o = s->gstart[gi]; o < s->gstart[gi + 1]; o++) {
                int64_t cc = s->order[o], col = xb_conversion_col(c->signed_pair, N, cc);
                uint8_t *mp = s->cmax + blk * s->ncc + cc;
                for (int64_t k = 0; k < kb; k++) {
                    const uint8_t *row = l->lev + (g * c->K + k0 + k) * l->C;
                    if (row[col] > *mp) *mp = row[col];
                    if (s->cmaxn && row[col + N] > s->cmaxn[blk * s->ncc + cc])
                        s->cmaxn[blk * s->ncc + cc] = row[col + N];
                    if (rs) s->rowsum[(blk * s->ngrp + gi) * c->rows + k] += row[col];
                }
            }
        if (rs)
            for (int64_t i = 0; i < s->ngrp * c->rows; i++)
                tmax += s->rowsum[blk * s->ngrp * c->rows + i];
    }
    int64_t dmax = ((int64_t)1 << c->dac_bits) - 1;
    s->sum_bits = bits_of(tmax * dmax + 1);
    return XB_OK;
}

xb_status xb_sar_attach(xb_crossbar_layer *l, int mode, int bits, const xb_nu_quant *q,
                        xb_ctx *ctx) {
    (void)bits;
    xb_sar_free(l->sar);
    l->sar = NULL;
    bool nu = q && q->fine > 0;
    if (mode != XB_SAR_DATA && mode != XB_SAR_COLUMN && !nu) return XB_OK;
    xb_sar *s = xb_calloc(ctx, 1, sizeof *s);
    if (!s) return XB_ERR_NOMEM;
    s->mode = mode;
    s->ncc = xb_crossbar_convs_per_block(l);
    if (nu) s->q = *q;
    if (build_order(l, s, ctx) != XB_OK || build_tables(l, s, ctx) != XB_OK) {
        xb_sar_free(s);
        return ctx->status ? ctx->status : XB_ERR_NOMEM;
    }
    l->sar = s;
    /* Every conversion now depends on the data: simulate them all. */
    l->path = XB_XPATH_FULL;
    return XB_OK;
}

/* The largest magnitude code and its bits; a signed ADC has one bit for
 * the sign. */
static int64_t max_mag(const xb_crossbar_config *c) {
    return c->signed_pair ? (c->code_hi > -c->code_lo ? c->code_hi : -c->code_lo) : c->code_hi;
}

/* Static bound of conversion cc in block blk, in unit levels (with the
 * sign trial flag for a pair whose both sides can conduct). */
static double static_bound(const xb_crossbar_layer *l, int64_t blk, int64_t cc, int64_t kb,
                           bool *sign_trial) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t col = xb_conversion_col(c->signed_pair, c->N, cc);
    const int32_t *ls = l->levsum + blk * l->C;
    double dmax = (double)((1 << c->dac_bits) - 1);
    if (!c->signed_pair) {
        *sign_trial = false;
        return dmax * ((double)ls[col] + l->g0 * (double)kb);
    }
    int64_t sp = ls[col], sn = ls[col + c->N];
    *sign_trial = sp > 0 && sn > 0;
    return dmax * (double)(sp > sn ? sp : sn);
}

/* Trials and capacitor units of one conversion whose magnitude needs at
 * most nb bits, ending at bit `low`, with or without a sign trial. */
static void count(int nb, int low, bool sign, int mbits, int64_t *trials, int64_t *units) {
    *trials += nb - low + (sign ? 1 : 0);
    *units += ((int64_t)1 << nb) - ((int64_t)1 << low) + (sign ? (int64_t)1 << mbits : 0);
}

/* Bits of a bound in unit levels, as a code (the largest code a value
 * <= bound rounds to), capped at the ADC's magnitude bits. */
static int need_bits(double bound, double lsb, int64_t mmag) {
    double bc = floor(bound / lsb + 0.5);
    int64_t b = bc < 0 ? 0 : bc > (double)mmag ? mmag : (int64_t)bc;
    return bits_of(b);
}

void xb_sar_static_units(const xb_crossbar_layer *l, int bits, double *trials, double *units) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t ncc = xb_crossbar_convs_per_block(l), mmag = max_mag(c), t = 0, u = 0, n = 0;
    int mbits = bits_of(mmag);
    double lsb = c->lossless ? 1 : c->lsb;
    (void)bits;
    for (int64_t blk = 0; blk < c->groups * l->R; blk++) {
        int64_t kb = xb_block_rows(c->K, c->rows, c->even_rows, blk % l->R);
        for (int64_t cc = 0; cc < ncc; cc++) {
            bool sg;
            double b = static_bound(l, blk, cc, kb, &sg);
            count(need_bits(b, lsb, mmag), 0, sg, mbits, &t, &u);
            n++;
        }
    }
    *trials = n ? (double)t / (double)n : 0;
    *units = n ? (double)u / (double)n : 0;
}

int64_t xb_sar_scratch_doubles(const xb_crossbar_layer *l, int64_t cols) {
    return l->sar ? 3 * cols : 0;
}

/* One chunk of one block: the shared per-call data. */
typedef struct {
    const xb_crossbar_layer *l;
    const xb_sar *s;
    int64_t blk, kb, cols, mmag;
    int mbits;
    double lsb;
    bool exact_run;         /* integer sums, LSB 1, no noise: the running bound is exact */
    double *D, *T, *run;    /* [cols] each */
    xb_crossbar_stats *st;
    int64_t sat;
} sar_run;

/* D (and, for data mode on unsigned conversions, nothing else yet) from
 * the digits of the block. */
static void digit_sum(sar_run *f, const uint8_t *x, int64_t P, int64_t k0, int64_t p0,
                      int64_t pt) {
    const xb_crossbar_config *c = &f->l->cfg;
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    memset(f->D, 0, (size_t)f->cols * sizeof *f->D);
    for (int64_t k = 0; k < f->kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++) f->D[j * pt + q] += (double)((xr[q] >> (j * d)) & dm);
    }
    f->st->sar_logic += f->kb * f->cols * d;
}

/* T of group gi: sum_k digit x (rowsum[k] + g0 x group columns). */
static void group_total(sar_run *f, int64_t gi, const uint8_t *x, int64_t P, int64_t k0,
                        int64_t p0, int64_t pt) {
    const xb_crossbar_config *c = &f->l->cfg;
    const xb_sar *s = f->s;
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    const int32_t *rs = s->rowsum + (f->blk * s->ngrp + gi) * c->rows;
    double g0n = f->l->g0 * (double)(s->gstart[gi + 1] - s->gstart[gi]);
    memset(f->T, 0, (size_t)f->cols * sizeof *f->T);
    for (int64_t k = 0; k < f->kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        double w = (double)rs[k] + g0n;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++)
                f->T[j * pt + q] += w * (double)((xr[q] >> (j * d)) & dm);
    }
    f->st->sar_logic += f->kb * f->cols * s->sum_bits;
}

/* One conversion of value v: returns the value the ADC outputs. */
static float convert_one(sar_run *f, float v, double bound, double bcol, bool sign_trial,
                         int sign_known, int i) {
    const xb_crossbar_config *c = &f->l->cfg;
    const xb_sar *s = f->s;
    double code = nearbyint((double)v / f->lsb);
    if (!c->lossless) {
        double y = code > (double)c->code_hi ? (double)c->code_hi
                 : code < (double)c->code_lo ? (double)c->code_lo : code;
        f->sat += y != code;
        code = y;
    }
    int nb = need_bits(bound, f->lsb, f->mmag);
    /* The skipped MSB trials are 0: a value beyond its bound (noise) is
     * clamped; without a sign trial the sign is the only possible one. */
    double mag = fabs(code), lim = (double)(((int64_t)1 << nb) - 1);
    int sg = code < 0 ? -1 : 1;
    if (!sign_trial && c->signed_pair && sg != sign_known) mag = 0;
    if (mag > lim) mag = lim;
    if (!sign_trial && c->signed_pair) sg = sign_known;
    int low = 0;
    double out = mag;
    if (s->q.fine > 0 && (int64_t)mag >= s->q.fine && s->q.fine <= (int64_t)lim) {
        low = s->q.coarse_log2;
        out = xb_nu_apply(s->q.fine, low, (int64_t)mag);
    }
    count(nb, low, sign_trial, f->mbits, &f->st->sar_trials, &f->st->sar_units);
    /* The same conversion under the per-column bound alone (ablation). */
    int64_t tc = 0, uc = 0;
    int nbc = need_bits(bcol, f->lsb, f->mmag);
    count(nbc, nbc > low ? low : 0, sign_trial, f->mbits, &tc, &uc);
    f->st->sar_trials_col += tc;
    /* What the running bound may subtract: the smallest value the output
     * can stand for (a coarse interval's bottom; less 1/2 LSB unless exact). */
    double lowv = low ? (double)(((int64_t)mag >> low) << low) : mag; /* interval's bottom */
    if (f->run) f->run[i] += f->exact_run ? lowv * f->lsb : (lowv > 0.5 ? (lowv - 0.5) * f->lsb : 0);
    return (float)((double)sg * out * f->lsb);
}

/* convert_group for the common exact case (unsigned, integer sums, LSB 1,
 * no noise, data mode): the same counts in integers; every bound holds,
 * so no value is clamped by its bound and the running sum is exact. */
static void convert_group_int(sar_run *f, int64_t gi, float *v) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = &l->cfg;
    const xb_sar *s = f->s;
    int64_t hi = c->code_hi, fine = s->q.fine, e = s->q.coarse_log2;
    int64_t t = 0, u = 0, tc = 0, sat = 0, cols = f->cols;
    if (f->run) memset(f->run, 0, (size_t)cols * sizeof *f->run);
    for (int64_t o = s->gstart[gi]; o < s->gstart[gi + 1]; o++) {
        int64_t cc = s->order[o];
        bool sg;
        double bsd = static_bound(l, f->blk, cc, f->kb, &sg);
        int64_t bs = bsd > (double)hi ? hi : (int64_t)bsd;
        int64_t cp = s->cmax[f->blk * s->ncc + cc];
        float *vc = v + cc * cols;
        for (int64_t i = 0; i < cols; i++) {
            int64_t code = (int64_t)vc[i], y = code > hi ? hi : code < 0 ? 0 : code;
            sat += y != code;
            int64_t b = (int64_t)f->D[i] * cp;
            b = b < bs ? b : bs;
            int nbc = bits_of(b);
            if (f->run) {
                int64_t rem = (int64_t)f->T[i] - (int64_t)f->run[i];
                b = rem < b ? (rem < 0 ? 0 : rem) : b;
            }
            int nb = bits_of(b);
            double out = (double)y;
            int64_t low = 0;
            if (fine > 0 && y >= fine) {
                low = e;
                out = xb_nu_apply(fine, (int)e, y);
            }
            t += nb - low;
            u += ((int64_t)1 << nb) - ((int64_t)1 << low);
            tc += nbc - (nbc > low ? low : 0);
            if (f->run) f->run[i] += (double)(low ? (y >> low) << low : y); /* interval bottom */
            vc[i] = (float)out;
        }
        f->st->sar_logic += cols * 2 * (f->run ? s->sum_bits : f->mbits);
    }
    f->st->sar_trials += t;
    f->st->sar_units += u;
    f->st->sar_trials_col += tc;
    f->st->sar_convs += (s->gstart[gi + 1] - s->gstart[gi]) * cols;
    f->sat += sat;
}

/* The conversions of group gi, in sequence, for every digit column. */
static void convert_group(sar_run *f, int64_t gi, float *v) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = &l->cfg;
    const xb_sar *s = f->s;
    bool data = s->mode == XB_SAR_DATA || s->mode == XB_SAR_COLUMN;
    bool use_static = s->mode != XB_SAR_OFF;
    if (f->run) memset(f->run, 0, (size_t)f->cols * sizeof *f->run);
    for (int64_t o = s->gstart[gi]; o < s->gstart[gi + 1]; o++) {
        int64_t cc = s->order[o];
        bool sg;
        double bs = static_bound(l, f->blk, cc, f->kb, &sg);
        if (!use_static) {
            bs = INFINITY;
            sg = c->signed_pair;
        }
        double cp = (double)s->cmax[f->blk * s->ncc + cc] + (c->signed_pair ? 0 : l->g0);
        double cn = s->cmaxn ? (double)s->cmaxn[f->blk * s->ncc + cc] : 0;
        int known = cn > 0 && cp == 0 ? -1 : 1;
        float *vc = v + cc * f->cols;
        for (int64_t i = 0; i < f->cols; i++) {
            double b = bs;
            bool st = sg;
            if (data) {
                double bd = f->D[i] * (cp > cn ? cp : cn);
                if (bd < b) b = bd;
                if (c->signed_pair) st = sg && f->D[i] > 0;
            }
            double bcol = b;
            if (f->run) {
                double rem = f->T[i] - f->run[i];
                if (rem < b) b = rem < 0 ? 0 : rem;
            }
            vc[i] = convert_one(f, vc[i], b, bcol, st, known, i);
        }
        if (data) f->st->sar_logic += f->cols * 2 * (f->run ? s->sum_bits : f->mbits);
    }
    f->st->sar_convs += (s->gstart[gi + 1] - s->gstart[gi]) * f->cols;
}

int64_t xb_sar_convert(const xb_crossbar_layer *l, int64_t blk, const uint8_t *x, int64_t P,
                       int64_t k0, int64_t kb, int64_t p0, int64_t pt, float *v, double *work,
                       xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    const xb_sar *s = l->sar;
    xb_crossbar_stats dummy = {0};
    sar_run f = {.l = l, .s = s, .blk = blk, .kb = kb, .cols = c->input_slices * pt,
                 .mmag = max_mag(c), .lsb = c->lossless ? 1 : c->lsb, .st = st ? st : &dummy};
    f.mbits = bits_of(f.mmag);
    f.exact_run = f.lsb == 1.0 && !l->cond && !l->read_noise && !l->adc_err;
    f.D = work;
    f.T = work + f.cols;
    bool running = s->mode == XB_SAR_DATA && s->rowsum;
    f.run = running ? work + 2 * f.cols : NULL;
    bool data = s->mode == XB_SAR_DATA || s->mode == XB_SAR_COLUMN;
    if (data) digit_sum(&f, x, P, k0, p0, pt);
    for (int64_t gi = 0; gi < s->ngrp; gi++) {
        if (running) group_total(&f, gi, x, P, k0, p0, pt);
        if (f.exact_run && data && !c->signed_pair && l->g0 == 0)
            convert_group_int(&f, gi, v);
        else
            convert_group(&f, gi, v);
    }
    return f.sat;
}
