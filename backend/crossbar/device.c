/* Cell and circuit non-idealities of a crossbar layer, drawn once at build
 * time (docs/ARCH.md, "Device and circuit non-idealities", has every
 * formula with its source):
 *
 *   - conductance of a cell at level l (unit levels; G_on = top level + g0,
 *     G_off = g0 = (2^c - 1) / (ratio - 1)):
 *         G = l (1 + s z)                 programming_sigma alone (the old
 *                                         relative model, floored at G_off)
 *         G = l + g0 + (s l + f G_on) z   with a floor f: every cell, off
 *                                         state included, varies (floored
 *                                         at 0, as aihwkit's PCM model does)
 *     stuck cells first take level 0 or the top level;
 *   - drift: G(t) = G(t0) ((t + t0) / t0)^-nu per cell, nu from aihwkit's
 *     PCM fit (Nandakumar et al., ICECS 2019) as a function of G / G_on, or
 *     a constant; global compensation: one digital gain per layer, the
 *     ratio of an all-ones read before and after the drift (aihwkit's
 *     GlobalDriftCompensation);
 *   - IR drop, first order: each cell's effective conductance is scaled by
 *     1 - (row-wire drop + column-wire rise) / V, the drops summed from the
 *     currents every cell of its crossbar would draw with all rows driven;
 *   - ADC offset, gain and INL: one draw per physical ADC.
 * Every draw is a keyed hash (rng.h): layer, cell or ADC, and a tag. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/internal.h"
#include "backend/crossbar/rng.h"

bool xb_cells_ideal(const xb_crossbar_config *c) {
    return c->prog_sigma == 0 && c->prog_floor == 0 && c->stuck_low == 0 && c->stuck_high == 0 &&
           c->on_off_ratio == 0 && c->drift_seconds == 0 && c->ir_drop == 0;
}

/* Physical crossbar width: crossbar.cols, or every column of the layer. */
static int64_t xbar_width(const xb_crossbar_layer *l) {
    return l->cfg.cols > 0 ? l->cfg.cols : l->C;
}

/* Where column col sits: units (one column, or the +/- pair) in the order
 * s * N + n fill crossbars of width / u units each; returns the column
 * block, *pos the column within its crossbar. */
static int64_t col_place(const xb_crossbar_layer *l, int64_t col, int64_t *pos) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t u = c->differential ? 2 : 1;
    int64_t s = col / (u * c->N), pol = (col / c->N) % u, n = col % c->N;
    int64_t unit = s * c->N + n, upx = xbar_width(l) / u;
    if (upx < 1) upx = 1;
    *pos = (unit % upx) * u + pol;
    return unit / upx;
}

/* Column blocks of the layer (one past the largest col_place block). */
static int64_t col_blocks(const xb_crossbar_layer *l) {
    int64_t u = l->cfg.differential ? 2 : 1, upx = xbar_width(l) / u;
    if (upx < 1) upx = 1;
    return (l->C / u + upx - 1) / upx;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Drift exponent of a cell at relative target conductance grel = G / G_on:
 * aihwkit's PCMLikeNoiseModel (Nandakumar et al., ICECS 2019):
 * mu = clip(-0.0155 ln grel + 0.0244, 0.049, 0.1), sd = clip(-0.0125 ln
 * grel - 0.0059, 0.008, 0.045), nu = |mu + sd z|; or the constant drift_nu. */
static double drift_exponent(const xb_crossbar_config *c, double grel, double z) {
    if (c->drift_nu > 0) return c->drift_nu;
    double lg = log(grel < 1e-7 ? 1e-7 : grel);
    double mu = clampd(-0.0155 * lg + 0.0244, 0.049, 0.1);
    double sd = clampd(-0.0125 * lg - 0.0059, 0.008, 0.045);
    return fabs(mu + sd * z);
}

/* One cell's conductance at read time, before IR drop; *g_t0 the value
 * right after programming (for the drift compensation). */
static double cell_conductance(const xb_crossbar_layer *l, size_t i, uint64_t where, int64_t col,
                               double tf, double *g_t0) {
    const xb_crossbar_config *c = &l->cfg;
    int cmask = (1 << c->cell_bits) - 1;
    double g0 = l->g0, gon = cmask + g0, lv = l->lev[i], G;
    if (c->stuck_low > 0 || c->stuck_high > 0) {
        double uu =
            xb_hash_uniform(xb_hash4(c->seed, layer_key(c, TAG_STUCK), where, (uint64_t)col));
        if (uu <= c->stuck_low) lv = 0;
        else if (uu <= c->stuck_low + c->stuck_high) lv = cmask;
    }
    double target = lv + g0;
    double z = c->prog_sigma > 0 || c->prog_floor > 0
                   ? xb_hash_normal(xb_hash4(c->seed, layer_key(c, TAG_PROG), where, (uint64_t)col))
                   : 0;
    if (c->prog_floor > 0) {
        G = target + (c->prog_sigma * lv + c->prog_floor * gon) * z;
        if (G < 0) G = 0; /* a conductance cannot be negative */
    } else {
        if (c->prog_sigma > 0) lv *= 1.0 + c->prog_sigma * z;
        if (lv < 0) lv = 0; /* relative noise cannot undershoot the off state */
        G = lv + g0;
    }
    *g_t0 = G;
    if (c->drift_seconds > 0) {
        double zd =
            xb_hash_normal(xb_hash4(c->seed, layer_key(c, TAG_DRIFT), where, (uint64_t)col));
        G *= pow(tf, -drift_exponent(c, target / gon, zd));
    }
    return G;
}

/* First-order IR drop of one crossbar: g[kb][W] relative conductances
 * (G / G_on) in, attenuation 1 - dV/V out (in place), ir = R_wire / R_on
 * per segment.  Row i is driven from the left of position 0: the segment
 * before position m carries the currents of positions m..W-1, so the drop
 * at p is ir sum_{m<=p} sum_{n>=m} g[i][n].  Column p's sense amplifier
 * sits after the last row: the segment after row m carries rows 0..m, so
 * the column rises by ir sum_{m>=i} sum_{k<=m} g[k][p] at row i. */
static void ir_attenuation(double *g, int64_t kb, int64_t W, double ir, double *tmp) {
    double *dv = tmp, *t = tmp + kb * W;
    for (int64_t i = 0; i < kb; i++) {
        const double *gi = g + i * W;
        double suf = 0, cum = 0;
        for (int64_t p = W - 1; p >= 0; p--) t[p] = suf += gi[p];
        for (int64_t p = 0; p < W; p++) dv[i * W + p] = ir * (cum += t[p]);
    }
    for (int64_t p = 0; p < W; p++) {
        double pre = 0, cum = 0;
        for (int64_t i = 0; i < kb; i++) t[i] = pre += g[i * W + p];
        for (int64_t i = kb - 1; i >= 0; i--) dv[i * W + p] += ir * (cum += t[i]);
    }
    for (int64_t i = 0; i < kb * W; i++) g[i] = clampd(1.0 - dv[i], 0, 1);
}

/* IR drop on every crossbar of the layer: scatter its cells onto the
 * crossbar grid, attenuate, gather back. */
static xb_status apply_ir_drop(xb_crossbar_layer *l, double gon, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    int64_t W = xbar_width(l), rows = c->rows, nblk = col_blocks(l);
    int64_t *blk = xb_malloc(ctx, (size_t)l->C * sizeof *blk);
    int64_t *pos = xb_malloc(ctx, (size_t)l->C * sizeof *pos);
    double *g = xb_malloc(ctx, (size_t)(rows * W) * sizeof *g);
    double *tmp = xb_malloc(ctx, (size_t)(rows * W + (rows > W ? rows : W)) * sizeof *tmp);
    if (!blk || !pos || !g || !tmp) {
        free(blk), free(pos), free(g), free(tmp);
        return XB_ERR_NOMEM;
    }
    for (int64_t col = 0; col < l->C; col++) blk[col] = col_place(l, col, &pos[col]);
    for (int64_t gr = 0; gr < c->groups; gr++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = xb_block_start(c->K, rows, c->even_rows, r),
                    kb = xb_block_rows(c->K, rows, c->even_rows, r);
            for (int64_t b = 0; b < nblk; b++) {
                memset(g, 0, (size_t)(kb * W) * sizeof *g);
                for (int64_t k = 0; k < kb; k++)
                    for (int64_t col = 0; col < l->C; col++)
                        if (blk[col] == b)
                            g[k * W + pos[col]] = l->cond[(gr * c->K + k0 + k) * l->C + col] / gon;
                ir_attenuation(g, kb, W, c->ir_drop, tmp);
                for (int64_t k = 0; k < kb; k++)
                    for (int64_t col = 0; col < l->C; col++)
                        if (blk[col] == b)
                            l->cond[(gr * c->K + k0 + k) * l->C + col] *= (float)g[k * W + pos[col]];
            }
        }
    free(blk), free(pos), free(g), free(tmp);
    return XB_OK;
}

xb_status xb_device_program(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    size_t cells = (size_t)(c->groups * c->K * l->C);
    l->cond = xb_malloc(ctx, cells * sizeof(float));
    if (!l->cond) return XB_ERR_NOMEM;
    int cmask = (1 << c->cell_bits) - 1;
    double tf = (c->drift_seconds + c->drift_t0) / (c->drift_t0 > 0 ? c->drift_t0 : 1);
    double sum0 = 0, sum1 = 0;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t k = 0; k < c->K; k++)
            for (int64_t col = 0; col < l->C; col++) {
                size_t i = (size_t)((g * c->K + k) * l->C + col);
                double gt0, G = cell_conductance(l, i, (uint64_t)(g * c->K + k), col, tf, &gt0);
                sum0 += gt0;
                sum1 += G;
                l->cond[i] = (float)G;
            }
    /* aihwkit's GlobalDriftCompensation: the output of an all-ones input
     * at t0 over the same read now, applied digitally to every conversion. */
    if (c->drift_seconds > 0 && c->drift_comp && sum1 > 0) l->drift_alpha = sum0 / sum1;
    if (c->ir_drop > 0) return apply_ir_drop(l, cmask + l->g0, ctx);
    return XB_OK;
}

xb_status xb_device_adc(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    if (c->adc_offset == 0 && c->adc_gain == 0 && c->adc_inl == 0) return XB_OK;
    int64_t ncc = xb_crossbar_convs_per_block(l), W = xbar_width(l);
    int64_t adcs = c->adcs_per_xbar > 0 ? c->adcs_per_xbar : 1;
    int64_t per_adc = (W + adcs - 1) / adcs, nblk = col_blocks(l);
    l->adc_err = xb_malloc(ctx, (size_t)(c->groups * l->R * ncc * 3) * sizeof(float));
    if (!l->adc_err) return XB_ERR_NOMEM;
    const double sig[3] = {c->adc_offset, c->adc_gain, c->adc_inl};
    for (int64_t gr = 0; gr < c->groups * l->R; gr++)
        for (int64_t cc = 0; cc < ncc; cc++) {
            int64_t pos, b = col_place(l, xb_conversion_col(c->signed_pair, c->N, cc), &pos);
            uint64_t where = (uint64_t)(gr * nblk + b), adc = (uint64_t)(pos / per_adc);
            float *e = l->adc_err + (gr * ncc + cc) * 3;
            for (int q = 0; q < 3; q++)
                e[q] = sig[q] > 0 ? (float)(sig[q] * xb_hash_normal(xb_hash4(
                                                         c->seed, layer_key(c, TAG_ADC), where,
                                                         adc * 4 + (uint64_t)q)))
                                  : 0.0f;
        }
    return XB_OK;
}
