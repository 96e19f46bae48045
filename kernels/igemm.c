#include "kernels/igemm.h"

#include <string.h>

#include "kernels/igemm_isa.h"

#ifdef XB_IGEMM_X86
#include <cpuid.h>
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

/* Portable kernel over the same layout: one weight row at a time, positions
 * innermost so the compiler vectorises across p. */
void xb_igemm_packed_portable(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N,
                              int64_t P, int32_t *acc) {
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

/* Portable direct convolution: the same sums as the packed kernel over the
 * matrix xb_im2col_u8_packed4 would build, read from the planes. */
void xb_igemm_direct_portable(const int8_t *wp, const uint8_t *x, const int64_t *xoff, int64_t Kq,
                              int64_t N, int64_t HO, int64_t WO, int64_t rstride, int32_t *acc) {
    const int64_t P = HO * WO;
    for (int64_t n = 0; n < N; n++) {
        int32_t *row = acc + n * P;
        const int8_t *w = wp + n * 4 * Kq;
        for (int64_t p = 0; p < P; p++) row[p] = 0;
        for (int64_t q = 0; q < Kq; q++) {
            int32_t w0 = w[4 * q], w1 = w[4 * q + 1], w2 = w[4 * q + 2], w3 = w[4 * q + 3];
            for (int64_t oy = 0; oy < HO; oy++) {
                const uint8_t *xr = x + xoff[q] + oy * rstride;
                int32_t *r = row + oy * WO;
                for (int64_t ox = 0; ox < WO; ox++)
                    r[ox] += w0 * xr[4 * ox] + w1 * xr[4 * ox + 1] + w2 * xr[4 * ox + 2] +
                             w3 * xr[4 * ox + 3];
            }
        }
    }
}

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

void xb_igemm_rows_portable(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K,
                            int64_t N, int64_t M, int32_t *acc) {
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

void xb_igemm_pack_wt(const int8_t *w, int64_t K, int64_t N, int8_t *wt) {
    /* Rows of w are the "positions" of an x packed from rows. */
    xb_igemm_pack_xrows((const uint8_t *)w, K, K, N, (uint8_t *)wt);
}

void xb_igemm_rows_t_portable(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K,
                              int64_t N, int64_t M, int32_t *acc) {
    const int64_t Np = xb_igemm_ppad(N);
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            int32_t s = 0;
            for (int64_t k = 0; k < K; k++)
                s += wt[xb_igemm_xpack_index(k, n, Np)] * (int32_t)xr[m * ld + k];
            acc[n * M + m] = s;
        }
}

void xb_igemm_rows_t(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                     int64_t M, int32_t *acc) {
#ifdef XB_IGEMM_X86
    if (xb_igemm_isa_used() == XB_IGEMM_AVX512VNNI) {
        xb_igemm_rows_t_vnni512(wt, xr, ld, K, N, M, acc);
        return;
    }
#endif
    xb_igemm_rows_t_portable(wt, xr, ld, K, N, M, acc);
}

/* Run-time dispatch.  __builtin_cpu_supports reads flags the compiler's
 * runtime filled in from cpuid at program start, so asking on every call
 * costs a load and a test. */
static bool force_portable;

#ifdef XB_IGEMM_X86
/* AVX-VNNI is CPUID leaf 7, sub-leaf 1, EAX bit 4 (Intel SDM vol. 2A,
 * CPUID).  Asked directly because older compilers' __builtin_cpu_supports
 * does not know the name (clang 14); the OS's saving of the ymm state is
 * covered by the avx2 check beside it. */
static bool have_avxvnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
    return (a >> 4) & 1u;
}
#endif

void xb_igemm_set_portable(bool on) { force_portable = on; }

xb_igemm_isa xb_igemm_isa_used(void) {
    if (force_portable) return XB_IGEMM_PORTABLE;
#ifdef XB_IGEMM_X86
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return XB_IGEMM_AVX512VNNI;
    if (__builtin_cpu_supports("avx2") && have_avxvnni()) return XB_IGEMM_AVXVNNI;
#endif
    return XB_IGEMM_PORTABLE;
}

const char *xb_igemm_isa_name(xb_igemm_isa isa) {
    switch (isa) {
    case XB_IGEMM_AVX512VNNI: return "avx512-vnni";
    case XB_IGEMM_AVXVNNI: return "avx-vnni";
    default: return "portable";
    }
}

void xb_igemm_packed(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                     int32_t *acc) {
    switch (xb_igemm_isa_used()) {
#ifdef XB_IGEMM_X86
    case XB_IGEMM_AVX512VNNI: xb_igemm_packed_vnni512(wp, xp, K, N, P, acc); return;
    case XB_IGEMM_AVXVNNI: xb_igemm_packed_avxvnni(wp, xp, K, N, P, acc); return;
#endif
    default: xb_igemm_packed_portable(wp, xp, K, N, P, acc); return;
    }
}

void xb_igemm_direct(const int8_t *wp, const uint8_t *x, const int64_t *xoff, int64_t Kq, int64_t N,
                     int64_t HO, int64_t WO, int64_t rstride, int32_t *acc) {
#ifdef XB_IGEMM_X86
    if (xb_igemm_isa_used() == XB_IGEMM_AVX512VNNI) {
        xb_igemm_direct_vnni512(wp, x, xoff, Kq, N, HO, WO, rstride, acc);
        return;
    }
#endif
    xb_igemm_direct_portable(wp, x, xoff, Kq, N, HO, WO, rstride, acc);
}

bool xb_igemm_direct_wide(void) {
    /* The portable kernel computes only the outputs, no slower than
     * unfolding plus the portable packed loop. */
    return xb_igemm_isa_used() != XB_IGEMM_AVXVNNI;
}

bool xb_igemm_direct_fast(int64_t HO, int64_t WO) {
    /* AVX-VNNI has no direct kernel; the portable one is no slower than
     * unfolding plus the portable packed loop. */
    if (xb_igemm_isa_used() == XB_IGEMM_AVXVNNI) return false;
    return WO % 16 == 0 || (WO == 8 && HO % 2 == 0);
}

void xb_igemm_rows(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                   int64_t M, int32_t *acc) {
    xb_igemm_rows_portable(wp, xr, ld, K, N, M, acc);
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
