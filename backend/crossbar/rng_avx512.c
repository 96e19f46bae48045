/* xb_fast_normals' Box-Muller pairs, 16 at a time with AVX-512 (rng.h).
 * The same operations in the same order as the portable loop in rng.c
 * (no fused multiply-add on either side: both files are built with
 * -ffp-contract=off), so every value is bit for bit the portable one;
 * crossbar/rng_avx512_matches_portable checks it.  Compiled for AVX-512F/DQ
 * by function attribute, called only when the CPU has them (rng.c asks at
 * run time), so a build without -march=native still gets this path. */
#include <stdbool.h>
#include <stdint.h>

#include "backend/crossbar/rng.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define XB_AVX512 __attribute__((target("avx512f,avx512dq")))

bool xb_rng_avx512_usable(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

/* splitmix64's finalizer on 8 lanes (rng.c's mix64). */
XB_AVX512 static inline __m512i mix64x8(__m512i z) {
    z = _mm512_add_epi64(z, _mm512_set1_epi64((long long)0x9e3779b97f4a7c15ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ull));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)0x94d049bb133111ebull));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/* rng.c's sin_half_pi, Horner from the innermost term. */
XB_AVX512 static inline __m512 sin_half_pi16(__m512 x) {
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 t = _mm512_mul_ps(x2, _mm512_set1_ps(1.0f / 362880));
    t = _mm512_mul_ps(x2, _mm512_sub_ps(_mm512_set1_ps(1.0f / 5040), t));
    t = _mm512_mul_ps(x2, _mm512_sub_ps(_mm512_set1_ps(1.0f / 120), t));
    t = _mm512_mul_ps(x2, _mm512_sub_ps(_mm512_set1_ps(1.0f / 6), t));
    return _mm512_mul_ps(x, _mm512_sub_ps(_mm512_set1_ps(1.0f), t));
}

/* Hashes of counters m .. m+15: lanes 0-7 and 8-15 as two 8 x u64; k1 and
 * the 24 uniform bits of u2 narrowed to 16 x u32.  The hash inputs key +
 * (m + i) G come from key + m G plus i G (the same sums mod 2^64), which
 * saves two of the six 64-bit multiplies, the costliest instruction here. */
XB_AVX512 static inline void hash16(uint64_t key, uint64_t m, __m512i *k1, __m512i *u2b) {
    const uint64_t G = 0x9e3779b97f4a7c15ull;
    const __m512i iG = _mm512_set_epi64((long long)(7 * G), (long long)(6 * G), (long long)(5 * G),
                                        (long long)(4 * G), (long long)(3 * G), (long long)(2 * G),
                                        (long long)G, 0);
    __m512i base = _mm512_add_epi64(_mm512_set1_epi64((long long)(key + m * G)), iG);
    __m512i h0 = mix64x8(base);
    __m512i h1 = mix64x8(_mm512_add_epi64(base, _mm512_set1_epi64((long long)(8 * G))));
    __m512i m24 = _mm512_set1_epi64(0xffffff);
    __m256i a0 = _mm512_cvtepi64_epi32(_mm512_srli_epi64(h0, 40));
    __m256i a1 = _mm512_cvtepi64_epi32(_mm512_srli_epi64(h1, 40));
    __m256i b0 = _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_srli_epi64(h0, 8), m24));
    __m256i b1 = _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_srli_epi64(h1, 8), m24));
    *k1 = _mm512_add_epi32(_mm512_inserti64x4(_mm512_castsi256_si512(a0), a1, 1),
                           _mm512_set1_epi32(1));
    *u2b = _mm512_inserti64x4(_mm512_castsi256_si512(b0), b1, 1);
}

/* r = sqrt(-2 ln(k1 / 2^24)) of 16 lanes, as rng.c's normal_pairs. */
XB_AVX512 static inline __m512 radius16(__m512i k1) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512i b = _mm512_castps_si512(_mm512_cvtepi32_ps(k1)); /* k1 <= 2^24: exact */
    __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(b, 23), _mm512_set1_epi32(151)));
    __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi32(0x7fffff)),
                                                   _mm512_set1_epi32(0x3f800000)));
    __m512 s = _mm512_div_ps(_mm512_sub_ps(m, one), _mm512_add_ps(m, one));
    __m512 s2 = _mm512_mul_ps(s, s);
    __m512 p = _mm512_mul_ps(s2, _mm512_set1_ps(1.0f / 9));
    p = _mm512_mul_ps(s2, _mm512_add_ps(_mm512_set1_ps(1.0f / 7), p));
    p = _mm512_mul_ps(s2, _mm512_add_ps(_mm512_set1_ps(1.0f / 5), p));
    p = _mm512_mul_ps(s2, _mm512_add_ps(_mm512_set1_ps(1.0f / 3), p));
    p = _mm512_add_ps(one, p);
    __m512 lnm = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), s), p);
    __m512 a = _mm512_mul_ps(_mm512_set1_ps(-2.0f),
                             _mm512_add_ps(lnm, _mm512_mul_ps(e, _mm512_set1_ps(0.69314718f))));
    a = _mm512_max_ps(a, _mm512_set1_ps(1e-30f)); /* no NaN here: max == the ternary */
    __m512 y = _mm512_castsi512_ps(_mm512_sub_epi32(
        _mm512_set1_epi32(0x5f3759df), _mm512_srli_epi32(_mm512_castps_si512(a), 1)));
    const __m512 h = _mm512_set1_ps(0.5f), t15 = _mm512_set1_ps(1.5f);
    for (int it = 0; it < 3; it++) {
        __m512 q = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(h, a), y), y);
        y = _mm512_mul_ps(y, _mm512_sub_ps(t15, q));
    }
    return _mm512_mul_ps(a, y);
}

XB_AVX512 void xb_normal_pairs_avx512(uint64_t key, uint64_t m0, int64_t npairs, float *out) {
    const __m512i lo_idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi_idx =
        _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512 absm = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512 half = _mm512_set1_ps(0.5f), quarter = _mm512_set1_ps(0.25f),
                 twopi = _mm512_set1_ps(6.2831853f);
    int64_t i = 0;
    for (; i + 16 <= npairs; i += 16) {
        __m512i k1, u2b;
        hash16(key, m0 + (uint64_t)i, &k1, &u2b);
        __m512 r = radius16(k1);
        __m512 u2 = _mm512_mul_ps(_mm512_cvtepi32_ps(u2b), _mm512_set1_ps(0x1.0p-24f));
        __m512 tc = _mm512_and_ps(_mm512_sub_ps(u2, half), absm);
        __mmask16 lt = _mm512_cmp_ps_mask(u2, quarter, _CMP_LT_OQ);
        __m512 u3 = _mm512_mask_blend_ps(lt, _mm512_sub_ps(u2, quarter),
                                         _mm512_add_ps(u2, _mm512_set1_ps(0.75f)));
        __m512 ts = _mm512_and_ps(_mm512_sub_ps(u3, half), absm);
        __m512 nr = _mm512_xor_ps(r, _mm512_set1_ps(-0.0f)); /* -r, exact */
        __m512 cv = _mm512_mul_ps(nr, sin_half_pi16(_mm512_mul_ps(twopi, _mm512_sub_ps(quarter, tc))));
        __m512 sv = _mm512_mul_ps(nr, sin_half_pi16(_mm512_mul_ps(twopi, _mm512_sub_ps(quarter, ts))));
        _mm512_storeu_ps(out + 2 * i, _mm512_permutex2var_ps(cv, lo_idx, sv));
        _mm512_storeu_ps(out + 2 * i + 16, _mm512_permutex2var_ps(cv, hi_idx, sv));
    }
    if (i < npairs) xb_normal_pairs_portable(key, m0 + (uint64_t)i, npairs - i, out + 2 * i);
}

#else /* not x86-64 GCC/clang: the portable loop only */

bool xb_rng_avx512_usable(void) { return false; }
void xb_normal_pairs_avx512(uint64_t key, uint64_t m0, int64_t npairs, float *out) {
    xb_normal_pairs_portable(key, m0, npairs, out);
}

#endif
