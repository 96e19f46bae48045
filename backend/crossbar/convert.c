/* Running a crossbar layer: scratch layout, the input digits, the full
 * simulation and the dispatch between the paths (crossbar.h); the
 * correction path is in correction.c. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/analog_buffer.h"
#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/direct.h"
#include "backend/crossbar/dnoise.h"
#include "backend/crossbar/internal.h"
#include "backend/crossbar/noise.h"
#include "backend/crossbar/rng.h"
#include "backend/crossbar/sar.h"
#include "kernels/igemm.h"
#include "kernels/sgemm.h"

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static size_t sgemm_bytes(const xb_crossbar_layer *l, int64_t cols) {
    return l->cond ? xb_sgemm_scratch_bytes(l->C, cols, l->cfg.rows) : 0;
}

/* Off-state compensation: unsigned conversions subtract g0 x the block's
 * digit sum (a signed pair cancels the leakage in the analog domain). */
static bool off_compensated(const xb_crossbar_layer *l) {
    return l->cfg.off_comp && l->g0 > 0 && !l->cfg.signed_pair;
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
    TAKE(dsum, l->flipped || off_compensated(l) ? (size_t)cols * sizeof(int32_t) : 0);
    TAKE(nsq, c->read_row_sigma > 0 ? (size_t)cols * sizeof(int32_t) : 0);
    TAKE(qcols, (size_t)cols * sizeof(int32_t));
    TAKE(qj, (size_t)cols);
    TAKE(corr, (size_t)(xb_bits_corr_ld(c->N) * pt) * sizeof(int64_t));
    TAKE(qw, (size_t)pt * sizeof(uint32_t));
    TAKE(sg, sgemm_bytes(l, cols));
    TAKE(sarw, (size_t)xb_sar_scratch_doubles(l, cols) * sizeof(double));
    TAKE(ictl, c->input_control ? (size_t)cols : 0);
    TAKE(bits, xb_bits_scratch_bytes(l, pt));
    TAKE(srt, xb_bits_sort_bytes(l, pt));
    TAKE(zrun, l->read_noise ? (size_t)cols : 0);
    TAKE(hsub, xb_stat_acc_bytes(l));
    if (s) s->hsub_bytes = xb_stat_acc_bytes(l);
#undef TAKE
    return off;
}

size_t xb_crossbar_scratch_bytes(const xb_crossbar_layer *l, int64_t P) {
    if (l->cfg.spec_n) return xb_spec_scratch_bytes(l, P) + 64;
    return carve(l, P, NULL, NULL) + 64;
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

/* Flip, off compensation: D[j][q] = sum of digit j over the block's rows,
 * for positions [p0, p0+pt) (the unit column); with sq, the sum of the
 * squared digits instead (the active rows of read_row_sigma). */
static void digit_sums(const xb_crossbar_config *c, const uint8_t *x, int64_t P, int64_t k0,
                       int64_t kb, int64_t p0, int64_t pt, bool sq, int32_t *D) {
    int J = c->input_slices, d = c->dac_bits;
    unsigned dm = (1u << d) - 1;
    memset(D, 0, (size_t)(J * pt) * sizeof *D);
    for (int64_t k = 0; k < kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++) {
                int32_t v = (int32_t)((xr[q] >> (j * d)) & dm);
                D[j * pt + q] += sq ? v * v : v;
            }
    }
}

/* --- the full simulation --------------------------------------------------
 * Per row block, all column sums of a chunk of positions come from one GEMM
 * of the level block [C][kb] with the digit matrix [kb][J*pt] (igemm for
 * ideal cells, sgemm for physical conductances); the ADC pass then converts
 * each and shift-adds into accd. */

typedef struct {
    const xb_crossbar_layer *l;
    const xb_crossbar_config *c;
    const uint8_t *x;
    const scratch_t *s;
    xb_crossbar_stats *st;
    int64_t g, P, image;
    bool profile;
    int J, d;
    int64_t C, N, ncc, pt_max;
    uint64_t nkey;      /* read-noise stream of this image */
    uint64_t tkey;      /* measured-table stream of this image */
    bool int_sums;      /* ideal cells: integer column sums */
    bool simple;        /* int_sums, no read noise, LSB 1: y = clamp(S) */
    bool fused;         /* int_sums, no read noise, a rounding ADC (LSB > 1) and
                           nothing after it: y = clamp(round(S / LSB)) x LSB
                           taken straight from the sums (add_simple) */
    bool direct;        /* simple, or fused and this chunk has pt >= 8 */
    bool dfused;        /* direct chunks run fused with the popcount sums (direct.h) */
    bool dn;            /* integer read noise: y = clamp(S + n) (dnoise.h) */
    bool zrun;          /* dn and s->zrun marks this block's runs without active rows */
    xb_dnoise dtab;     /* ... its threshold table */
    uint64_t ikey;      /* ... its stream of this image */
    xb_dnoise_stat dstat; /* ... the profile statistics of this call */
    int32_t *dn_acc;    /* ... the fused block's combined columns [C][pt], or NULL */
    bool sacc_on;       /* a direct chunk of a profile image: its integer sums go to */
    xb_stat_acc sacc;   /* ... these bit-sliced counters (stats.c), folded per chunk */
    double pow2[64];
    /* the current chunk [p0, p0+pt) and row block r = [k0, k0+kb) */
    int64_t p0, pt, cols, r, k0, kb;
    const uint8_t *flr; /* the block's flipped columns, or NULL */
    int64_t sat;        /* saturated conversions so far */
    int64_t skipped;    /* conversions left out by input control */
} full_run;

/* Whether a 16-position run has an active row: the OR of its mask words
 * (m: the run's first word of level word 0, pp apart per level word), in
 * 8 independent lanes so that it vectorises (one scalar OR chain waited on
 * every load: 4% of the read-noise run). */
static bool run_active(const uint64_t *restrict m, int64_t W, int64_t pp) {
    uint64_t a[8] = {0};
    for (int64_t w = 0; w < W; w++)
        for (int i = 0; i < 16; i++) a[i & 7] |= m[w * pp + i];
    return (a[0] | a[1] | a[2] | a[3] | a[4] | a[5] | a[6] | a[7]) != 0;
}

/* Integer read noise, popcount sums: each (digit, 16-position run) whose
 * masks are all zero is marked in s->zrun (its sums are 0 in every
 * column), the others' sums go to their usual place in s->S. */
static void dn_sums(full_run *f, int64_t blk, const uint64_t *bm) {
    const xb_crossbar_layer *l = f->l;
    const scratch_t *s = f->s;
    int64_t pp = xb_bits_ppad(f->pt), W = l->lev_words, nruns = (f->pt + 15) / 16;
    for (int j = 0; j < f->J; j++)
        for (int64_t q0 = 0; q0 < f->pt; q0 += 16) {
            bool any = run_active(bm + j * W * pp + q0, W, pp);
            s->zrun[j * nruns + q0 / 16] = !any;
            if (!any) continue;
            uint8_t jj = (uint8_t)j;
            int32_t qq = (int32_t)q0;
            xb_bits_sums(l, blk, bm, f->pt, &jj, &qq, 1, f->cols,
                         (int32_t *)s->S + (int64_t)j * f->pt + q0);
        }
    f->zrun = true;
}

/* The arguments of the integer read noise for this chunk and block. */
static xb_dnoise_col dn_args(const full_run *f) {
    const xb_crossbar_config *c = f->c;
    return (xb_dnoise_col){.d = &f->dtab, .lo = c->lossless ? INT32_MIN : (int32_t)c->code_lo,
                           .hi = c->lossless ? INT32_MAX : (int32_t)c->code_hi, .J = f->J,
                           .dshift = f->d, .pt = f->pt, .p0 = f->p0};
}

static uint64_t dn_block_key(const full_run *f) {
    return xb_hash4(f->ikey, (uint64_t)f->g, (uint64_t)f->r, 0);
}

/* Integer read noise, sums and conversions of the block fused (dnoise.h,
 * xb_dnoise_block) when the CPU has it, for single columns.  The column
 * sums are never stored; dn_column then only adds f->dn_acc's columns (and
 * gives a profile image's values before the clamp, in vbuf, to the
 * statistics). */
static bool dn_fuse(full_run *f, int64_t blk, const uint64_t *bm) {
    const xb_crossbar_layer *l = f->l;
    xb_dnoise_col a = dn_args(f);
    if (f->c->signed_pair || !xb_dnoise_fused_ok(&a, l->lev_planes, l->lev_words))
        return false;
    int64_t W = l->lev_words;
    xb_dnoise_planes b = {.lb = l->levbits + (size_t)(blk * f->C * l->lev_planes * W),
                          .bm = bm, .planes = l->lev_planes, .W = W,
                          .pp = xb_bits_ppad(f->pt), .C = f->C, .rows = f->kb};
    f->dn_acc = (int32_t *)(void *)f->s->noise; /* [C][pt] fits its [C][J pt] floats */
    int32_t *pre = f->profile && f->st ? (int32_t *)(void *)f->s->vbuf : NULL; /* [C][J pt] */
    f->sat += xb_dnoise_block(&a, dn_block_key(f), &b, f->dn_acc, pre);
    if (f->st) f->st->fused_blocks++;
    return true;
}

/* A row block of a fused chunk (a rounding ADC) through direct.h: sums,
 * conversions and shift-adds into accd in one pass, the sums never
 * stored. */
static void direct_fused_block(full_run *f) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    int64_t blk = f->g * l->R + f->r, W = l->lev_words;
    uint64_t *bm;
    xb_bits_pack(l, f->x, f->P, f->k0, f->kb, f->p0, f->pt, f->s->bits, &bm);
    xb_direct_adc a = {.finv = (float)(1.0 / c->lsb), .flsb = (float)c->lsb,
                       .flo = (float)(double)c->code_lo, .fhi = (float)(double)c->code_hi};
    xb_direct_block b = {.lb = l->levbits + (size_t)(blk * f->C * l->lev_planes * W), .bm = bm,
                         .planes = l->lev_planes, .W = W, .pp = xb_bits_ppad(f->pt), .C = f->C,
                         .rows = f->kb, .pt = f->pt, .J = f->J, .d = f->d, .col_n = l->col_n,
                         .col_shift = l->col_shift, .col_sign = l->col_sign, .pow2 = f->pow2};
    f->sat += xb_direct_fused(&a, &b, f->s->accd);
    if (f->st) f->st->fused_blocks++;
}

/* Column sums of the block into s->S (integer read noise: dn_fuse or
 * dn_sums); with flip also the digit sums. */
static void block_sums(full_run *f) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t blk = f->g * l->R + f->r;
    f->zrun = false;
    f->dn_acc = NULL;
    if (l->levbits) { /* 1-bit digits: popcounts of bit planes, every run */
        uint64_t *bm;
        xb_bits_pack(l, f->x, f->P, f->k0, f->kb, f->p0, f->pt, s->bits, &bm);
        if (f->dn) { /* runs without an active row hold S = 0: not formed */
            if (!dn_fuse(f, blk, bm)) dn_sums(f, blk, bm);
        } else {
            int64_t nr = 0;
            for (int j = 0; j < f->J; j++)
                for (int64_t q0 = 0; q0 < f->pt; q0 += 16) {
                    s->qj[nr] = (uint8_t)j;
                    s->qcols[nr++] = (int32_t)q0;
                }
            xb_bits_sums(l, blk, bm, f->pt, s->qj, s->qcols, nr, f->cols, (int32_t *)s->S);
        }
    } else if (f->int_sums) {
        pack_digits(c, f->x, f->P, f->k0, f->kb, f->p0, f->pt, s->dp);
        xb_igemm_packed(l->levp + (size_t)blk * l->levp_stride, s->dp, f->kb, f->C, f->cols,
                        (int32_t *)s->S);
    } else {
        float_digits(c, f->x, f->P, f->k0, f->kb, f->p0, f->pt, s->df);
        xb_sgemm(false, false, f->C, f->cols, f->kb, l->condT + (size_t)(blk * f->C * c->rows),
                 f->kb, s->df, f->cols, (float *)s->S, f->cols, false, s->sg);
    }
    f->flr = l->flipped ? l->flipped + blk * f->C : NULL;
    if (f->flr || off_compensated(l))
        digit_sums(c, f->x, f->P, f->k0, f->kb, f->p0, f->pt, false, s->dsum);
    if (c->read_row_sigma > 0) digit_sums(c, f->x, f->P, f->k0, f->kb, f->p0, f->pt, true, s->nsq);
}

/* Read-noise index of this block and chunk: unique per (group, block,
 * chunk, column, digit, position) and independent of threads. */
static uint64_t noise_index(const full_run *f) {
    int64_t nchunks = (f->P + f->pt_max - 1) / f->pt_max;
    return (((uint64_t)f->g * (uint64_t)f->l->R + (uint64_t)f->r) * (uint64_t)nchunks +
            (uint64_t)(f->p0 / f->pt_max)) * (uint64_t)(f->ncc * f->J * f->pt_max);
}

/* Read noise of every value in vbuf (z: standard normals, one per value)
 * when it depends on the data: sigma^2 = read_sigma^2 + E^2 I + s^2 sum(d^2)
 * (docs/ARCH.md); the constant read_sigma alone is added in analog_values. */
static void add_read_noise(full_run *f, const float *z) {
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t cols = f->cols;
    /* Analog buffers: every crossbar of the chain adds its stage's noise. */
    double buf2 = xb_buffer_block_var(c, f->kb);
    float a2 = (float)(c->read_sigma * c->read_sigma + buf2);
    float e2 = (float)(c->read_current_sigma * c->read_current_sigma);
    float r2 = (float)(c->read_row_sigma * c->read_row_sigma);
    if (!(e2 > 0)) { /* no current term: sigma is the same in every column */
        xb_noise_add_rows(a2, r2, s->nsq, z, cols, f->ncc, s->vbuf);
        return;
    }
    for (int64_t cc = 0; cc < f->ncc; cc++) {
        int64_t col = xb_conversion_col(c->signed_pair, f->N, cc);
        /* = var = a2 + e2 column_current(f, col, i) + r2 nsq[i] per value,
         * vectorised (noise.c) */
        int64_t off = col * cols, neg = c->signed_pair ? f->N * cols : -1;
        xb_noise_var nv = {.a2 = a2, .e2 = e2, .r2 = r2, .nsq = s->nsq};
        if (f->int_sums) {
            nv.S.Si = (const int32_t *)s->S + off;
            nv.S.Si2 = neg >= 0 ? nv.S.Si + neg : NULL;
        } else {
            nv.S.Sf = (const float *)s->S + off;
            nv.S.Sf2 = neg >= 0 ? nv.S.Sf + neg : NULL;
        }
        xb_noise_add_var(&nv, z + cc * cols, cols, s->vbuf + cc * cols);
    }
}

/* A measured table (integer sums): v = mean(S) + sigma(S) z. */
static void table_values(full_run *f, const float *z) {
    const xb_noise_table *t = f->l->table;
    float *v = f->s->vbuf;
    for (int64_t i = 0; i < f->ncc * f->cols; i++) {
        float m, sg;
        xb_noise_table_at(t, (int64_t)v[i], &m, &sg);
        v[i] = m + sg * z[i];
    }
}

/* Analog values of every conversion of this block and chunk into vbuf,
 * then their read noise in one batch. */
static void analog_values(full_run *f) {
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t cols = f->cols, N = f->N;
    /* Constant sigma (add_read_noise's first case): values and noise in one
     * pass per column, the draws tile by tile (noise.c). */
    bool cnoise = f->l->read_noise && !f->l->table && c->read_current_sigma == 0 &&
                  c->read_row_sigma == 0;
    float sg = cnoise ? (float)sqrt(c->read_sigma * c->read_sigma + xb_buffer_block_var(c, f->kb))
                      : 0.0f;
    uint64_t nidx = f->l->read_noise ? noise_index(f) : 0;
    for (int64_t cc = 0; cc < f->ncc; cc++) {
        int64_t col = xb_conversion_col(c->signed_pair, N, cc);
        float *v = s->vbuf + cc * cols;
        if (cnoise) {
            xb_col_sums cs = {0};
            if (f->int_sums) cs.Si = (const int32_t *)s->S + col * cols;
            else cs.Sf = (const float *)s->S + col * cols;
            if (c->signed_pair && cs.Si) cs.Si2 = cs.Si + N * cols;
            if (c->signed_pair && cs.Sf) cs.Sf2 = cs.Sf + N * cols;
            xb_noise_add(f->nkey, nidx + (uint64_t)(cc * cols), cols, sg, &cs, v);
            continue;
        }
        if (f->int_sums) {
            const int32_t *Sp = (const int32_t *)s->S + col * cols;
            for (int64_t i = 0; i < cols; i++)
                v[i] = (float)(c->signed_pair ? Sp[i] - Sp[i + N * cols] : Sp[i]);
        } else {
            const float *Sp = (const float *)s->S + col * cols;
            for (int64_t i = 0; i < cols; i++)
                v[i] = c->signed_pair ? Sp[i] - Sp[i + N * cols] : Sp[i];
        }
    }
    if (!f->l->read_noise || cnoise) return;
    xb_fast_normals(f->l->table ? f->tkey : f->nkey, noise_index(f), f->ncc * cols, s->noise);
    if (f->l->table) table_values(f, s->noise);
    else add_read_noise(f, s->noise);
}

/* After the ADC, digitally: the drift compensation gain, then the
 * off-state leakage g0 x digit sum of every unsigned conversion. */
static void digital_corrections(full_run *f) {
    const xb_crossbar_layer *l = f->l;
    float *vb = f->s->vbuf;
    int64_t tot = f->ncc * f->cols;
    if (l->drift_alpha != 1.0) {
        float a = (float)l->drift_alpha;
        for (int64_t i = 0; i < tot; i++) vb[i] *= a;
    }
    if (off_compensated(l)) {
        const int32_t *D = f->s->dsum;
        float g0 = (float)l->g0;
        for (int64_t cc = 0; cc < f->ncc; cc++)
            for (int64_t i = 0; i < f->cols; i++) vb[cc * f->cols + i] -= g0 * (float)D[i];
    }
}

/* Every conversion of the block in one vectorised pass; vbuf then holds
 * the reconstructed values. */
static void adc_pass(full_run *f) {
    const xb_crossbar_config *c = f->c;
    float *vb = f->s->vbuf;
    int64_t tot = f->ncc * f->cols, ns = 0;
    if (f->profile && f->st)
        xb_stat_floats(f->st, vb, tot, f->s->hsub, f->s->hsub_bytes);
    if (f->l->adc_err) {
        int64_t ncc = f->ncc;
        const float *e0 = f->l->adc_err + (f->g * f->l->R + f->r) * ncc * 3;
        for (int64_t cc = 0; cc < ncc; cc++)
            for (int64_t i = 0; i < f->cols; i++)
                vb[cc * f->cols + i] = adc_distort(c, e0 + cc * 3, vb[cc * f->cols + i]);
    }
    if (f->l->sar) { /* SAR trial skipping / non-uniform transfer (sar.c) */
        f->sat += xb_sar_convert(f->l, f->g * f->l->R + f->r, f->x, f->P, f->k0, f->kb, f->p0,
                                 f->pt, vb, f->s->sarw, f->st);
        return;
    }
    if (c->lossless) {
        for (int64_t i = 0; i < tot; i++) vb[i] = nearbyintf(vb[i]);
    } else {
        double inv = 1.0 / c->lsb;
        float finv = (float)inv, flsb = (float)c->lsb, flo = (float)(double)c->code_lo,
              fhi = (float)(double)c->code_hi;
        for (int64_t i = 0; i < tot; i++) {
            float code = nearbyintf(vb[i] * finv);
            float y = code > fhi ? fhi : code < flo ? flo : code;
            ns += y != code;
            vb[i] = y * flsb;
        }
    }
    f->sat += ns;
}

/* Simple path: digit j of conversion column col, clamped to the code range
 * straight from the integer sums, shift-added into an[pt].  Fused (a
 * rounding ADC, LSB > 1): the same float operations as analog_values and
 * adc_pass ((float)S, code = nearbyintf(S / LSB), clamped, x LSB) on each
 * value, so y and the double sums are bit for bit the batch path's, without
 * writing and reading vbuf twice. */
static void add_simple(full_run *f, int64_t col, int j, double coef, double *an) {
    const xb_crossbar_config *c = f->c;
    int64_t pt = f->pt, off = col * f->cols + (int64_t)j * pt;
    const int32_t *Sp = (const int32_t *)f->s->S + off;
    const int32_t *Sn = c->signed_pair ? Sp + f->N * f->cols : NULL;
    int32_t ilo = (int32_t)c->code_lo, ihi = (int32_t)c->code_hi;
    int64_t ns = 0;
    if (f->fused) {
        float finv = (float)(1.0 / c->lsb), flsb = (float)c->lsb, flo = (float)(double)c->code_lo,
              fhi = (float)(double)c->code_hi;
        for (int64_t q = 0; q < pt; q++) {
            float v = (float)(Sn ? Sp[q] - Sn[q] : Sp[q]);
            float code = nearbyintf(v * finv);
            float y = code > fhi ? fhi : code < flo ? flo : code;
            ns += y != code;
            an[q] += coef * (double)(y * flsb);
        }
    } else if (c->lossless) {
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
    f->sat += ns;
    if (f->sacc_on) xb_stat_acc_ints(&f->sacc, Sp, Sn, pt);
    else if (f->profile && f->st) stat_ints(f->st, Sp, Sn, pt);
}

/* Integer read noise (dnoise.h): conversion cc's digits, y = clamp(S + n)
 * combined as sum_j y_j 2^(j d) in int32, then coef x that into an (the
 * same exact integers as adding coef 2^(j d) y_j one digit at a time). */
static void dn_column(full_run *f, int64_t cc, int64_t col, double coef, double *an) {
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t pt = f->pt;
    if (f->dn_acc) { /* converted with the sums (dn_fuse) */
        const int32_t *acc = f->dn_acc + cc * pt;
        for (int64_t q = 0; q < pt; q++) an[q] += coef * (double)acc[q];
        if (f->profile && f->st)
            xb_dnoise_stat_add(&f->dstat, f->st, (int32_t *)(void *)s->vbuf + cc * f->cols,
                               f->cols);
        return;
    }
    const int32_t *Sp = (const int32_t *)s->S + col * f->cols;
    const int32_t *Sn = c->signed_pair ? Sp + f->N * f->cols : NULL;
    int32_t *acc = (int32_t *)(void *)s->noise, *pre = NULL;
    if (f->profile && f->st) pre = (int32_t *)(void *)s->vbuf;
    xb_dnoise_col a = dn_args(f);
    f->sat += xb_dnoise_column(&a, dn_block_key(f), cc, Sp, Sn, f->zrun ? s->zrun : NULL, acc, pre);
    for (int64_t q = 0; q < pt; q++) an[q] += coef * (double)acc[q];
    if (pre) xb_dnoise_stat_add(&f->dstat, f->st, pre, f->cols);
}

/* Shift-and-add of conversion cc's column into its output's accd row. */
static void accumulate_column(full_run *f, int64_t cc) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    int J = f->J, d = f->d;
    int64_t pt = f->pt, col = xb_conversion_col(c->signed_pair, f->N, cc);
    const double *pow2 = f->pow2;
    double sign = c->signed_pair ? 1.0 : (double)l->col_sign[col];
    double *an = f->s->accd + l->col_n[col] * pt;
    if (f->flr && f->flr[col]) {
        /* S = cmask * D - S': the D part digitally, the converted S' with
         * the opposite sign below. */
        for (int j = 0; j < J; j++) {
            double cf = sign * l->col_mask[col] * pow2[j * d + l->col_shift[col]];
            const int32_t *D = f->s->dsum + (int64_t)j * pt;
            for (int64_t q = 0; q < pt; q++) an[q] += cf * (double)D[q];
        }
        sign = -sign;
    }
    if (f->dn) {
        dn_column(f, cc, col, sign * pow2[l->col_shift[col]], an);
        return;
    }
    for (int j = 0; j < J; j++) {
        double coef = sign * pow2[j * d + l->col_shift[col]];
        if (f->direct) {
            add_simple(f, col, j, coef, an);
            continue;
        }
        /* Converted values (y, in vbuf) come from the batch conversion.
         * Few positions (Gemm layers): the digits of one column are summed
         * in a register below instead. */
        if (pt < 8) break;
        const float *y = f->s->vbuf + cc * f->cols + (int64_t)j * pt;
        for (int64_t q = 0; q < pt; q++) an[q] += coef * (double)y[q];
    }
    if (!f->direct && pt < 8) {
        const float *y = f->s->vbuf + cc * f->cols;
        for (int64_t q = 0; q < pt; q++) {
            double t = 0;
            for (int j = 0; j < J; j++)
                t += pow2[j * d + l->col_shift[col]] * (double)y[(int64_t)j * pt + q];
            an[q] += sign * t;
        }
    }
}

/* One chunk of positions: every row block, then the digital term
 * (offset encoding's bias, or the center c_n) into acc. */
static void full_chunk(full_run *f, int32_t *acc) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t pt = f->pt, N = f->N, P = f->P;
    /* restrict: x is bytes, which may alias anything, and the loop would
     * reload xsum after each store instead of vectorising */
    int64_t *restrict xsum = s->xsum;
    for (int64_t q = 0; q < pt; q++) xsum[q] = 0;
    for (int64_t k = 0; k < c->K; k++) {
        const uint8_t *restrict xr = f->x + k * P + f->p0;
        for (int64_t q = 0; q < pt; q++) xsum[q] += xr[q];
    }
    for (int64_t i = 0; i < N * pt; i++) s->accd[i] = 0;
    /* (the batch path's xb_stat_floats uses hsub per call: direct chunks only) */
    f->sacc_on = f->direct && f->profile && f->st &&
                 xb_stat_acc_begin_ints(&f->sacc, f->st, s->hsub, s->hsub_bytes);
    for (f->r = 0; f->r < l->R; f->r++) {
        f->k0 = xb_block_start(c->K, c->rows, c->even_rows, f->r);
        f->kb = xb_block_rows(c->K, c->rows, c->even_rows, f->r);
        if (f->direct && f->dfused) {
            direct_fused_block(f);
            continue;
        }
        block_sums(f);
        if (!f->direct && !f->dn) {
            analog_values(f);
            adc_pass(f);
            digital_corrections(f);
        }
        if (c->input_control)
            f->skipped += xb_input_control(c, f->x, f->P, f->k0, f->kb, f->p0, f->pt, f->ncc,
                                           s->ictl, f->direct ? NULL : s->vbuf);
        for (int64_t cc = 0; cc < f->ncc; cc++) accumulate_column(f, cc);
    }
    if (f->sacc_on) xb_stat_acc_end(&f->sacc, f->st);
    f->sacc_on = false;
    xb_full_outputs(l, f->g, s->accd, s->xsum, pt, P, f->p0, acc);
}

/* Integer read noise applies where it is exact in distribution: the
 * constant read_sigma alone on integer sums converted with LSB 1 (y =
 * round(S + sigma z) = S + round(sigma z), then the clamp), nothing else
 * on the values (buffer stages, tables, ADC errors, SAR, drift gain, off
 * compensation, input control), a table within XB_DNOISE_KMAX and a
 * digit-combined sum that fits int32.  Elsewhere the float normals stay. */
static bool int_noise_ok(full_run *f) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    if (!l->read_noise || l->table || c->read_current_sigma != 0 || c->read_row_sigma != 0 ||
        !f->int_sums || c->lsb != 1.0 || l->adc_err || l->sar || l->drift_alpha != 1.0 ||
        off_compensated(l) || c->input_control || c->buf_sigma > 0 ||
        f->J * f->d > 24 || f->J > 64)
        return false;
    if (!xb_dnoise_init(&f->dtab, c->read_sigma)) return false;
    double ymax = (double)l->max_sum + f->dtab.kmax;
    return ymax * ldexp(1.0, f->J * f->d) < 2147483647.0;
}

bool xb_crossbar_int_noise(const xb_crossbar_layer *l) {
    full_run f = {.l = l, .c = &l->cfg, .J = l->cfg.input_slices, .d = l->cfg.dac_bits,
                  .int_sums = l->cond == NULL};
    return l->cfg.spec_n == 0 && int_noise_ok(&f);
}

static void run_full(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                     int64_t image, bool profile, int32_t *acc, const scratch_t *s,
                     xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    full_run f = {.l = l, .c = c, .x = x, .s = s, .st = st, .g = g, .P = P, .image = image,
                  .profile = profile, .J = c->input_slices, .d = c->dac_bits, .C = l->C,
                  .N = c->N, .ncc = xb_crossbar_convs_per_block(l),
                  .pt_max = chunk_positions(l, P)};
    f.nkey = xb_hash4(c->seed, layer_key(c, TAG_READ), (uint64_t)image, (uint64_t)c->layer_id);
    f.tkey = xb_hash4(c->seed, layer_key(c, TAG_TABLE), (uint64_t)image, (uint64_t)c->layer_id);
    f.int_sums = l->cond == NULL;
    f.simple = f.int_sums && !l->read_noise && !l->adc_err && c->lsb == 1.0 && !l->sar;
    /* Profile images too: their values are the integer sums, recorded as
     * such (stat_ints; the batch path's float statistics count the same
     * integers). */
    f.fused = !f.simple && f.int_sums && !l->read_noise && !l->adc_err && !l->sar &&
              !c->lossless && l->drift_alpha == 1.0 && !off_compensated(l) &&
              !c->input_control;
    /* A rounding ADC where nothing but the conversion reads the sums: no
     * profile statistics, flipped columns, signed pairs or input control
     * (add_simple's direct path does the rest).  Lossless and LSB-1 layers
     * never take the full path outside profile images (program.c). */
    f.dfused = f.fused && l->levbits && !(profile && st) && !c->signed_pair && !l->flipped &&
               !c->input_control && xb_direct_fused_ok(f.J);
    f.dn = int_noise_ok(&f);
    f.ikey = xb_hash4(c->seed, layer_key(c, TAG_READ_INT), (uint64_t)image, (uint64_t)c->layer_id);
    if (f.dn && profile && st) xb_dnoise_stat_begin(&f.dstat, st, s->hsub, s->hsub_bytes);
    for (int i = 0; i < 64; i++) f.pow2[i] = ldexp(1.0, i);
    for (f.p0 = 0; f.p0 < P; f.p0 += f.pt_max) {
        f.pt = P - f.p0 < f.pt_max ? P - f.p0 : f.pt_max;
        f.cols = f.J * f.pt;
        /* (the batch path sums a column's digits in a register when pt < 8) */
        f.direct = f.simple || (f.fused && f.pt >= 8);
        full_chunk(&f, acc);
    }
    if (f.dn && profile && st) xb_dnoise_stat_end(&f.dstat, st);
    if (st) {
        st->conversions += P * l->R * f.J * f.ncc;
        st->saturated += f.sat;
        st->skipped += f.skipped;
    }
}

void xb_crossbar_matmul(const xb_crossbar_layer *l, int group, const uint8_t *x, int64_t P,
                        int64_t image, bool profile, int32_t *acc, void *scratch,
                        xb_crossbar_stats *st) {
    const xb_crossbar_config *c = &l->cfg;
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    if (c->spec_n) {
        xb_spec_run(l, group, x, P, image, profile, acc, base, st);
        return;
    }
    scratch_t s;
    carve(l, P, base, &s);
    int64_t g = group;
    /* Profile images of exact and correction layers: the full path's
     * results and statistics without simulating all-zero digit runs
     * (correction.c); input control counts skipped conversions only in the
     * full simulation. */
    bool fast_profile = profile && st && l->path != XB_XPATH_FULL && !c->input_control;
    if ((profile && !fast_profile) || l->path == XB_XPATH_FULL) {
        run_full(l, g, x, P, image, profile, acc, &s, st);
        return;
    }
    /* Weights were packed at build: only x is packed per call, as the
     * int8 reference does. */
    xb_igemm_pack_x(x, c->K, P, s.igs);
    xb_igemm_packed(l->wpack + (size_t)g * xb_igemm_wpack_bytes(c->K, c->N), s.igs, c->K, c->N,
                    P, acc);
    if (fast_profile) {
        xb_crossbar_run_profiled(l, g, x, P, acc, &s, st);
    } else if (l->path == XB_XPATH_CORRECTION) {
        xb_crossbar_run_correction(l, g, x, P, acc, &s, st);
    } else {
        xb_crossbar_count_exact(l, P, st);
    }
}
