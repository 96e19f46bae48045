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

#else
/* ISO C forbids an empty translation unit. */
typedef int xb_sgemm_avx512_unused;
#endif
