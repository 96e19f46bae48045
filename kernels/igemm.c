#include "kernels/igemm.h"

#include <string.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define XB_IGEMM_VNNI 1
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__AVXVNNI__)
#define XB_IGEMM_AVXVNNI 1
#include <immintrin.h>
#endif

void xb_igemm_pack_w(const int8_t *w, int64_t K, int64_t N, int8_t *wp) {
    int64_t Kp = xb_igemm_kpad(K);
    for (int64_t n = 0; n < N; n++) {
        memcpy(wp + n * Kp, w + n * K, (size_t)K);
        memset(wp + n * Kp + K, 0, (size_t)(Kp - K));
    }
}

void xb_igemm_pack_x_clear(uint8_t *xp, int64_t K, int64_t P) {
    int64_t Kp = xb_igemm_kpad(K), Pp = xb_igemm_ppad(P);
    for (int64_t k = K; k < Kp; k++)
        for (int64_t p = 0; p < Pp; p++) xp[xb_igemm_xpack_index(k, p, Pp)] = 0;
    if (Pp > P)
        for (int64_t q = 0; q < Kp / 4; q++) memset(xp + q * Pp * 4 + P * 4, 0, (size_t)(Pp - P) * 4);
}

void xb_igemm_pack_x(const uint8_t *x, int64_t K, int64_t P, uint8_t *xp) {
    int64_t Pp = xb_igemm_ppad(P);
    for (int64_t k0 = 0; k0 < K; k0 += 4) {
        uint8_t *dst = xp + (k0 >> 2) * Pp * 4;
        int nk = K - k0 < 4 ? (int)(K - k0) : 4;
        if (nk == 4) {
            /* The common case, written so the compiler sees a fixed
             * 4-way interleave. */
            const uint8_t *r0 = x + k0 * P, *r1 = r0 + P, *r2 = r1 + P, *r3 = r2 + P;
            for (int64_t p = 0; p < P; p++) {
                dst[p * 4 + 0] = r0[p];
                dst[p * 4 + 1] = r1[p];
                dst[p * 4 + 2] = r2[p];
                dst[p * 4 + 3] = r3[p];
            }
        } else {
            for (int64_t p = 0; p < P; p++)
                for (int j = 0; j < 4; j++) dst[p * 4 + j] = j < nk ? x[(k0 + j) * P + p] : 0;
        }
    }
    xb_igemm_pack_x_clear(xp, K, P);
}

void xb_igemm_pack_xrows(const uint8_t *xr, int64_t ld, int64_t K, int64_t P, uint8_t *xp) {
    int64_t Pp = xb_igemm_ppad(P), Kq = xb_igemm_kpad(K) / 4, Kf = K / 4;
    for (int64_t p = 0; p < P; p++) {
        const uint8_t *row = xr + p * ld;
        for (int64_t q = 0; q < Kf; q++) memcpy(xp + q * Pp * 4 + p * 4, row + q * 4, 4);
        if (Kf < Kq) {
            uint8_t *d = xp + Kf * Pp * 4 + p * 4;
            for (int j = 0; j < 4; j++) d[j] = Kf * 4 + j < K ? row[Kf * 4 + j] : 0;
        }
    }
    xb_igemm_pack_x_clear(xp, K, P);
}

#ifdef XB_IGEMM_VNNI

enum { MR = 6 };

/* One block: MR weight rows (edge blocks repeat the last row; those results
 * are not stored) by PV*16 positions starting at p0.  PV is a compile-time
 * constant at each call site, so the accumulator array lives in registers
 * (6 x 4 = 24 of the 32 zmm). */
static inline __attribute__((always_inline)) void block_vnni(const int8_t *const *wr, int nn,
                                                             const uint8_t *xp, int64_t Kq,
                                                             int64_t Pp, int64_t P, int64_t p0,
                                                             int PV, int32_t *acc, int64_t n0) {
    __m512i a[MR][4];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < PV; v++) a[r][v] = _mm512_setzero_si512();
    const uint8_t *xk = xp + p0 * 4;
    for (int64_t q = 0; q < Kq; q++, xk += Pp * 4) {
        __m512i xv[4];
        for (int v = 0; v < PV; v++) xv[v] = _mm512_loadu_si512(xk + 64 * v);
        for (int r = 0; r < MR; r++) {
            int32_t w4;
            memcpy(&w4, wr[r] + 4 * q, 4);
            __m512i wb = _mm512_set1_epi32(w4);
            for (int v = 0; v < PV; v++) a[r][v] = _mm512_dpbusd_epi32(a[r][v], xv[v], wb);
        }
    }
    for (int r = 0; r < nn; r++)
        for (int v = 0; v < PV; v++) {
            int64_t p = p0 + 16 * v;
            int32_t *dst = acc + (n0 + r) * P + p;
            if (p + 16 <= P)
                _mm512_storeu_si512(dst, a[r][v]);
            else if (p < P)
                _mm512_mask_storeu_epi32(dst, (__mmask16)((1u << (P - p)) - 1), a[r][v]);
        }
}

void xb_igemm_packed(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                     int32_t *acc) {
    if (N <= 0 || P <= 0) return;
    int64_t Kp = xb_igemm_kpad(K), Kq = Kp / 4, Pp = xb_igemm_ppad(P);
    /* A 64-position slab of x (Kq * 256 bytes) stays in L1 while every
     * weight row passes over it; the weights (N * Kp bytes) come from L2. */
    for (int64_t p0 = 0; p0 < Pp; p0 += 64) {
        int rest = (int)((Pp - p0) / 16);
        for (int64_t n0 = 0; n0 < N; n0 += MR) {
            const int8_t *wr[MR];
            for (int r = 0; r < MR; r++) wr[r] = wp + (n0 + r < N ? n0 + r : N - 1) * Kp;
            int nn = N - n0 < MR ? (int)(N - n0) : MR;
            switch (rest) {
            case 1: block_vnni(wr, nn, xp, Kq, Pp, P, p0, 1, acc, n0); break;
            case 2: block_vnni(wr, nn, xp, Kq, Pp, P, p0, 2, acc, n0); break;
            case 3: block_vnni(wr, nn, xp, Kq, Pp, P, p0, 3, acc, n0); break;
            default: block_vnni(wr, nn, xp, Kq, Pp, P, p0, 4, acc, n0); break;
            }
        }
    }
}

#elif defined(XB_IGEMM_AVXVNNI)

/* The same kernel for CPUs with 256-bit VNNI only (VEX-encoded vpdpbusd:
 * Intel Alder Lake and later client cores): 16 ymm registers hold a 6 x 16
 * block of accumulators (12) plus two x vectors and a weight broadcast. */
enum { MR2 = 6 };

void xb_igemm_packed(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
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

#else

/* Portable kernel over the same layout: one weight row at a time, positions
 * innermost so the compiler vectorises across p. */
void xb_igemm_packed(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                     int32_t *acc) {
    int64_t Kp = xb_igemm_kpad(K), Kq = Kp / 4, Pp = xb_igemm_ppad(P);
    for (int64_t n = 0; n < N; n++) {
        int32_t *row = acc + n * P;
        const int8_t *w = wp + n * Kp;
        for (int64_t p = 0; p < P; p++) row[p] = 0;
        for (int64_t q = 0; q < Kq; q++) {
            int32_t w0 = w[4 * q], w1 = w[4 * q + 1], w2 = w[4 * q + 2], w3 = w[4 * q + 3];
            const uint8_t *xk = xp + q * Pp * 4;
            for (int64_t p = 0; p < P; p++)
                row[p] += w0 * xk[4 * p] + w1 * xk[4 * p + 1] + w2 * xk[4 * p + 2] +
                          w3 * xk[4 * p + 3];
        }
    }
}

#endif

/* Four weight rows against one x row: four k-reductions sharing the x
 * loads, which GCC vectorises into vpdpbusd over k.  restrict holds: all
 * inputs are read-only. */
static void dot4(const int8_t *restrict w0, const int8_t *restrict w1, const int8_t *restrict w2,
                 const int8_t *restrict w3, const uint8_t *restrict x, int64_t K, int32_t *o) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int64_t k = 0; k < K; k++) {
        int32_t v = x[k];
        s0 += w0[k] * v, s1 += w1[k] * v, s2 += w2[k] * v, s3 += w3[k] * v;
    }
    o[0] = s0, o[1] = s1, o[2] = s2, o[3] = s3;
}

void xb_igemm_rows(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                   int64_t M, int32_t *acc) {
    const int64_t Kp = xb_igemm_kpad(K);
    for (int64_t m = 0; m < M; m++)
        for (int64_t n0 = 0; n0 < N; n0 += 4) {
            const int8_t *w[4];
            for (int i = 0; i < 4; i++) w[i] = wp + (n0 + i < N ? n0 + i : N - 1) * Kp;
            int32_t o[4];
            dot4(w[0], w[1], w[2], w[3], xr + m * ld, K, o);
            for (int i = 0; i < 4 && n0 + i < N; i++) acc[(n0 + i) * M + m] = o[i];
        }
}

size_t xb_igemm_scratch_bytes(int64_t K, int64_t N, int64_t P) {
    return xb_igemm_wpack_bytes(K, N) + xb_igemm_xpack_bytes(K, P);
}

void xb_igemm(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P, int32_t *acc,
              void *scratch) {
    if (N <= 0 || P <= 0) return;
    int8_t *wp = scratch;
    uint8_t *xp = (uint8_t *)scratch + xb_igemm_wpack_bytes(K, N);
    xb_igemm_pack_w(w, K, N, wp);
    xb_igemm_pack_x(x, K, P, xp);
    xb_igemm_packed(wp, xp, K, N, P, acc);
}
