/* Byte table lookup (lut.h).  A scalar lookup costs a load and a store per
 * byte; with AVX-512 VBMI the 256-byte table sits in four registers, and
 * 64 bytes go through it at once: two two-register byte permutations (the
 * low 7 bits of each index pick among 128 entries) and a blend on the top
 * bit.  The portable loop stays for other CPUs. */
#include "kernels/lut.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* The last partial vector uses masked loads and stores: no byte outside
 * src[0, n) or dst[0, n) is touched. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
lut_vbmi(const uint8_t table[256], const uint8_t *src, int64_t n, uint8_t *dst) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    for (int64_t i = 0; i < n; i += 64) {
        const __mmask64 m = n - i >= 64 ? ~(__mmask64)0 : ~(__mmask64)0 >> (64 - (n - i));
        const __m512i x = _mm512_maskz_loadu_epi8(m, src + i);
        const __m512i lo = _mm512_permutex2var_epi8(t0, x, t1);
        const __m512i hi = _mm512_permutex2var_epi8(t2, x, t3);
        _mm512_mask_storeu_epi8(dst + i, m, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi));
    }
}
#endif

bool xb_lut_u8_vbmi(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
#else
    return false;
#endif
}

void xb_lut_u8(const uint8_t table[256], const uint8_t *src, int64_t n, uint8_t *dst) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (xb_lut_u8_vbmi()) {
        lut_vbmi(table, src, n, dst);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = table[src[i]];
}
