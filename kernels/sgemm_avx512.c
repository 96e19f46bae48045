/* AVX-512 micro-kernel for kernels/sgemm.c (see sgemm_avx512.h).
 *
 * An 8 x 32 register tile: 16 zmm accumulators, two B vectors and the
 * broadcast A value per k, so 16 FMAs per 10 loads (the broadcasts fold
 * into the FMA as embedded {1to16} operands).  Written with intrinsics and
 * a function-level target attribute, so this file compiles in any x86-64
 * build and sgemm.c calls it only after checking the CPU at run time.
 *
 * Compared with the compiler-vectorised portable tile it also stores
 * partial tiles with masked stores (no bounce through a stack tile), and
 * applies the epilogue (bias, residual, Relu) in registers.  Each output is one
 * accumulator summed in increasing k with FMA, exactly like the portable
 * tile, so the two give the same bits whenever the portable build has FMA;
 * kernels/sgemm_test.c checks that. */
#include "kernels/sgemm_avx512.h"

#if XB_SGEMM_AVX512_TILE

#include <immintrin.h>

#define MR 8
#define NR 32
_Static_assert(XB_SGEMM_MR == MR && XB_SGEMM_NR == NR, "the AVX-512 tile is 8 x 32");

#define TGT __attribute__((target("avx512f"), always_inline)) static inline

/* Sum over k into acc; `two` is false when only the first 16 columns are
 * needed (nr <= 16): the same operations on those columns. */
TGT void accumulate(int64_t kc, const float *restrict a, const float *restrict b,
                    const int64_t *boff, int64_t gap, __m512 acc[MR][2], const bool two) {
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++, a += MR) {
        const float *bk = boff ? b + boff[k] : b + k * NR;
        __m512 b0 = _mm512_loadu_ps(bk);
        __m512 b1 = two ? _mm512_loadu_ps(bk + 16 + gap) : b0;
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            if (two) acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
}

/* C = (add ? C + acc : acc) (+ bias) (+ res) (Relu) on the lanes in m.  max(v, 0)
 * returns its second operand for NaN and for -0, so NaN and -0 become +0,
 * like kernels/relu.c's v > 0 ? v : 0. */
TGT void store(float *c, __mmask16 m, __m512 v, bool add, const float *bias, const float *res,
               bool relu) {
    if (!m) return;
    if (add) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), v);
    if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(*bias));
    if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res));
    if (relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(c, m, v);
}

TGT void finish(__m512 acc[MR][2], float *c, int64_t ldc, bool add, int64_t mr, int64_t nr,
                const float *bias, const float *res, bool relu) {
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    for (int64_t i = 0; i < mr; i++) {
        const float *bi = bias ? bias + i : NULL;
        const float *ri = res ? res + i * ldc : NULL;
        store(c + i * ldc, m0, acc[i][0], add, bi, ri, relu);
        store(c + i * ldc + 16, m1, acc[i][1], add, bi, ri ? ri + 16 : NULL, relu);
    }
}

__attribute__((target("avx512f"))) void
xb_sgemm_avx512_tile(int64_t kc, const float *a, const float *b, const int64_t *boff, float *c,
                     int64_t ldc, bool add, int64_t mr, int64_t nr, int64_t gap,
                     const float *bias, const float *res, bool relu) {
    __m512 acc[MR][2];
    /* Four loop versions, so none tests boff or the width per k. */
    if (nr > 16) {
        if (boff)
            accumulate(kc, a, b, boff, gap, acc, true);
        else
            accumulate(kc, a, b, NULL, 0, acc, true);
    } else {
        if (boff)
            accumulate(kc, a, b, boff, 0, acc, false);
        else
            accumulate(kc, a, b, NULL, 0, acc, false);
    }
    finish(acc, c, ldc, add, mr, nr, bias, res, relu);
}

/* One half of row k: a plain load where its mask is all ones, a masked
 * load only where some lane is cut.  On the Intel Xeon of session 12
 * (Emerald Rapids) a masked 512-bit load costs about an FMA slot more than
 * a plain one: with every lane set, masking every row ran at 66 GMAC/s
 * against 81 for the unmasked tile (tools/bench_tile_masked.c), and 72
 * with the mask held in a register (so it is the masked loads, not the
 * mask reads; docs/PERFORMANCE.md, session 12), while on AMD EPYC masked
 * loads were nearly free.  In a 3 x 3 conv's panels the middle tap
 * column reads whole halves, and so does one half of each side column on
 * 32-wide maps (4 of 6 halves; 2 of 6 on 16- and 8-wide maps, where the
 * gain is smaller); the branch repeats with the taps, so it predicts
 * well.  The same lanes, values and zeros either way, so the same bits. */
TGT __m512 load_half(const float *p, uint16_t m) {
    return m == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

/* Rows read in place with lane masks (xb_sgemm_rows_masked_ep): row k's
 * columns j < 16 are loaded under kmask[2k], columns 16..31 under
 * kmask[2k+1], masked-out lanes reading as +0.0 and not touching memory
 * (AVX-512 masked loads suppress faults on them), so a conv can point
 * rows at the unpadded input, past its edges, and get the zeros a padded
 * copy would hold. */
TGT void accumulate_masked(int64_t kc, const float *restrict a, const float *restrict b,
                           const int64_t *restrict boff, const uint16_t *restrict kmask,
                           __m512 acc[MR][2], const bool two) {
    /* Named accumulators, not an array: with an array GCC 12 stored all 16
     * back to the stack on every k, since it could not tell that the masked
     * loads do not read it (2.4x slower, measured). */
    __m512 z = _mm512_setzero_ps();
    __m512 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
    __m512 c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
    /* Unrolled by two: 1.6-4 % faster on ResNet-20 (bench_float, four
     * alternations; 4 and 8 gave the same). */
#pragma GCC unroll 2
    for (int64_t k = 0; k < kc; k++, a += MR) {
        const float *bk = b + boff[k];
        __m512 b0 = load_half(bk, kmask[2 * k]);
        __m512 b1 = two ? load_half(bk + 16, kmask[2 * k + 1]) : b0;
#define ROW(i)                                              \
    {                                                       \
        __m512 ai = _mm512_set1_ps(a[i]);                   \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);         \
        if (two) c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1); \
    }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
    acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
    acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
    acc[6][0] = c60, acc[6][1] = c61, acc[7][0] = c70, acc[7][1] = c71;
}

__attribute__((target("avx512f"))) void
xb_sgemm_avx512_tile_masked(int64_t kc, const float *a, const float *b, const int64_t *boff,
                            const uint16_t *kmask, float *c, int64_t ldc, bool add, int64_t mr,
                            int64_t nr, const float *bias, const float *res, bool relu) {
    __m512 acc[MR][2];
    if (nr > 16)
        accumulate_masked(kc, a, b, boff, kmask, acc, true);
    else
        accumulate_masked(kc, a, b, boff, kmask, acc, false);
    finish(acc, c, ldc, add, mr, nr, bias, res, relu);
}

/* Tall tiles for the masked rows: 16 or 24 rows by one 16-column half.
 * The 8 x 32 tile above makes, per k, two B loads for 16 FMAs, and on
 * this Intel CPU each masked load costs about an FMA slot (see
 * load_half).  A 16 x 16 tile makes one B load per 16 FMAs and a 24 x 16
 * one per 24, so a cut half costs half or a third as much per FMA; the A
 * values, each used once, fold into the FMAs as {1to16} broadcasts, so
 * there are fewer uops per FMA even where no lane is cut.  Measured with
 * tools/bench_tile_masked.c (hot rows, M = 16, K = 144, session 13):
 * 16-wide masks 68.0 -> 74.1 GMAC/s, all lanes set 76.1 -> 82.0; ResNet-20 float +5-8% and
 * VGG-small +9% (bench_float and `xbar run` alternations,
 * docs/PERFORMANCE.md, session 13).  Row i's A values are row i % 8 of
 * the packed 8-row panel i / 8 (`ap` floats apart), so the packing is the
 * 8 x 32 tile's.  Same sums in the same order as that tile, so the same
 * bits. */
#define T16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define T24(X) T16(X) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
#define DECL(i) __m512 c##i = _mm512_setzero_ps();
#define FMA(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(((i) < 8 ? a0 : (i) < 16 ? a1 : a2)[(i) % 8]), bk, c##i);
#define OUT(i) acc[i] = c##i;

/* The k loops of the tall tiles: a named accumulator per row (an array
 * spilled to the stack on every k, as in accumulate_masked), and a
 * pointer per A panel: with a[p * ap + i] GCC addressed the broadcasts
 * as base + index, and Intel cores split a memory-operand FMA with an
 * indexed address into two uops (measured slower than the 8 x 32 tile). */
/* Unrolled by two, like accumulate_masked (+1.7% on ResNet-20, bench_float,
 * 11 alternations, 9 faster). */
#define TALL_LOOP(ROWS)                                                                 \
    TGT void accumulate_tall##ROWS(int64_t kc, const float *restrict a, int64_t ap,     \
                                   const float *restrict b, const int64_t *restrict boff, \
                                   const uint16_t *restrict kmask, __m512 *acc) {       \
        T##ROWS(DECL)                                                                   \
        const float *a0 = a, *a1 = a + ap, *a2 = a + 2 * ap;                            \
        _Pragma("GCC unroll 2")                                                         \
        for (int64_t k = 0; k < kc; k++, a0 += MR, a1 += MR, a2 += MR) {                \
            __m512 bk = load_half(b + boff[k], kmask[2 * k]);                           \
            T##ROWS(FMA)                                                                \
        }                                                                               \
        T##ROWS(OUT)                                                                    \
    }
TALL_LOOP(16)
TALL_LOOP(24)
#undef TALL_LOOP
#undef OUT
#undef FMA
#undef DECL
#undef T24
#undef T16

__attribute__((target("avx512f"))) void
xb_sgemm_avx512_tile_masked_tall(int64_t rows, int64_t kc, const float *a, const float *b,
                                 const int64_t *boff, const uint16_t *kmask, float *c,
                                 int64_t ldc, bool add, int64_t mr, int64_t nr,
                                 const float *bias, const float *res, bool relu) {
    __m512 acc[24];
    if (rows == 24)
        accumulate_tall24(kc, a, MR * kc, b, boff, kmask, acc);
    else
        accumulate_tall16(kc, a, MR * kc, b, boff, kmask, acc);
    __mmask16 m = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    for (int64_t i = 0; i < mr; i++)
        store(c + i * ldc, m, acc[i], add, bias ? bias + i : NULL, res ? res + i * ldc : NULL,
              relu);
}

#else
/* ISO C forbids an empty translation unit. */
typedef int xb_sgemm_avx512_unused;
#endif
