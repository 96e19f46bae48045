/* The popcount column-sum kernels bitsums.c and hist.c share (AVX-512
 * VPOPCNTDQ; see bitsums.c for the layout of masks and level planes). */
#ifndef XBAR_CROSSBAR_BITSUMS_SIMD_H
#define XBAR_CROSSBAR_BITSUMS_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#ifndef XB_BITS_TARGET
#define XB_BITS_TARGET __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))
#endif

/* The 16 positions' masks of word w of a run as their two 32-row halves,
 * one 32-bit lane per position: M[0] rows 0-31, M[1] rows 32-63. */
XB_BITS_TARGET static inline __attribute__((always_inline)) void halves(const uint64_t *m,
                                                                       __m512i M[2]) {
    const __m512i ilo = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                          30),
                  ihi = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29,
                                          31);
    __m512i a = _mm512_loadu_si512((const void *)m), b = _mm512_loadu_si512((const void *)(m + 8));
    M[0] = _mm512_permutex2var_epi32(a, ilo, b);
    M[1] = _mm512_permutex2var_epi32(a, ihi, b);
}

/* Column sums of the 16 positions over the first nh 32-row halves of the
 * masks (w = i / 2, h = i % 2; a block of fewer rows has no level bit past
 * them), each plane word's half read as such (little-endian): a broadcast
 * from memory, no shift and register move. */
XB_BITS_TARGET static inline __attribute__((always_inline)) __m512i
col_sums_nh(const uint64_t *lc, int planes, int64_t W, __m512i M[2][2], int nh) {
    __m512i a = _mm512_setzero_si512();
    for (int p = planes - 1; p >= 0; p--) {
        a = _mm512_add_epi32(a, a);
        /* whole words two halves at a time, then an odd last half: with nh =
         * 2 W (col_sums) the loop is the plain word loop */
        for (int w = 0; 2 * w + 1 < nh + (nh & 1); w++)
            for (int h = 0; h < 2 - (2 * w + 1 == nh); h++) {
                int32_t half;
                memcpy(&half, (const char *)(lc + p * W + w) + 4 * h, sizeof half);
                a = _mm512_add_epi32(
                    a, _mm512_popcnt_epi32(_mm512_and_si512(M[w][h], _mm512_set1_epi32(half))));
            }
    }
    return a;
}

/* Column sums of the 16 positions in 32-bit lanes: S = sum_p 2^p
 * popcount(mask & plane p), the plane words split like the masks (all
 * 2 W halves). */
XB_BITS_TARGET static inline __attribute__((always_inline)) __m512i
col_sums(const uint64_t *lc, int planes, int64_t W, __m512i M[2][2]) {
    return col_sums_nh(lc, planes, W, M, 2 * (int)W);
}
#endif

#endif
