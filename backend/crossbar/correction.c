/* The correction path (crossbar.h): clipping ADC with LSB 1 and no noise,
 * so acc already holds the exact product.  Only (digit, position) columns
 * of a row block whose bound X1 * max level (X1 = sum of the digits in the
 * block) exceeds the ADC range can clip.  Flagged columns are taken in runs
 * of RUN positions of one digit plane (a run is kept if any of its columns
 * is flagged): runs pack four rows per 32-bit word with vector code, where
 * picking single columns would cost a scalar gather per byte, more than the
 * GEMM work it saves.  The column sums of the kept runs come from one GEMM
 * (or, with 1-bit digits on a CPU with VPOPCNTDQ, from bit-plane popcounts:
 * bitsums.c),
 * and every clipped conversion corrects acc by sign * (clip(S) - S) *
 * 2^shift, summed exactly in int64 per output and position (corr) and
 * applied once per chunk, so the result equals the full simulation's.
 *
 * Profile images of exact and correction layers run here too
 * (xb_crossbar_run_profiled): runs whose digits are all zero hold only zero
 * sums and are counted as such, every other run's sums come from the same
 * GEMM over all columns and go into the statistics (and, on the correction
 * path, the corrections), so results and statistics equal the full
 * simulation's. */
#include <stdint.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/internal.h"
#include "kernels/igemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define XB_CORR_X86 1
#endif

#define RUN 16

typedef struct {
    const xb_crossbar_layer *l;
    const xb_crossbar_config *c;
    const uint8_t *x;
    const scratch_t *s;
    int64_t g, P;
    int J, d;
    unsigned dm;        /* digit mask */
    int64_t N;
    int32_t ilo, ihi;   /* code range */
    uint32_t ulo, uspan; /* the same for one unsigned compare: v - lo > span */
    /* the current chunk [p0, p0+pt) and row block r = [k0, k0+kb) */
    int64_t p0, pt, r, k0, kb;
    bool bytes;         /* digit sums X1 kept in bytes (see digit_bounds) */
    int64_t nr, nsel;   /* kept runs and their positions */
    int64_t sat;
    /* profile images: every conversion's value into st (runs with X1 = 0
     * everywhere are zeros, counted without a GEMM); clip: corrections
     * needed (the correction path; the exact path cannot clip) */
    bool profile, clip;
    xb_crossbar_stats *st;
    xb_stat_acc acc;    /* profile statistics, when acc_on */
    bool acc_on;
    uint64_t *bm;       /* the block's digit masks (l->levbits: popcount sums) */
    bool avx512;        /* correct_column's clip tests in AVX-512 (run-time check) */
    bool fused;         /* popcount sums and clip corrections in one pass (bitsums.c) */
    bool sorted;        /* ... over positions sorted by X1, s->corr position-major */
} corr_run;

/* X1 per (j, q) in one pass over the rows (contiguous in q), in bytes when
 * a block's digit sum fits (1-bit DACs, up to 255 rows: 64 lanes per
 * vector instead of 16); into s->S, which the GEMM overwrites later. */
static void digit_bounds(corr_run *f) {
    int J = f->J, d = f->d;
    unsigned dm = f->dm;
    int64_t pt = f->pt, P = f->P;
    f->bytes = (int64_t)f->kb * dm <= 255;
    if (f->l->levbits) { /* 1-bit digits, <= 128 rows: from the masks the sums use */
        xb_bits_pack(f->l, f->x, P, f->k0, f->kb, f->p0, pt, f->s->bits, &f->bm);
        xb_bits_x1(f->l, f->bm, pt, (uint8_t *)f->s->S);
        return;
    }
    if (f->bytes) {
        uint8_t *x8 = (uint8_t *)f->s->S;
        memset(x8, 0, (size_t)(J * pt));
        for (int64_t k = 0; k < f->kb; k++) {
            const uint8_t *xr = f->x + (f->k0 + k) * P + f->p0;
            for (int j = 0; j < J; j++) {
                uint8_t *xj = x8 + (int64_t)j * pt;
                int sh = j * d;
                for (int64_t q = 0; q < pt; q++) xj[q] += (uint8_t)((xr[q] >> sh) & dm);
            }
        }
    } else {
        int32_t *x1 = (int32_t *)f->s->S;
        memset(x1, 0, (size_t)(J * pt) * sizeof *x1);
        for (int64_t k = 0; k < f->kb; k++) {
            const uint8_t *xr = f->x + (f->k0 + k) * P + f->p0;
            for (int j = 0; j < J; j++) {
                int32_t *xj = x1 + (int64_t)j * pt;
                for (int64_t q = 0; q < pt; q++) xj[q] += (xr[q] >> (j * d)) & dm;
            }
        }
    }
}

/* The runs with some X1 > lim, into s->qj / s->qcols (nr runs, nsel
 * positions). */
static void select_runs(corr_run *f, int64_t lim) {
    const scratch_t *s = f->s;
    int64_t pt = f->pt, nrb = (pt + RUN - 1) / RUN;
    f->nr = 0;
    f->nsel = 0;
    for (int j = 0; j < f->J; j++)
        for (int64_t rb = 0; rb < nrb; rb++) {
            int64_t q0 = rb * RUN, w = pt - q0 < RUN ? pt - q0 : RUN;
            int32_t fl = 0;
            if (f->bytes) {
                const uint8_t *xq = (const uint8_t *)s->S + (int64_t)j * pt + q0;
#ifdef XB_CORR_X86
                /* a full run in one compare: some byte above lim <=> max(x, lim) != lim */
                if (w == RUN && lim >= 0 && lim < 255) {
                    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)xq),
                            L = _mm_set1_epi8((char)lim);
                    fl = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, L), L)) != 0xffff;
                } else
#endif
                    for (int64_t i = 0; i < w; i++) fl |= xq[i] > lim;
            } else {
                const int32_t *xq = (const int32_t *)s->S + (int64_t)j * pt + q0;
                for (int64_t i = 0; i < w; i++) fl |= xq[i] > lim;
            }
            if (!fl) continue;
            s->qj[f->nr] = (uint8_t)j;
            s->qcols[f->nr++] = (int32_t)q0;
            f->nsel += w;
        }
}

/* The k-quad's raw codes interleaved once into s->qw (byte i of word q =
 * row k + i, rows past kb 0). */
static void interleave_quad(corr_run *f, int64_t k) {
    uint32_t *qw = f->s->qw;
    int64_t pt = f->pt;
    const uint8_t *rw[4];
    for (int i = 0; i < 4; i++)
        rw[i] = k + i < f->kb ? f->x + (f->k0 + k + i) * f->P + f->p0 : NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (rw[3]) {
        const uint8_t *a0 = rw[0], *a1 = rw[1], *a2 = rw[2], *a3 = rw[3];
        for (int64_t q = 0; q < pt; q++)
            qw[q] = (uint32_t)a0[q] | ((uint32_t)a1[q] << 8) | ((uint32_t)a2[q] << 16) |
                    ((uint32_t)a3[q] << 24);
        return;
    }
#endif
    uint8_t *qb = (uint8_t *)qw;
    for (int64_t q = 0; q < pt; q++)
        for (int i = 0; i < 4; i++) qb[q * 4 + i] = rw[i] ? rw[i][q] : 0;
}

/* Pack the runs' digits for igemm: four rows (one k-quad) per word.  Each
 * run's digits are (word >> shift) & mask per byte: bits a shift pulls in
 * from the next byte land above the byte's own bits and are masked off. */
static void pack_runs(corr_run *f) {
    const scratch_t *s = f->s;
    int64_t pt = f->pt, Pp = xb_igemm_ppad(f->nsel);
    for (int64_t k = 0; k < f->kb; k += 4) {
        interleave_quad(f, k);
        uint32_t *dst = (uint32_t *)(void *)(s->dp + (k >> 2) * Pp * 4);
        int64_t pos = 0;
        for (int64_t ri = 0; ri < f->nr; ri++) {
            int sh = s->qj[ri] * f->d;
            /* The top digit may be cut by the byte's end (j * d + d > 8):
             * only the bits still inside it count. */
            uint32_t mask = (f->dm & (0xffu >> sh)) * 0x01010101u;
            int64_t q0 = s->qcols[ri];
            const uint32_t *src = s->qw + q0;
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
    xb_igemm_pack_x_clear(s->dp, f->kb, f->nsel);
}

/* Column sums of the kept runs into s->S ([C][nsel]): popcounts of the
 * masks digit_bounds built, else the runs packed for igemm. */
static void kept_sums(corr_run *f, int64_t blk) {
    const xb_crossbar_layer *l = f->l;
    int32_t *S = (int32_t *)f->s->S;
    if (l->levbits) {
        xb_bits_sums(l, blk, f->bm, f->pt, f->s->qj, f->s->qcols, f->nr, f->nsel, S);
        return;
    }
    pack_runs(f);
    xb_igemm_packed(l->levp + (size_t)blk * l->levp_stride, f->s->dp, f->kb, l->C, f->nsel, S);
}

/* Any of the n values (Sp - Sn, or Sp) outside the code range: one
 * unsigned compare per value, one vector pass. */
static bool any_clips(const corr_run *f, const int32_t *Sp, const int32_t *Sn, int64_t n) {
    uint32_t any = 0, ulo = f->ulo, uspan = f->uspan;
    if (Sn) {
        for (int64_t i = 0; i < n; i++) any |= (uint32_t)(Sp[i] - Sn[i]) - ulo > uspan;
    } else {
        for (int64_t i = 0; i < n; i++) any |= (uint32_t)Sp[i] - ulo > uspan;
    }
    return any != 0;
}

/* cq[i] += (clip(v) - v) * wgt for the w values of one run; returns the
 * clipped count. */
static int64_t correct_run(const corr_run *f, const int32_t *a, const int32_t *bn, int64_t w,
                           int64_t wgt, int64_t *cq) {
    int32_t ilo = f->ilo, ihi = f->ihi;
    int64_t ns = 0;
    if (bn) {
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
    return ns;
}

#ifdef XB_CORR_X86
/* AVX-512: the clipped lanes of each run as a 16-bit mask from one unsigned
 * compare (its popcount the clipped count), the corrections clip(v) - v of
 * all lanes (0 where nothing clips) added, so cn gets the same sums as
 * correct_run's.  Returns the clipped count. */
__attribute__((target("avx512f"))) static int64_t correct_runs_avx512(
    const corr_run *f, const int32_t *Sp, const int32_t *Sn, int64_t sign, int64_t shift,
    int64_t *cn) {
    const scratch_t *s = f->s;
    int64_t pos = 0, ns = 0, pt = f->pt;
    __m512i vmin = _mm512_set1_epi32(f->ilo), vmax = _mm512_set1_epi32(f->ihi);
    __m512i vlo = _mm512_set1_epi32((int32_t)f->ulo), vspan = _mm512_set1_epi32((int32_t)f->uspan);
    for (int64_t ri = 0; ri < f->nr; ri++) {
        int64_t q0 = s->qcols[ri], w = pt - q0 < RUN ? pt - q0 : RUN;
        __mmask16 in = (__mmask16)(w >= RUN ? 0xffff : (1u << w) - 1);
        __m512i v = _mm512_maskz_loadu_epi32(in, (const void *)(Sp + pos));
        if (Sn) v = _mm512_sub_epi32(v, _mm512_maskz_loadu_epi32(in, (const void *)(Sn + pos)));
        unsigned m = _mm512_mask_cmpgt_epu32_mask(in, _mm512_sub_epi32(v, vlo), vspan);
        ns += __builtin_popcount(m);
        /* (clip(v) - v) x sign x 2^shift, 0 in the unclipped lanes, widened
         * to int64 and added to the 16 (or w) sums; no branch on m (runs
         * clip unpredictably, a mispredicted branch costs more than the
         * adds) */
        __m512i d = _mm512_sub_epi32(_mm512_min_epi32(_mm512_max_epi32(v, vmin), vmax), v);
        __m512i sh = _mm512_set1_epi64(s->qj[ri] * f->d + shift);
        __m512i d0 = _mm512_sllv_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(d)), sh);
        __m512i d1 = _mm512_sllv_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(d, 1)), sh);
        if (sign < 0) {
            d0 = _mm512_sub_epi64(_mm512_setzero_si512(), d0);
            d1 = _mm512_sub_epi64(_mm512_setzero_si512(), d1);
        }
        int64_t *cq = cn + q0;
        __mmask8 k0 = (__mmask8)in, k1 = (__mmask8)(in >> 8);
        _mm512_mask_storeu_epi64(cq, k0, _mm512_add_epi64(_mm512_maskz_loadu_epi64(k0, cq), d0));
        if (k1)
            _mm512_mask_storeu_epi64(cq + 8, k1,
                                     _mm512_add_epi64(_mm512_maskz_loadu_epi64(k1, cq + 8), d1));
        pos += w;
    }
    return ns;
}
#endif

/* Corrections of conversion cc over the kept runs (column sums in s->S). */
static void correct_column(corr_run *f, int64_t cc) {
    const xb_crossbar_layer *l = f->l;
    const xb_crossbar_config *c = f->c;
    const scratch_t *s = f->s;
    int64_t N = f->N, nsel = f->nsel, pt = f->pt;
    int64_t col = xb_conversion_col(c->signed_pair, N, cc);
    const int32_t *Sp = (const int32_t *)s->S + col * nsel;
    const int32_t *Sn = c->signed_pair ? Sp + N * nsel : NULL;
    int64_t sign = c->signed_pair ? 1 : l->col_sign[col];
    /* A flipped column's converted value enters negated. */
    if (l->flipped && l->flipped[(f->g * l->R + f->r) * l->C + col]) sign = -sign;
    int64_t *cn = s->corr + l->col_n[col] * pt;
    /* Whole column first: many columns clip nowhere. */
    if (!any_clips(f, Sp, Sn, nsel)) return;
#ifdef XB_CORR_X86
    if (f->avx512) {
        f->sat += correct_runs_avx512(f, Sp, Sn, sign, l->col_shift[col], cn);
        return;
    }
#endif
    int64_t pos = 0, ns = 0;
    for (int64_t ri = 0; ri < f->nr; ri++) {
        int64_t q0 = s->qcols[ri], w = pt - q0 < RUN ? pt - q0 : RUN;
        int64_t wgt = sign * ((int64_t)1 << (s->qj[ri] * f->d + l->col_shift[col]));
        /* The same test per run: most runs clip nowhere. */
        if (w == RUN && !any_clips(f, Sp + pos, Sn ? Sn + pos : NULL, RUN)) {
            pos += w;
            continue;
        }
        ns += correct_run(f, Sp + pos, Sn ? Sn + pos : NULL, w, wgt, cn + q0);
        pos += w;
    }
    f->sat += ns;
}

static xb_bits_clip clip_args(const corr_run *f, int64_t blk) {
    const xb_crossbar_layer *l = f->l;
    return (xb_bits_clip){.N = f->N, .per_n = (int)(l->C / f->N), .shift = l->col_shift,
                          .sign = l->col_sign, .flip = l->flipped ? l->flipped + blk * l->C : NULL,
                          .hi = f->ihi};
}

/* Row block r of the current chunk; false if nothing in it can clip. */
static bool correct_block(corr_run *f, int64_t thr) {
    const xb_crossbar_layer *l = f->l;
    int64_t ml = l->maxlev[f->g * l->R + f->r];
    if (ml == 0) return false;
    /* X1 > lim  <=>  X1 * ml > thr  (integers, ml > 0). */
    int64_t lim = thr < 0 ? -1 : thr / ml;
    int64_t blk = f->g * l->R + f->r;
    const uint8_t *bk = f->sorted ? l->lev_bk + blk * 5 : NULL; /* sorted: lev_bk built */
    if (bk && !bk[0]) return false; /* no column of the block can clip: skip its masks too */
    /* the columns' own thresholds, not ml's (bitsums.h); one position too:
     * its output groups skip the digits below their thresholds, where
     * xb_bits_correct's lanes (the 8 digits) only skip a column none of
     * them reaches (LeNet-5's analog pass -7%, the MLP's -9%) */
    if (f->sorted) {
        digit_bounds(f);
        bool touched;
        xb_bits_clip k = clip_args(f, blk);
        f->sat += xb_bits_correct_sorted(l, blk, f->bm, (const uint8_t *)f->s->S, f->pt, &k,
                                         (int32_t *)(void *)f->s->corr, f->s->srt, &touched);
        return touched;
    }
    digit_bounds(f);
    select_runs(f, lim);
    if (!f->nr) return false;
    if (f->fused) { /* popcount sums corrected in registers, none stored */
        xb_bits_clip k = clip_args(f, blk);
        f->sat += xb_bits_correct(l, blk, f->bm, f->pt, f->s->qj, f->s->qcols, f->nr, &k,
                                  f->s->corr);
        return true;
    }
    kept_sums(f, blk);
    int64_t ncc = xb_crossbar_convs_per_block(l);
    for (int64_t cc = 0; cc < ncc; cc++) correct_column(f, cc);
    return true;
}

/* Profile images: the column sums of every run with some X1 > 0, each
 * conversion's values into the statistics and, on the correction path, its
 * clip corrections; runs left out hold only zero sums. */
static bool profile_block(corr_run *f) {
    const xb_crossbar_layer *l = f->l;
    int64_t blk = f->g * l->R + f->r, ncc = xb_crossbar_convs_per_block(l), N = f->N;
    bool pair = f->c->signed_pair;
    f->nr = f->nsel = 0;
    if (l->maxlev[blk]) {
        digit_bounds(f);
        select_runs(f, 0);
    }
    int64_t zeros = (f->J * f->pt - f->nsel) * ncc;
    if (f->acc_on) {
        f->acc.observed += zeros;
        f->acc.zeros += zeros;
    } else {
        f->st->observed += zeros;
        f->st->zeros += zeros;
        f->st->hist[-f->st->hist_lo / f->st->hist_width] += zeros;
    }
    if (!f->nr) return false;
    if (f->acc_on && l->levbits && !pair && !f->clip) { /* no sums stored */
        xb_stat_acc_bitsums(&f->acc, l, blk, f->bm, f->pt, f->s->qj, f->s->qcols, f->nr, f->nsel,
                            (const uint8_t *)f->s->S); /* digit_bounds' digit sums */
        return false;
    }
    kept_sums(f, blk);
    int32_t *S = (int32_t *)f->s->S;
    if (f->acc_on) { /* the counts do not depend on the order: N columns' runs a call */
        for (int64_t cc = 0; cc < ncc; cc += N) {
            const int32_t *Sp = S + xb_conversion_col(pair, N, cc) * f->nsel;
            xb_stat_acc_ints(&f->acc, Sp, pair ? Sp + N * f->nsel : NULL, N * f->nsel);
        }
    } else {
        for (int64_t cc = 0; cc < ncc; cc++) {
            int64_t col = xb_conversion_col(pair, N, cc);
            const int32_t *Sp = S + col * f->nsel, *Sn = pair ? Sp + N * f->nsel : NULL;
            stat_ints(f->st, Sp, Sn, f->nsel);
        }
    }
    if (!f->clip) return false;
    for (int64_t cc = 0; cc < ncc; cc++) correct_column(f, cc);
    return true;
}

/* acc[n][q] += corr[n][q] (saturating to int32). */
static void apply_corr(int32_t *acc, int64_t P, const int64_t *corr, int64_t N, int64_t pt) {
    for (int64_t n = 0; n < N; n++) {
        int32_t *an = acc + n * P;
        const int64_t *cn = corr + n * pt;
        for (int64_t q = 0; q < pt; q++) {
            int64_t t = (int64_t)an[q] + cn[q];
            an[q] = (int32_t)(t > INT32_MAX ? INT32_MAX : t < INT32_MIN ? INT32_MIN : t);
        }
    }
}

static void run(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                int32_t *acc, const scratch_t *s, xb_crossbar_stats *st, bool profile) {
    const xb_crossbar_config *c = &l->cfg;
    corr_run f = {.l = l, .c = c, .x = x, .s = s, .g = g, .P = P, .J = c->input_slices,
                  .d = c->dac_bits, .N = c->N, .profile = profile && st,
                  .clip = l->path == XB_XPATH_CORRECTION, .st = st};
    f.dm = (1u << f.d) - 1;
#ifdef XB_CORR_X86
    f.avx512 = __builtin_cpu_supports("avx512f");
#endif
    int64_t thr = c->signed_pair ? (c->code_hi < -c->code_lo ? c->code_hi : -c->code_lo)
                                 : c->code_hi;
    f.ilo = (int32_t)c->code_lo;
    f.ihi = (int32_t)c->code_hi;
    f.ulo = (uint32_t)f.ilo;
    f.uspan = (uint32_t)f.ihi - (uint32_t)f.ilo;
    /* Single-column conversions of non-negative sums: a zero sum (the
     * lanes past a run's end) never clips. */
    f.fused = xb_bits_fused_ok(l) && !c->signed_pair && f.ilo <= 0 && f.ihi >= 0;
    f.sorted = f.fused && !f.profile && xb_bits_sorted_ok(l);
    int64_t pt_max = chunk_positions(l, P), N = c->N;
    int64_t ld = xb_bits_corr_ld(N); /* the sorted path's padded output rows */
    if (f.profile) f.acc_on = xb_stat_acc_begin_ints(&f.acc, st, s->hsub, s->hsub_bytes);
    for (f.p0 = 0; f.p0 < P; f.p0 += pt_max) {
        f.pt = P - f.p0 < pt_max ? P - f.p0 : pt_max;
        int64_t pt = f.pt, *corr = s->corr;
        /* the sorted path's int32 rows of ld, else int64 [N][pt]; profile
         * images of exact layers write no corrections */
        if (!f.profile || f.clip)
            memset(corr, 0, f.sorted ? (size_t)(ld * pt) * 4 : (size_t)(N * pt) * sizeof *corr);
        bool touched = false;
        for (f.r = 0; f.r < l->R; f.r++) {
            f.k0 = xb_block_start(c->K, c->rows, c->even_rows, f.r);
            f.kb = xb_block_rows(c->K, c->rows, c->even_rows, f.r);
            touched |= f.profile ? profile_block(&f) : correct_block(&f, thr);
        }
        if (touched && f.sorted)
            xb_bits_apply_sorted(acc + f.p0, P, (const int32_t *)(const void *)corr, ld, N, pt);
        else if (touched)
            apply_corr(acc + f.p0, P, corr, N, pt);
    }
    if (f.acc_on) xb_stat_acc_end(&f.acc, st);
    if (st) {
        st->conversions += P * l->R * f.J * xb_crossbar_convs_per_block(l);
        st->saturated += f.sat;
    }
}

void xb_crossbar_run_correction(const xb_crossbar_layer *l, int64_t g, const uint8_t *x,
                                int64_t P, int32_t *acc, const scratch_t *s,
                                xb_crossbar_stats *st) {
    run(l, g, x, P, acc, s, st, false);
}

void xb_crossbar_run_profiled(const xb_crossbar_layer *l, int64_t g, const uint8_t *x, int64_t P,
                              int32_t *acc, const scratch_t *s, xb_crossbar_stats *st) {
    run(l, g, x, P, acc, s, st, true);
}
