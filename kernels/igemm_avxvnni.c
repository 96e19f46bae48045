/* AVX-VNNI (256-bit, VEX-encoded vpdpbusd) kernel of igemm.h, declared in
 * igemm_isa.h; igemm.c calls it on CPUs that report AVX-VNNI but not
 * AVX-512 VNNI.  Built with a per-function target attribute, so it compiles
 * into every x86 binary whatever -march says. */
#include "kernels/igemm_isa.h"

#ifdef XB_IGEMM_X86

#include <immintrin.h>
#include <string.h>

#include "kernels/igemm.h"

#define TAVX __attribute__((target("avx2,avxvnni")))

/* The same kernel for CPUs with 256-bit VNNI only (VEX-encoded vpdpbusd:
 * Intel Alder Lake and later client cores): 16 ymm registers hold a 6 x 16
 * block of accumulators (12) plus two x vectors and a weight broadcast. */
enum { MR2 = 6 };

TAVX void xb_igemm_packed_avxvnni(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                     int32_t *acc) {
    if (N <= 0 || P <= 0) return;
    const int64_t Kp = xb_igemm_kpad(K), Kq = Kp / 4, Pp = xb_igemm_ppad(P);
    for (int64_t p0 = 0; p0 < Pp; p0 += 16) {
        for (int64_t n0 = 0; n0 < N; n0 += MR2) {
            const int8_t *wr[MR2];
            for (int r = 0; r < MR2; r++) wr[r] = wp + (n0 + r < N ? n0 + r : N - 1) * Kp;
            __m256i a[MR2][2];
            for (int r = 0; r < MR2; r++) a[r][0] = a[r][1] = _mm256_setzero_si256();
            const uint8_t *xk = xp + p0 * 4;
            for (int64_t q = 0; q < Kq; q++, xk += Pp * 4) {
                __m256i x0 = _mm256_loadu_si256((const __m256i *)xk);
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(xk + 32));
                for (int r = 0; r < MR2; r++) {
                    int32_t w4;
                    memcpy(&w4, wr[r] + 4 * q, 4);
                    __m256i wb = _mm256_set1_epi32(w4);
                    a[r][0] = _mm256_dpbusd_avx_epi32(a[r][0], x0, wb);
                    a[r][1] = _mm256_dpbusd_avx_epi32(a[r][1], x1, wb);
                }
            }
            int nn = N - n0 < MR2 ? (int)(N - n0) : MR2;
            int np = P - p0 < 16 ? (int)(P - p0) : 16;
            for (int r = 0; r < nn; r++) {
                int32_t *dst = acc + (n0 + r) * P + p0;
                if (np == 16) {
                    _mm256_storeu_si256((__m256i *)dst, a[r][0]);
                    _mm256_storeu_si256((__m256i *)(dst + 8), a[r][1]);
                } else {
                    int32_t t[16];
                    _mm256_storeu_si256((__m256i *)t, a[r][0]);
                    _mm256_storeu_si256((__m256i *)(t + 8), a[r][1]);
                    memcpy(dst, t, (size_t)np * sizeof(int32_t));
                }
            }
        }
    }
}

#endif
