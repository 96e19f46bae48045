/* Column sums of 1-bit input digits by bit-plane popcounts (bitsums.h).
 *
 * With a 1-bit DAC a column sum is S = sum_k lev[k] d[k], d[k] in {0, 1}.
 * Stored as bits, the digits of one (digit plane, position) column over the
 * block's rows are a mask m (64 rows per word) and each column's levels are
 * bit planes b_p, so S = sum_p 2^p popcount(m & b_p), exact in integers.
 * One 512-bit AND + VPOPCNTQ covers 512 (row, digit) products of one level
 * bit; the u8 x s8 VNNI GEMM it replaces spends 8 bits of each operand on a
 * 1-bit digit and a 2-bit level, 64 products per instruction.
 *
 * Masks: the block's input bytes are first transposed to positions-major
 * (xt[q][row], rows past kb zero), then one VPTESTMB per (position, 64
 * rows, digit) gives the digit's 64-row mask.  Layout bm[(j * W + w) * ppad
 * + q]: positions contiguous, so a vector of 8 words holds 8 positions of
 * one (digit, word). */
#include <stdint.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/bitsums_simd.h"
#include "backend/crossbar/internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define XB_BITS_X86 1
#endif

#define BITS_RUN 16 /* positions per run (correction.c's RUN) */

int64_t xb_bits_ppad(int64_t pt) { return ((pt + 15) & ~(int64_t)15) + 16; }

size_t xb_bits_scratch_bytes(const xb_crossbar_layer *l, int64_t pt) {
    if (!l->levbits) return 0;
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words;
    return (size_t)(pp * W * 64) + (size_t)(l->cfg.input_slices * W * pp) * sizeof(uint64_t);
}

static bool cpu_ok(void) {
#ifdef XB_BITS_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vpopcntdq");
#else
    return false;
#endif
}

/* The fewest of a block column's kb levels (stride ld) whose largest ones
 * sum above hi, or 255 if all of them do not: a (digit, position) column
 * with fewer 1-digits sums to at most hi, whichever rows they are on. */
static uint8_t column_thr(const uint8_t *lev, int64_t ld, int64_t kb, int64_t hi, int vmax) {
    int64_t cnt[256], sum = 0, taken = 0; /* levels <= vmax: only those counters used */
    if (hi < 0) return 0;
    memset(cnt, 0, (size_t)(vmax + 1) * sizeof *cnt);
    for (int64_t k = 0; k < kb; k++) cnt[lev[k * ld]]++;
    for (int v = vmax; v > 0; v--) {
        if (!cnt[v]) continue;
        if (sum + v * cnt[v] > hi) return (uint8_t)(taken + (hi - sum) / v + 1);
        sum += v * cnt[v];
        taken += cnt[v];
    }
    return 255;
}

/* A block's X1 buckets (bk: count, then up to 4 bounds, descending): the
 * quartiles of its column thresholds below 255, then the smallest (at
 * least 1: X1 = 0 sums to 0); positions between two bounds skip the
 * columns at or above the upper one.  No bucket if no column can clip. */
static void block_buckets(const uint8_t *thr, int64_t C, uint8_t *bk) {
    int32_t cnt[256] = {0};
    int64_t nv = 0;
    int tmin = 255, nb = 0;
    for (int64_t c = 0; c < C; c++)
        if (thr[c] < 255) cnt[thr[c]]++, nv++, tmin = thr[c] < tmin ? thr[c] : tmin;
    memset(bk, 0, 5);
    if (!nv) return;
    if (tmin < 1) tmin = 1;
    for (int k = 3; k >= 1; k--) { /* the thresholds at ranks nv k / 4 */
        int64_t rank = nv * k / 4, seen = 0;
        int v = 0;
        for (; v < 255; v++) {
            seen += cnt[v];
            if (seen > rank) break;
        }
        if (v > tmin && v < 255 && (nb == 0 || v < bk[nb])) bk[1 + nb++] = (uint8_t)v;
    }
    bk[1 + nb++] = (uint8_t)tmin;
    bk[0] = (uint8_t)nb;
}

/* The sorted path's groups of 16 lanes (bitsums.h): first the whole
 * groups, i = u nf + g < nfull = per_n nf (nf = N / 16), lane e = column
 * u N + 16 g + e; then, when r = N mod 16 > 0, the remainders of k slices
 * packed into one group (k = 16 / r when r divides 16, else 1): lane e =
 * column u N + 16 nf + e mod r of slice u = k p + e / r, lanes past k r or
 * per_n slices empty.  A packed group's lanes of one output are summed
 * (steps = log2 k lane rotations) before its r outputs are updated: VGG's
 * 20 and 40 outputs filled 4 / 16 and 8 / 16 of their last groups. */
typedef struct {
    int64_t nf, nfull, ngr, r, k;
    int steps;
} grp_geom;

static grp_geom groups_of(const xb_crossbar_layer *l) {
    grp_geom G;
    int64_t N = l->cfg.N, per_n = l->C / N;
    G.nf = N / 16;
    G.r = N % 16;
    G.k = G.r && 16 % G.r == 0 ? 16 / G.r : 1;
    G.steps = 0;
    while (((int64_t)1 << G.steps) < G.k) G.steps++;
    G.nfull = per_n * G.nf;
    G.ngr = G.nfull + (G.r ? (per_n + G.k - 1) / G.k : 0);
    return G;
}

/* The column of lane e of group i, or -1 for an empty lane. */
static int64_t lane_col(const xb_crossbar_layer *l, const grp_geom *G, int64_t i, int64_t e) {
    int64_t N = l->cfg.N;
    if (i < G->nfull) return i / G->nf * N + i % G->nf * 16 + e;
    int64_t slot = e / G->r, u = (i - G->nfull) * G->k + slot;
    return slot < G->k && u < l->C / N ? u * N + G->nf * 16 + e % G->r : -1;
}

/* Per group of one block: its columns' smallest threshold, 255 if none can
 * clip. */
static void group_thresholds(const xb_crossbar_layer *l, const uint8_t *thr, uint8_t *gthr) {
    grp_geom G = groups_of(l);
    for (int64_t i = 0; i < G.ngr; i++) {
        int t = 255;
        for (int64_t e = 0; e < 16; e++) {
            int64_t c = lane_col(l, &G, i, e);
            if (c >= 0 && thr[c] < t) t = thr[c];
        }
        gthr[i] = (uint8_t)t;
    }
}

void xb_bits_thresholds(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    if (!l->lev_thr) return;
    int64_t ngr = groups_of(l).ngr;
    l->lev_thr_hi = c->code_hi;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r),
                    kb = xb_block_rows(c->K, c->rows, c->even_rows, r);
            for (int64_t col = 0; col < l->C; col++)
                l->lev_thr[(g * l->R + r) * l->C + col] =
                    column_thr(l->lev + (g * c->K + k0) * l->C + col, l->C, kb, c->code_hi,
                               (1 << l->lev_planes) - 1);
            block_buckets(l->lev_thr + (g * l->R + r) * l->C, l->C,
                          l->lev_bk + (g * l->R + r) * 5);
            group_thresholds(l, l->lev_thr + (g * l->R + r) * l->C,
                             l->lev_gthr + (g * l->R + r) * ngr);
        }
}

/* l->lev_thr, allocated once with the levels and rebuilt by
 * xb_crossbar_layer_set_adc for each new top code. */
static xb_status thresholds(xb_crossbar_layer *l, xb_ctx *ctx) {
    int64_t nblk = l->cfg.groups * l->R, ngr = groups_of(l).ngr;
    l->lev_thr = xb_calloc(ctx, (size_t)(nblk * l->C), 1);
    l->lev_bk = xb_calloc(ctx, (size_t)(nblk * 5), 1);
    l->lev_gthr = xb_calloc(ctx, (size_t)(nblk * ngr), 1);
    if (!l->lev_thr || !l->lev_bk || !l->lev_gthr) return XB_ERR_NOMEM;
    xb_bits_thresholds(l);
    return XB_OK;
}

/* l->lev_cols, the sorted path's level planes by output groups (below). */
static xb_status columns(xb_crossbar_layer *l, xb_ctx *ctx);

xb_status xb_bits_levels(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    l->levbits = NULL;
    l->lev_thr = NULL;
    l->lev_bk = NULL;
    l->lev_cols = NULL;
    l->lev_gthr = NULL;
    l->lev_gneg = NULL;
    l->lev_gsh = NULL;
    /* 1-bit digits, ideal cells (integer levels), at most 128 rows a block,
     * no speculation (it slices inputs wider), and the CPU has the popcount. */
    if (c->dac_bits != 1 || l->cond || c->rows > 128 || c->spec_n || !cpu_ok()) return XB_OK;
    int64_t cells = c->groups * c->K * l->C, mx = 0;
    for (int64_t i = 0; i < cells; i++) mx = l->lev[i] > mx ? l->lev[i] : mx;
    int planes = 0;
    while (planes < 8 && (mx >> planes)) planes++;
    if (planes == 0) planes = 1;
    int64_t W = (c->rows + 63) / 64, nblk = c->groups * l->R;
    l->lev_planes = planes;
    l->lev_words = (int)W;
    l->levbits = xb_calloc(ctx, (size_t)(nblk * l->C * planes * W), sizeof(uint64_t));
    if (!l->levbits) return XB_ERR_NOMEM;
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t r = 0; r < l->R; r++) {
            int64_t k0 = xb_block_start(c->K, c->rows, c->even_rows, r),
                    kb = xb_block_rows(c->K, c->rows, c->even_rows, r);
            uint64_t *lb = l->levbits + (size_t)((g * l->R + r) * l->C * planes * W);
            /* row by row (the levels are row-major): each cell's bits ORed
             * into its column's plane words, no branch */
            for (int64_t k = 0; k < kb; k++) {
                const uint8_t *row = l->lev + (g * c->K + k0 + k) * l->C;
                uint64_t *lw = lb + k / 64;
                int sh = (int)(k % 64);
                for (int64_t col = 0; col < l->C; col++)
                    for (int p = 0; p < planes; p++)
                        lw[(col * planes + p) * W] |= (uint64_t)((row[col] >> p) & 1) << sh;
            }
        }
    /* The clip path's thresholds and output groups: not for a layer that
     * stays on the full path whatever its ADC (read noise, ADC errors:
     * program.c's derive_path), which only sums. */
    if (l->read_noise || l->adc_err) return XB_OK;
    XB_TRY(thresholds(l, ctx));
    return columns(l, ctx);
}

#ifdef XB_BITS_X86
#define XB_BITS_TARGET __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

/* The block's bytes positions-major: xt[q * 64W + k] = x[k0 + k][p0 + q],
 * rows kb..64W-1 and positions pt..ppad-1 zero. */
static void transpose_block(const uint8_t *x, int64_t P, int64_t k0, int64_t kb, int64_t p0,
                            int64_t pt, int64_t pp, int64_t W, uint8_t *xt) {
    int64_t rb = 64 * W;
    memset(xt, 0, (size_t)(pp * rb));
    /* 8 rows at a time: each position's 8 bytes interleaved into one word
     * (contiguous in q, so the loop vectorises), then one 64-bit store per
     * position; the words are staged where the masks go next (bm, at
     * least ppad words, written only after the transpose). */
    uint64_t *w8 = (uint64_t *)(void *)(xt + pp * rb);
    int64_t k = 0;
    for (; k + 8 <= kb; k += 8) {
        const uint8_t *a0 = x + (k0 + k) * P + p0, *a1 = a0 + P, *a2 = a1 + P, *a3 = a2 + P,
                      *a4 = a3 + P, *a5 = a4 + P, *a6 = a5 + P, *a7 = a6 + P;
        for (int64_t q = 0; q < pt; q++)
            w8[q] = (uint64_t)a0[q] | (uint64_t)a1[q] << 8 | (uint64_t)a2[q] << 16 |
                    (uint64_t)a3[q] << 24 | (uint64_t)a4[q] << 32 | (uint64_t)a5[q] << 40 |
                    (uint64_t)a6[q] << 48 | (uint64_t)a7[q] << 56;
        for (int64_t q = 0; q < pt; q++) memcpy(xt + q * rb + k, &w8[q], 8);
    }
    for (; k < kb; k++) {
        const uint8_t *xr = x + (k0 + k) * P + p0;
        for (int64_t q = 0; q < pt; q++) xt[q * rb + k] = xr[q];
    }
}

XB_BITS_TARGET static void masks_avx512(const uint8_t *xt, int64_t pp, int64_t W, int J,
                                        uint64_t *bm) {
    for (int64_t q = 0; q < pp; q++)
        for (int64_t w = 0; w < W; w++) {
            __m512i v = _mm512_loadu_si512((const void *)(xt + (q * W + w) * 64));
            for (int j = 0; j < J; j++)
                bm[(j * W + w) * pp + q] =
                    (uint64_t)_mm512_test_epi8_mask(v, _mm512_set1_epi8((char)(1 << j)));
        }
}
#endif

#ifdef XB_BITS_X86
#define XB_BITS_GF __attribute__((target("avx512f,avx512bw,avx512vbmi,gfni")))

/* 8 x 8 transpose of 64-bit words across 8 vectors: v[i] word j <- v[j]
 * word i (pairs within 128-bit lanes, then lanes). */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
tr8(__m512i v[8]) {
    __m512i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_epi64(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi64(v[2 * i], v[2 * i + 1]);
    }
    /* t[2i + h] lane L = (v[2i] word 2L + h, v[2i + 1] word 2L + h) */
    for (int h = 0; h < 2; h++) {
        u[h] = _mm512_shuffle_i64x2(t[h], t[2 + h], _MM_SHUFFLE(2, 0, 2, 0));
        u[2 + h] = _mm512_shuffle_i64x2(t[h], t[2 + h], _MM_SHUFFLE(3, 1, 3, 1));
        u[4 + h] = _mm512_shuffle_i64x2(t[4 + h], t[6 + h], _MM_SHUFFLE(2, 0, 2, 0));
        u[6 + h] = _mm512_shuffle_i64x2(t[4 + h], t[6 + h], _MM_SHUFFLE(3, 1, 3, 1));
    }
    for (int h = 0; h < 2; h++) {
        v[h] = _mm512_shuffle_i64x2(u[h], u[4 + h], _MM_SHUFFLE(2, 0, 2, 0));
        v[4 + h] = _mm512_shuffle_i64x2(u[h], u[4 + h], _MM_SHUFFLE(3, 1, 3, 1));
        v[2 + h] = _mm512_shuffle_i64x2(u[2 + h], u[6 + h], _MM_SHUFFLE(2, 0, 2, 0));
        v[6 + h] = _mm512_shuffle_i64x2(u[2 + h], u[6 + h], _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* The masks straight from the row-major codes, 64 positions x 64 rows at a
 * time, as bit-matrix transposes: per group g of 8 rows, the rows' 64
 * bytes are regrouped into one 64-bit word per position (word transpose,
 * then a byte permute that also reverses the rows), and GF2P8AFFINEQB with
 * the word as its matrix turns each word's 8 x 8 bits around: byte j =
 * digit j of the 8 rows, bit r = row 8g + r.  Then per 8 positions the 8
 * groups' bytes of digit j are gathered into one 64-bit mask (word
 * transpose, byte permute, word transpose).  Rows past kb and positions
 * past pt read as zero; the same masks as masks_avx512. */
XB_BITS_GF static void masks_gfni(const uint8_t *x, int64_t P, int64_t k0, int64_t kb, int64_t p0,
                                  int64_t pt, int64_t pp, int64_t W, int J, uint64_t *bm) {
    uint8_t i1[64], i2[64];
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) {
            i1[a * 8 + b] = (uint8_t)((7 - b) * 8 + a); /* word a, byte b <- row 7-b, pos a */
            i2[a * 8 + b] = (uint8_t)(b * 8 + a);       /* digit a, group b <- group b, digit a */
        }
    const __m512i idx1 = _mm512_loadu_si512((const void *)i1),
                  idx2 = _mm512_loadu_si512((const void *)i2);
    const __m512i ident = _mm512_set1_epi64((long long)0x8040201008040201ULL);
    __m512i T[8][8]; /* [8-position block][row group] */
    for (int64_t w = 0; w < W; w++)
        for (int64_t q0 = 0; q0 < pp; q0 += 64) {
            int64_t n = pt - q0;
            __mmask64 lm = n >= 64 ? ~(__mmask64)0 : n > 0 ? ((__mmask64)1 << n) - 1 : 0;
            if (!lm || w * 64 >= kb) { /* only padding positions (past pt) or rows
                                        * (past kb): zero masks, as the transposes of
                                        * zeros would give */
                for (int64_t q = q0; q < pp; q += 8)
                    for (int j = 0; j < J; j++)
                        _mm512_storeu_si512((void *)(bm + (j * W + w) * pp + q),
                                            _mm512_setzero_si512());
                continue;
            }
            for (int g = 0; g < 8; g++) {
                __m512i v[8];
                int64_t kg = w * 64 + 8 * g;
                if (kg >= kb) { /* rows past the block: zero bytes, zero bits */
                    for (int b = 0; b < 8; b++) T[b][g] = _mm512_setzero_si512();
                    continue;
                }
                for (int r = 0; r < 8; r++)
                    v[r] = kg + r < kb && lm
                               ? _mm512_maskz_loadu_epi8(lm, (const void *)(x + (k0 + kg + r) * P +
                                                                            p0 + q0))
                               : _mm512_setzero_si512();
                tr8(v); /* v[b] word r: row kg + r at positions q0 + 8b .. + 7 */
                for (int b = 0; b < 8; b++)
                    T[b][g] = _mm512_gf2p8affine_epi64_epi8(
                        ident, _mm512_permutexvar_epi8(idx1, v[b]), 0);
            }
            for (int b = 0; b < 8 && q0 + 8 * b < pp; b++) {
                __m512i u[8];
                if (q0 + 8 * b >= pt) { /* positions past pt: zero */
                    for (int j = 0; j < J; j++)
                        _mm512_storeu_si512((void *)(bm + (j * W + w) * pp + q0 + 8 * b),
                                            _mm512_setzero_si512());
                    continue;
                }
                for (int g = 0; g < 8; g++) u[g] = T[b][g];
                tr8(u); /* u[i] word g: group g's digit bytes at position i */
                for (int i = 0; i < 8; i++) u[i] = _mm512_permutexvar_epi8(idx2, u[i]);
                tr8(u); /* u[j] word i: digit j's 64-row mask at position i */
                for (int j = 0; j < J; j++)
                    _mm512_storeu_si512((void *)(bm + (j * W + w) * pp + q0 + 8 * b), u[j]);
            }
        }
}

static bool gfni_ok(void) {
    return __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni");
}
#endif

void xb_bits_pack(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, int64_t k0, int64_t kb,
                  int64_t p0, int64_t pt, void *scratch, uint64_t **bm_out) {
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words;
    uint8_t *xt = scratch;
    uint64_t *bm = (uint64_t *)(void *)(xt + pp * W * 64);
    *bm_out = bm;
#ifdef XB_BITS_X86
    if (gfni_ok()) {
        masks_gfni(x, P, k0, kb, p0, pt, pp, W, l->cfg.input_slices, bm);
        return;
    }
    transpose_block(x, P, k0, kb, p0, pt, pp, W, xt);
    masks_avx512(xt, pp, W, l->cfg.input_slices, bm);
#else
    (void)x, (void)P, (void)k0, (void)kb, (void)p0, (void)bm;
#endif
}

#ifdef XB_BITS_X86
/* 8 positions per vector: the words' popcounts added, narrowed to bytes. */
XB_BITS_TARGET static void x1_avx512(const uint64_t *bm, int64_t pt, int64_t pp, int64_t W, int J,
                                     uint8_t *x1) {
    for (int j = 0; j < J; j++)
        for (int64_t q = 0; q < pt; q += 8) {
            __m512i t = _mm512_popcnt_epi64(_mm512_loadu_si512((const void *)(bm + j * W * pp + q)));
            if (W > 1)
                t = _mm512_add_epi64(t, _mm512_popcnt_epi64(_mm512_loadu_si512(
                                            (const void *)(bm + (j * W + 1) * pp + q))));
            __mmask8 k = (__mmask8)(pt - q >= 8 ? 0xff : (1u << (pt - q)) - 1);
            _mm512_mask_cvtepi64_storeu_epi8((void *)(x1 + j * pt + q), k, t);
        }
}
#endif

void xb_bits_x1(const xb_crossbar_layer *l, const uint64_t *bm, int64_t pt, uint8_t *x1) {
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words;
#ifdef XB_BITS_X86
    x1_avx512(bm, pt, pp, W, l->cfg.input_slices, x1);
#else
    for (int j = 0; j < l->cfg.input_slices; j++)
        for (int64_t q = 0; q < pt; q++) {
            int t = 0;
            for (int64_t w = 0; w < W; w++) t += __builtin_popcountll(bm[(j * W + w) * pp + q]);
            x1[j * pt + q] = (uint8_t)t;
        }
#endif
}

#ifdef XB_BITS_X86
/* halves, col_sums: bitsums_simd.h (shared with hist.c's fused statistics) */

/* One run of up to 16 positions: every column's sums, stored at S[c * ld +
 * pos] (masked to wd). */
XB_BITS_TARGET static inline __attribute__((always_inline)) void
run_sums(const uint64_t *lb, int64_t C, int planes, int64_t W, const uint64_t *m, int64_t pp,
         int wd, int32_t *S, int64_t ld) {
    __m512i M[2][2];
    for (int64_t w = 0; w < W; w++) halves(m + w * pp, M[w]);
    __mmask16 kk = (__mmask16)(wd >= 16 ? 0xffff : (1u << wd) - 1);
    for (int64_t c = 0; c < C; c++)
        _mm512_mask_storeu_epi32((void *)(S + c * ld), kk,
                                 col_sums(lb + c * planes * W, planes, W, M));
}

XB_BITS_TARGET static void sums_w2p2(const uint64_t *lb, int64_t C, const uint64_t *m, int64_t pp,
                                     int wd, int32_t *S, int64_t ld) {
    run_sums(lb, C, 2, 2, m, pp, wd, S, ld);
}

XB_BITS_TARGET static void sums_any(const uint64_t *lb, int64_t C, int planes, int64_t W,
                                    const uint64_t *m, int64_t pp, int wd, int32_t *S,
                                    int64_t ld) {
    run_sums(lb, C, planes, W, m, pp, wd, S, ld);
}
#endif

#ifdef XB_BITS_X86
/* One run of 16 positions (masks m, digit shift js): for each output n the
 * clip corrections of its columns, sum_c sign_c (clip(S_c) - S_c) 2^shift_c,
 * formed in registers and added to corr[n][q0..] << js once; the clipped
 * lanes within wd are counted in a vector.  The 64-row mask words are split
 * into their 32-row halves, so one vector holds the 16 positions in 32-bit
 * lanes (VPOPCNTD): half the clip, shift and add work of 64-bit lanes; the
 * sums and corrections fit (xb_bits_fused_ok), widened to int64 for corr.
 * PLANES and W are compile-time where the callers pass constants. */
XB_BITS_TARGET static inline __attribute__((always_inline)) int64_t
run_correct(const uint64_t *lb, const xb_bits_clip *k, int planes, int64_t W, const uint64_t *m,
            int64_t pp, int wd, int js, int64_t *corr, int64_t ldc) {
    __m512i M[2][2]; /* [word][rows 0-31, 32-63 of it], lane = position */
    for (int64_t w = 0; w < W; w++) halves(m + w * pp, M[w]);
    __mmask16 kk = (__mmask16)(wd >= 16 ? 0xffff : (1u << wd) - 1);
    __mmask8 k0 = (__mmask8)kk, k1 = (__mmask8)(kk >> 8);
    /* the sums are below 2^31: a wider top code clips nothing either way */
    __m512i vhi = _mm512_set1_epi32((int32_t)(k->hi < INT32_MAX ? k->hi : INT32_MAX)),
            vjs = _mm512_set1_epi64(js);
    __m512i cnt = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    for (int64_t n = 0; n < k->N; n++) {
        __m512i t = _mm512_setzero_si512();
        for (int u = 0; u < k->per_n; u++) {
            int64_t c = u * k->N + n; /* program.c's column order */
            __m512i a = col_sums(lb + c * planes * W, planes, W, M);
            /* clip(S) - S = min(S, hi) - S: the sums are >= 0 >= lo (checked
             * by the caller), 0 in the unclipped lanes and past wd (S = 0) */
            __m512i d = _mm512_sub_epi32(_mm512_min_epi32(a, vhi), a);
            cnt = _mm512_mask_add_epi32(cnt, _mm512_mask_cmpgt_epi32_mask(kk, a, vhi), cnt, one);
            d = _mm512_sllv_epi32(d, _mm512_set1_epi32((int32_t)k->shift[c]));
            if ((k->sign[c] < 0) != (k->flip && k->flip[c]))
                t = _mm512_sub_epi32(t, d);
            else
                t = _mm512_add_epi32(t, d);
        }
        int64_t *cq = corr + n * ldc;
        __m512i t0 = _mm512_sllv_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(t)), vjs),
                t1 = _mm512_sllv_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(t, 1)), vjs);
        _mm512_mask_storeu_epi64(cq, k0, _mm512_add_epi64(_mm512_maskz_loadu_epi64(k0, cq), t0));
        if (k1)
            _mm512_mask_storeu_epi64(cq + 8, k1,
                                     _mm512_add_epi64(_mm512_maskz_loadu_epi64(k1, cq + 8), t1));
    }
    return _mm512_reduce_add_epi32(cnt);
}

XB_BITS_TARGET static int64_t correct_w2p2(const uint64_t *lb, const xb_bits_clip *k,
                                           const uint64_t *m, int64_t pp, int wd, int js,
                                           int64_t *corr, int64_t ldc) {
    return run_correct(lb, k, 2, 2, m, pp, wd, js, corr, ldc);
}

XB_BITS_TARGET static int64_t correct_w1p2(const uint64_t *lb, const xb_bits_clip *k,
                                           const uint64_t *m, int64_t pp, int wd, int js,
                                           int64_t *corr, int64_t ldc) {
    return run_correct(lb, k, 2, 1, m, pp, wd, js, corr, ldc);
}

XB_BITS_TARGET static int64_t correct_any(const uint64_t *lb, const xb_bits_clip *k, int planes,
                                          int64_t W, const uint64_t *m, int64_t pp, int wd,
                                          int js, int64_t *corr, int64_t ldc) {
    return run_correct(lb, k, planes, W, m, pp, wd, js, corr, ldc);
}
#endif

#ifdef XB_BITS_X86
/* One position a call (pt = 1: fully connected layers, one image): each
 * run is a single (digit, position) column, so the lanes hold up to 16 runs
 * instead of one run's 16 positions (which would leave 15 lanes idle).
 * Lane i gets run r0 + i's mask words; lanes past nr stay zero. */
XB_BITS_TARGET static void lane_masks(const uint64_t *bm, int64_t W, int64_t pp, const uint8_t *qj,
                                      int64_t r0, int64_t nl, __m512i M[2][2]) {
    for (int64_t w = 0; w < W; w++) {
        uint64_t t[16] = {0};
        for (int64_t i = 0; i < nl; i++) t[i] = bm[((int64_t)qj[r0 + i] * W + w) * pp];
        halves(t, M[w]);
    }
}

/* xb_bits_sums with pt = 1: S[c * ld + ri] for run ri (one position each). */
XB_BITS_TARGET static void sums_one_position(const uint64_t *lb, int64_t C, int planes, int64_t W,
                                             const uint64_t *bm, int64_t pp, const uint8_t *qj,
                                             int64_t nr, int32_t *S, int64_t ld) {
    for (int64_t r0 = 0; r0 < nr; r0 += 16) {
        int64_t nl = nr - r0 < 16 ? nr - r0 : 16;
        __m512i M[2][2];
        lane_masks(bm, W, pp, qj, r0, nl, M);
        __mmask16 kk = (__mmask16)((1u << nl) - 1);
        for (int64_t c = 0; c < C; c++)
            _mm512_mask_storeu_epi32((void *)(S + c * ld + r0), kk,
                                     col_sums(lb + c * planes * W, planes, W, M));
    }
}

/* xb_bits_correct with pt = 1: the lanes are runs (digits j), 8 a group in
 * 64-bit lanes holding a run's whole mask word (at most 8 digit planes, so
 * one group per block: 16 lanes of 32-bit halves left half the vector
 * empty); each output's corrections are shifted by their lane's j d and
 * summed into corr[n].  The sums and corrections equal xb_bits_correct's
 * (64-bit lanes hold the same int32-bounded values, xb_bits_fused_ok).
 * Layers with column thresholds take the sorted path instead, one position
 * included (correction.c): its output groups skip per digit. */
XB_BITS_TARGET static int64_t correct_one_position(const uint64_t *lb, const xb_bits_clip *k,
                                                   int planes, int64_t W, const uint64_t *bm,
                                                   int64_t pp, const uint8_t *qj, int64_t nr,
                                                   int d, int64_t *corr) {
    int64_t cnt = 0;
    __m512i vhi = _mm512_set1_epi64(k->hi < INT32_MAX ? k->hi : INT32_MAX);
    for (int64_t r0 = 0; r0 < nr; r0 += 8) {
        int64_t nl = nr - r0 < 8 ? nr - r0 : 8;
        __mmask8 kk = (__mmask8)((1u << nl) - 1);
        int64_t js[8] = {0};
        __m512i M[2];
        for (int64_t w = 0; w < W; w++) {
            uint64_t t[8] = {0};
            for (int64_t i = 0; i < nl; i++) t[i] = bm[((int64_t)qj[r0 + i] * W + w) * pp];
            M[w] = _mm512_loadu_si512((const void *)t);
        }
        for (int64_t i = 0; i < nl; i++) js[i] = (int64_t)qj[r0 + i] * d;
        __m512i vjs = _mm512_loadu_si512((const void *)js);
        for (int64_t n = 0; n < k->N; n++) {
            __m512i t = _mm512_setzero_si512();
            for (int u = 0; u < k->per_n; u++) {
                int64_t c = u * k->N + n;
                const uint64_t *lc = lb + c * planes * W;
                __m512i a = _mm512_setzero_si512();
                for (int p = planes - 1; p >= 0; p--) {
                    a = _mm512_add_epi64(a, a);
                    for (int64_t w = 0; w < W; w++)
                        a = _mm512_add_epi64(a, _mm512_popcnt_epi64(_mm512_and_si512(
                                                    M[w], _mm512_set1_epi64((long long)lc[p * W + w]))));
                }
                __m512i dd = _mm512_sub_epi64(_mm512_min_epi64(a, vhi), a);
                cnt += __builtin_popcount(_mm512_mask_cmpgt_epi64_mask(kk, a, vhi));
                dd = _mm512_sllv_epi64(dd, _mm512_set1_epi64(k->shift[c]));
                if ((k->sign[c] < 0) != (k->flip && k->flip[c]))
                    t = _mm512_sub_epi64(t, dd);
                else
                    t = _mm512_add_epi64(t, dd);
            }
            corr[n] += _mm512_reduce_add_epi64(_mm512_sllv_epi64(t, vjs));
        }
    }
    return cnt;
}
#endif

/* A bound on one output's corrections from one run: |clip(S) - S| <= S <=
 * 128 rows x the top level, shifted per column and summed over the
 * output's columns; -1 if a shift is too wide to bound. */
static int64_t run_bound(const xb_crossbar_layer *l) {
    int64_t smax = 128 * (((int64_t)1 << l->lev_planes) - 1), b = 0, N = l->cfg.N;
    for (int64_t c = 0; c < l->C; c += N) {
        if (l->col_shift[c] > 20) return -1;
        b += smax << l->col_shift[c];
    }
    return b;
}

bool xb_bits_fused_ok(const xb_crossbar_layer *l) {
    if (!l->levbits || l->cfg.rows > 128) return false;
    /* one output's corrections of a run fit an int32 lane */
    int64_t b = run_bound(l);
    return b >= 0 && b < ((int64_t)1 << 31);
}

int64_t xb_bits_correct(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm, int64_t pt,
                        const uint8_t *qj, const int32_t *qcols, int64_t nr,
                        const xb_bits_clip *k, int64_t *corr) {
    int64_t ns = 0;
#ifdef XB_BITS_X86
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words, C = l->C;
    int planes = l->lev_planes;
    const uint64_t *lb = l->levbits + (size_t)(blk * C * planes * W);
    if (pt == 1) return correct_one_position(lb, k, planes, W, bm, pp, qj, nr, l->cfg.dac_bits, corr);
    for (int64_t ri = 0; ri < nr; ri++) {
        int64_t q0 = qcols[ri], wd = pt - q0 < BITS_RUN ? pt - q0 : BITS_RUN;
        const uint64_t *m = bm + (int64_t)qj[ri] * W * pp + q0;
        int js = qj[ri] * l->cfg.dac_bits;
        if (planes == 2 && W == 2)
            ns += correct_w2p2(lb, k, m, pp, (int)wd, js, corr + q0, pt);
        else if (planes == 2 && W == 1)
            ns += correct_w1p2(lb, k, m, pp, (int)wd, js, corr + q0, pt);
        else
            ns += correct_any(lb, k, planes, W, m, pp, (int)wd, js, corr + q0, pt);
    }
#else
    (void)l, (void)blk, (void)bm, (void)pt, (void)qj, (void)qcols, (void)nr, (void)k, (void)corr;
#endif
    return ns;
}

void xb_bits_sums(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm, int64_t pt,
                  const uint8_t *qj, const int32_t *qcols, int64_t nr, int64_t ld, int32_t *S) {
#ifdef XB_BITS_X86
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words, C = l->C;
    int planes = l->lev_planes;
    const uint64_t *lb = l->levbits + (size_t)(blk * C * planes * W);
    if (pt == 1) { /* every run one position: pos = ri */
        sums_one_position(lb, C, planes, W, bm, pp, qj, nr, S, ld);
        return;
    }
    int64_t pos = 0;
    for (int64_t ri = 0; ri < nr; ri++) {
        int64_t q0 = qcols[ri], wd = pt - q0 < BITS_RUN ? pt - q0 : BITS_RUN;
        const uint64_t *m = bm + (int64_t)qj[ri] * W * pp + q0;
        if (planes == 2 && W == 2)
            sums_w2p2(lb, C, m, pp, (int)wd, S + pos, ld);
        else
            sums_any(lb, C, planes, W, m, pp, (int)wd, S + pos, ld);
        pos += wd;
    }
#else
    (void)l, (void)blk, (void)bm, (void)pt, (void)qj, (void)qcols, (void)nr, (void)ld, (void)S;
#endif
}

/* ---- the sorted path (bitsums.h, xb_bits_correct_sorted) ----
 *
 * Lanes are 16 outputs of one (digit, position) column: output group g of
 * slice u holds columns u N + 16 g .. + 15, and the N mod 16 remainder
 * outputs of several slices share a group (groups_of; l->lev_cols, laid
 * out once with the levels).  Per digit plane the kept positions (X1 at
 * least the block's smallest column threshold) are bucketed by X1, largest
 * first; each group
 * then runs over the buckets up to the last one holding an X1 that reaches
 * the group's smallest threshold.  Its level planes, shifts and negation
 * mask stay in registers over those positions, each position's mask halves
 * are broadcast, and its 16 corrections add straight into the position's
 * row of corrT (position-major).  Why output lanes rather than 16-position
 * runs of one column, with the lanes each computes: docs/PERFORMANCE.md,
 * session 10, perf-clip7. */

int64_t xb_bits_corr_ld(int64_t N) { return (N + 15) & ~(int64_t)15; }

/* Per (block, output group): the lanes whose column enters negated (its
 * sign negative xor the block flipped it); per output group: the columns'
 * shifts, 0 past N (lanes past N have zero level planes: zero sums, no
 * correction, no clip). */
static xb_status group_signs(xb_crossbar_layer *l, xb_ctx *ctx) {
    grp_geom G = groups_of(l);
    int64_t ngr = G.ngr, nblk = l->cfg.groups * l->R;
    l->lev_gneg = xb_calloc(ctx, (size_t)(nblk * ngr), sizeof *l->lev_gneg);
    l->lev_gsh = xb_calloc(ctx, (size_t)(ngr * 16), sizeof *l->lev_gsh);
    if (!l->lev_gneg || !l->lev_gsh) return XB_ERR_NOMEM;
    for (int64_t i = 0; i < ngr; i++)
        for (int64_t e = 0; e < 16; e++) {
            int64_t c = lane_col(l, &G, i, e);
            if (c < 0) continue;
            l->lev_gsh[i * 16 + e] = (int32_t)l->col_shift[c];
            for (int64_t blk = 0; blk < nblk; blk++)
                if ((l->col_sign[c] < 0) != (l->flipped && l->flipped[blk * l->C + c]))
                    l->lev_gneg[blk * ngr + i] |= (uint16_t)(1u << e);
        }
    return XB_OK;
}

static xb_status columns(xb_crossbar_layer *l, xb_ctx *ctx) {
    const xb_crossbar_config *c = &l->cfg;
    grp_geom G = groups_of(l);
    int64_t W = l->lev_words;
    int planes = l->lev_planes;
    int64_t nblk = c->groups * l->R, gw = (int64_t)planes * W * 2 * 16; /* uint32 per group */
    l->lev_cols = xb_calloc(ctx, (size_t)(nblk * G.ngr * gw), sizeof(uint32_t));
    if (!l->lev_cols) return XB_ERR_NOMEM;
    for (int64_t blk = 0; blk < nblk; blk++)
        for (int64_t i = 0; i < G.ngr; i++)
            for (int64_t e = 0; e < 16; e++) {
                int64_t col = lane_col(l, &G, i, e);
                if (col < 0) continue; /* empty lane: zero planes, zero sums */
                const uint64_t *lc = l->levbits + (size_t)((blk * l->C + col) * planes * W);
                uint32_t *o = l->lev_cols + (size_t)((blk * G.ngr + i) * gw);
                for (int p = 0; p < planes; p++)
                    for (int64_t w = 0; w < W; w++)
                        for (int h = 0; h < 2; h++)
                            o[((p * W + w) * 2 + h) * 16 + e] =
                                (uint32_t)(lc[p * W + w] >> (32 * h));
            }
    return group_signs(l, ctx);
}

/* Scratch of the sorted path: the kept positions, and the same with their
 * X1 before bucketing [pt + 16] (int32) each. */
#define SRT_ALIGN(b) (((b) + 63) & ~(size_t)63)
size_t xb_bits_sort_bytes(const xb_crossbar_layer *l, int64_t pt) {
    if (!l->lev_thr) return 0;
    return 3 * SRT_ALIGN((size_t)(pt + 16) * 4);
}

bool xb_bits_sorted_ok(const xb_crossbar_layer *l) {
    if (!l->lev_thr || l->lev_thr_hi != l->cfg.code_hi || !xb_bits_fused_ok(l)) return false;
    /* a chunk's int32 corrections: every run's bound, shifted by its digit
     * (sum_j 2^(j d) < 2^(J d)), over the row blocks */
    int64_t jd = (int64_t)l->cfg.input_slices * l->cfg.dac_bits;
    return jd <= 30 && run_bound(l) * l->R < (((int64_t)1 << 31) >> jd);
}

#ifdef XB_BITS_X86
/* 16 x 16 transpose of 32-bit elements: r[i] lane j <- r[j] lane i
 * (elements within 128-bit lanes, then the lanes). */
XB_BITS_TARGET static inline __attribute__((always_inline)) void tr16(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + m] lane L = rows 4g .. 4g + 3 at column 4L + m */
    for (int g = 0; g < 4; g++) {
        u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
        u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
        u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
    }
    for (int m = 0; m < 4; m++) {
        __m512i a = _mm512_shuffle_i32x4(u[m], u[4 + m], 0x44),
                b = _mm512_shuffle_i32x4(u[m], u[4 + m], 0xee),
                c = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0x44),
                d = _mm512_shuffle_i32x4(u[8 + m], u[12 + m], 0xee);
        r[m] = _mm512_shuffle_i32x4(a, c, 0x88);
        r[4 + m] = _mm512_shuffle_i32x4(a, c, 0xdd);
        r[8 + m] = _mm512_shuffle_i32x4(b, d, 0x88);
        r[12 + m] = _mm512_shuffle_i32x4(b, d, 0xdd);
    }
}

/* The positions of one digit plane with X1 >= lo[nb - 1] into idx,
 * grouped into nb buckets of X1 (bucket i: lo[i] <= X1 < lo[i - 1],
 * largest first), so that each output group can stop at the last bucket
 * whose X1 reaches its smallest threshold; returns how many, each bucket's
 * end in ends and its largest X1 in bmax (-1 if empty).  Vector compares
 * and register compresses throughout (most positions are not taken), the
 * largest X1 by masked maxima in the same passes; within a bucket the
 * order is the positions', so the result is a function of x1 alone.  x1 is
 * readable 16 bytes past pt (masked off); hot, hv and idx have 16 spare
 * slots. */
XB_BITS_TARGET static int64_t bucket_positions(const uint8_t *x1, int64_t pt, const int *lo, int nb,
                                               int32_t *idx, int32_t *hot, int32_t *hv,
                                               int64_t *ends, int *bmax) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i none = _mm512_set1_epi32(-1);
    __m512i vt = _mm512_set1_epi32(lo[nb - 1] - 1), mx = none;
    int64_t nh = 0;
    for (int64_t q = 0; q < pt; q += 16) {
        __mmask16 in = (__mmask16)(pt - q >= 16 ? 0xffff : (1u << (pt - q)) - 1);
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(x1 + q)));
        __mmask16 h = _mm512_mask_cmpgt_epi32_mask(in, v, vt);
        /* register compress, then a full store (16 spare slots) */
        _mm512_storeu_si512((void *)(hot + nh),
                            _mm512_maskz_compress_epi32(h, _mm512_add_epi32(
                                                               iota, _mm512_set1_epi32((int)q))));
        _mm512_storeu_si512((void *)(hv + nh), _mm512_maskz_compress_epi32(h, v));
        mx = _mm512_mask_max_epi32(mx, h, mx, v);
        nh += __builtin_popcount(h);
    }
    if (nb == 1 || !nh) {
        memcpy(idx, hot, (size_t)nh * sizeof *idx);
        for (int i = 0; i < nb; i++) ends[i] = nh, bmax[i] = -1;
        if (nh) bmax[0] = _mm512_reduce_max_epi32(mx);
        return nh;
    }
    int64_t n = 0;
    for (int i = 0; i < nb; i++) {
        __m512i vlo = _mm512_set1_epi32(lo[i]), vup = _mm512_set1_epi32(i ? lo[i - 1] : 256);
        mx = none;
        for (int64_t s = 0; s < nh; s += 16) {
            __mmask16 in = (__mmask16)(nh - s >= 16 ? 0xffff : (1u << (nh - s)) - 1);
            __m512i v = _mm512_loadu_si512((const void *)(hv + s));
            __mmask16 m = _mm512_mask_cmplt_epi32_mask(
                _mm512_mask_cmpge_epi32_mask(in, v, vlo), v, vup);
            _mm512_storeu_si512((void *)(idx + n),
                                _mm512_maskz_compress_epi32(
                                    m, _mm512_loadu_si512((const void *)(hot + s))));
            mx = _mm512_mask_max_epi32(mx, m, mx, v);
            n += __builtin_popcount(m);
        }
        ends[i] = n;
        bmax[i] = _mm512_reduce_max_epi32(mx); /* -1 if the bucket is empty */
    }
    return n;
}

/* Group i (level planes lc, negation mask kneg, shifts sh with the digit's
 * added) over the kept positions idx[0 .. np) of one digit plane (mask
 * words bm + q, stride pp between words): the corrections sign_c (clip(S_c)
 * - S_c) 2^(shift_c + j d) added to corrT[q * ld ..] (corrT already at the
 * group's first output).  The clipped lanes are added to the vector count
 * cnt, returned. */
XB_BITS_TARGET static inline __attribute__((always_inline)) __m512i
group_run(const uint32_t *lc, int planes, int64_t W, int steps, const uint64_t *bm, int64_t pp,
          const int32_t *idx, int64_t np, __mmask16 kneg, __m512i sh, __m512i vhi, __m512i cnt,
          int32_t *corrT, int64_t ld, __mmask16 kst) {
    const __m512i one = _mm512_set1_epi32(1);
    __m512i L[8][2][2]; /* [plane][word][half] */
    for (int p = 0; p < planes; p++)
        for (int64_t w = 0; w < W; w++)
            for (int h = 0; h < 2; h++)
                L[p][w][h] = _mm512_loadu_si512((const void *)(lc + ((p * W + w) * 2 + h) * 16));
    for (int64_t s = 0; s < np; s++) {
        int64_t q = idx[s];
        __m512i M[2][2];
        for (int64_t w = 0; w < W; w++)
            for (int h = 0; h < 2; h++) {
                int32_t half;
                memcpy(&half, (const char *)(bm + w * pp + q) + 4 * h, sizeof half);
                M[w][h] = _mm512_set1_epi32(half);
            }
        __m512i a = _mm512_setzero_si512();
        for (int p = planes - 1; p >= 0; p--) {
            a = _mm512_add_epi32(a, a);
            for (int64_t w = 0; w < W; w++)
                for (int h = 0; h < 2; h++)
                    a = _mm512_add_epi32(
                        a, _mm512_popcnt_epi32(_mm512_and_si512(M[w][h], L[p][w][h])));
        }
        /* clip(S) - S = min(S, hi) - S, negated in the lanes whose column
         * enters negated (S - min(S, hi)): a masked subtract */
        __m512i mn = _mm512_min_epi32(a, vhi);
        __m512i d = _mm512_mask_sub_epi32(_mm512_sub_epi32(mn, a), kneg, a, mn);
        cnt = _mm512_mask_add_epi32(cnt, _mm512_cmpgt_epi32_mask(a, vhi), cnt, one);
        int32_t *dst = corrT + q * ld;
        __m512i c = _mm512_sllv_epi32(d, sh);
        if (steps == 0) { /* a whole group: 16 outputs */
            _mm512_storeu_si512((void *)dst,
                                _mm512_add_epi32(_mm512_loadu_si512((const void *)dst), c));
            continue;
        }
        /* packed remainders: lane t (< r) gets the sum over the k slots
         * (lanes t + r s), by rotations of 8, 4, ... r lanes */
        c = _mm512_add_epi32(c, _mm512_alignr_epi32(c, c, 8));
        if (steps > 1) c = _mm512_add_epi32(c, _mm512_alignr_epi32(c, c, 4));
        if (steps > 2) c = _mm512_add_epi32(c, _mm512_alignr_epi32(c, c, 2));
        if (steps > 3) c = _mm512_add_epi32(c, _mm512_alignr_epi32(c, c, 1));
        _mm512_mask_storeu_epi32((void *)dst, kst,
                                 _mm512_add_epi32(_mm512_maskz_loadu_epi32(kst, (const void *)dst), c));
    }
    return cnt;
}

/* group_run with the common shapes' planes and words compile-time. */
#define GROUP_ARGS                                                                                \
    const uint32_t *lc, const uint64_t *bm, int64_t pp, const int32_t *idx, int64_t np,           \
        __mmask16 kneg, __m512i sh, __m512i vhi, __m512i cnt, int32_t *corrT, int64_t ld
XB_BITS_TARGET static __m512i group_w2p2(GROUP_ARGS) {
    return group_run(lc, 2, 2, 0, bm, pp, idx, np, kneg, sh, vhi, cnt, corrT, ld, 0xffff);
}

XB_BITS_TARGET static __m512i group_w1p2(GROUP_ARGS) {
    return group_run(lc, 2, 1, 0, bm, pp, idx, np, kneg, sh, vhi, cnt, corrT, ld, 0xffff);
}

/* any shape, and the packed remainder groups (steps > 0, the r outputs in kst) */
XB_BITS_TARGET static __m512i group_any(int planes, int64_t W, int steps, __mmask16 kst,
                                        GROUP_ARGS) {
    return group_run(lc, planes, W, steps, bm, pp, idx, np, kneg, sh, vhi, cnt, corrT, ld, kst);
}

XB_BITS_TARGET static __m512i group_pk_w2p2(int steps, __mmask16 kst, GROUP_ARGS) {
    return group_run(lc, 2, 2, steps, bm, pp, idx, np, kneg, sh, vhi, cnt, corrT, ld, kst);
}

/* One digit plane's kept positions (bucketed by X1, largest first: ends[b]
 * the end of bucket b, bmax[b] its largest X1): each group over the
 * buckets up to the last holding an X1 that reaches its smallest threshold
 * (the later buckets hold only smaller X1: none of the group's columns can
 * clip there). */
XB_BITS_TARGET static int64_t digit_groups(const uint32_t *cols, int64_t ngr, int planes, int64_t W,
                                           const uint64_t *bj, int64_t pp, const int32_t *idx,
                                           const int64_t *ends, const int *bmax, int nb, int js,
                                           const uint8_t *gthr, const uint16_t *gneg,
                                           const int32_t *gsh, int32_t hi, int32_t *corrT,
                                           int64_t ld, const grp_geom *G) {
    __m512i cnt = _mm512_setzero_si512(), vjs = _mm512_set1_epi32(js), vhi = _mm512_set1_epi32(hi);
    int64_t gw = (int64_t)planes * W * 2 * 16;
    __mmask16 kst = (__mmask16)((1u << G->r) - 1); /* a packed group's r outputs */
    for (int64_t i = 0; i < ngr; i++) {
        int64_t np = 0;
        for (int b = 0; b < nb; b++)
            if (bmax[b] >= gthr[i]) np = ends[b];
        if (!np) continue;
        __m512i sh = _mm512_add_epi32(_mm512_loadu_si512((const void *)(gsh + i * 16)), vjs);
        const uint32_t *lc = cols + i * gw;
        bool whole = i < G->nfull;
        int steps = whole ? 0 : G->steps; /* 0 also for k = 1: a group of 16 lanes */
        int32_t *ct = corrT + (whole ? i % G->nf : G->nf) * 16;
        if (steps > 0 && planes == 2 && W == 2)
            cnt = group_pk_w2p2(steps, kst, lc, bj, pp, idx, np, (__mmask16)gneg[i], sh, vhi, cnt,
                                ct, ld);
        else if (steps > 0)
            cnt = group_any(planes, W, steps, kst, lc, bj, pp, idx, np, (__mmask16)gneg[i], sh,
                            vhi, cnt, ct, ld);
        else if (planes == 2 && W == 2)
            cnt = group_w2p2(lc, bj, pp, idx, np, (__mmask16)gneg[i], sh, vhi, cnt, ct, ld);
        else if (planes == 2 && W == 1)
            cnt = group_w1p2(lc, bj, pp, idx, np, (__mmask16)gneg[i], sh, vhi, cnt, ct, ld);
        else
            cnt = group_any(planes, W, 0, 0xffff, lc, bj, pp, idx, np, (__mmask16)gneg[i], sh, vhi,
                            cnt, ct, ld);
    }
    return _mm512_reduce_add_epi32(cnt);
}
#endif

int64_t xb_bits_correct_sorted(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm,
                               const uint8_t *x1, int64_t pt, const xb_bits_clip *k,
                               int32_t *corrT, void *scratch, bool *touched) {
    *touched = false;
#ifdef XB_BITS_X86
    int64_t pp = xb_bits_ppad(pt), W = l->lev_words, ld = xb_bits_corr_ld(k->N);
    grp_geom G = groups_of(l);
    int64_t ngr = G.ngr;
    int planes = l->lev_planes, J = l->cfg.input_slices, d = l->cfg.dac_bits;
    const uint8_t *bk = l->lev_bk + blk * 5; /* bk[0] > 0: correction.c checked */
    const uint32_t *cols = l->lev_cols + (size_t)(blk * ngr * planes * W * 2 * 16);
    int nb = bk[0], lo[4];
    for (int i = 0; i < nb; i++) lo[i] = bk[1 + i];
    uint8_t *p = scratch;
    size_t np4 = SRT_ALIGN((size_t)(pt + 16) * 4);
    int32_t *idx = (int32_t *)(void *)p, *hot = (int32_t *)(void *)(p += np4),
            *hv = (int32_t *)(void *)(p += np4);
    /* the groups' thresholds, negation masks and shifts: built with the layer */
    const uint8_t *gthr = l->lev_gthr + blk * ngr;
    const uint16_t *gneg = l->lev_gneg + blk * ngr;
    const int32_t *gsh = l->lev_gsh;
    /* the sums are below 2^31: a wider top code clips nothing either way */
    int32_t hi = (int32_t)(k->hi < INT32_MAX ? k->hi : INT32_MAX);
    int64_t ns_sat = 0, ends[4];
    for (int j = 0; j < J; j++) {
        int bmax[4];
        int64_t ns = bucket_positions(x1 + (int64_t)j * pt, pt, lo, nb, idx, hot, hv, ends, bmax);
        if (!ns) continue;
        *touched = true;
        ns_sat += digit_groups(cols, ngr, planes, W, bm + (int64_t)j * W * pp, pp, idx, ends,
                               bmax, nb, j * d, gthr, gneg, gsh, hi, corrT, ld, &G);
    }
    return ns_sat;
#else
    (void)l, (void)blk, (void)bm, (void)x1, (void)pt, (void)k, (void)corrT, (void)scratch;
    return 0;
#endif
}

#ifdef XB_BITS_X86
/* xb_bits_apply_sorted's 16 x 16 blocks: 16 positions' rows of 16 outputs
 * turned into 16 outputs' rows of 16 positions (tr16), added to acc with
 * signed saturation in int32: a sum overflows only when both terms have
 * the same sign and the wrapped sum the other one, and then the exact sum
 * lies beyond the limit of the first term's sign, so the clamp of the
 * int64 sum is INT32_MAX or INT32_MIN by that sign (one add, one ternary
 * logic op, one sign test and a masked move, where widening to int64 and
 * narrowing with VPMOVSQD took twice the operations). */
XB_BITS_TARGET static void apply_avx512(int32_t *acc, int64_t P, const int32_t *corrT, int64_t ld,
                                        int64_t N, int64_t pt) {
    int64_t N16 = N & ~(int64_t)15, pt16 = pt & ~(int64_t)15;
    for (int64_t q0 = 0; q0 < pt16; q0 += 16)
        for (int64_t n0 = 0; n0 < N16; n0 += 16) {
            __m512i v[16], any = _mm512_setzero_si512();
            for (int i = 0; i < 16; i++) {
                v[i] = _mm512_loadu_si512((const void *)(corrT + (q0 + i) * ld + n0));
                any = _mm512_or_si512(any, v[i]);
            }
            if (!_mm512_test_epi32_mask(any, any)) continue; /* nothing clipped here */
            tr16(v); /* v[n]: output n0 + n at positions q0 .. q0 + 15 */
            const __m512i top = _mm512_set1_epi32(INT32_MAX);
            for (int n = 0; n < 16; n++) {
                int32_t *a = acc + (n0 + n) * P + q0;
                __m512i av = _mm512_loadu_si512((const void *)a), t = _mm512_add_epi32(av, v[n]);
                /* sign bit of (a == c) & (a != t), bitwise: 0x42 sets rows (a,c,t) = 001, 110 */
                __mmask16 ov = _mm512_cmplt_epi32_mask(_mm512_ternarylogic_epi32(av, v[n], t, 0x42),
                                                       _mm512_setzero_si512());
                t = _mm512_mask_mov_epi32(t, ov, _mm512_xor_si512(_mm512_srai_epi32(av, 31), top));
                _mm512_storeu_si512((void *)a, t);
            }
        }
    for (int64_t n = 0; n < N; n++) /* the edges */
        for (int64_t q = n < N16 ? pt16 : 0; q < pt; q++) {
            int64_t t = (int64_t)acc[n * P + q] + corrT[q * ld + n];
            acc[n * P + q] = (int32_t)(t > INT32_MAX ? INT32_MAX : t < INT32_MIN ? INT32_MIN : t);
        }
}
#endif

void xb_bits_apply_sorted(int32_t *acc, int64_t P, const int32_t *corrT, int64_t ld, int64_t N,
                          int64_t pt) {
#ifdef XB_BITS_X86
    apply_avx512(acc, P, corrT, ld, N, pt);
#else
    (void)acc, (void)P, (void)corrT, (void)ld, (void)N, (void)pt;
#endif
}
