/* Direct conversions fused with the popcount sums (direct.h). */
#include "backend/crossbar/direct.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "backend/crossbar/bitsums_simd.h"

/* The conversion of 16 sums as convert.c's add_simple does it one value at
 * a time (the compiler's code for nearbyintf is this VRNDSCALEPS, current
 * rounding mode, no exception), times the digit's coefficient, widened to
 * two 8-lane doubles (lanes 0-7, 8-15); the clamped lanes (within km) are
 * counted in the lanes of *ns.  add_simple adds coef x (double)(y x flsb)
 * with coef = +-2^k; here fcl = flsb x coef and y x fcl in float is the
 * same value: scaling by a power of two commutes with float rounding (no
 * overflow or underflow at these magnitudes), and the widening is exact. */
XB_BITS_TARGET static inline __attribute__((always_inline)) void
convert16(const xb_direct_adc *a, __m512i s, __mmask16 km, float fcl, __m512d *lo, __m512d *hi,
          __m512i *ns) {
    __m512 code = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_set1_ps(a->finv)),
                                       _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    /* y = code > fhi ? fhi : code < flo ? flo : code, as min and max: code
     * is never NaN (a finite sum times a finite 1 / LSB), and a clamped
     * lane is one whose y differs from its code */
    __m512 y = _mm512_min_ps(_mm512_max_ps(code, _mm512_set1_ps(a->flo)), _mm512_set1_ps(a->fhi));
    *ns = _mm512_mask_add_epi32(*ns, _mm512_mask_cmp_ps_mask(km, y, code, _CMP_NEQ_UQ), *ns,
                                _mm512_set1_epi32(1));
    __m512 v = _mm512_mul_ps(y, _mm512_set1_ps(fcl));
    *lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    *hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* Loop order (run of 16 positions, column, digit): the run's masks are
 * split into halves once per digit, and each column's 16 accumulators stay
 * in two registers across its digits, so the additions into one
 * accumulator come column by column, digit 0 first, as in convert.c.
 * PL > 0: PL planes and two mask words as constants, NH of the four 32-row
 * halves summed (a short last block), as dnoise.c's fused block. */
XB_BITS_TARGET static inline __attribute__((always_inline)) int64_t
fused_t(const xb_direct_adc *a, const xb_direct_block *b, double *accd, const int PL,
        const int NH) {
    const int planes = PL ? PL : b->planes, J = b->J;
    const int64_t W = PL ? 2 : b->W, pt = b->pt, pp = b->pp, C = b->C;
    const int nh = PL ? NH : 2 * (int)W;
    const uint64_t *lb = b->lb, *bm = b->bm;
    const __m512i zv = _mm512_setzero_si512();
    __m512i M[64][2][2];
    bool act[64];
    __m512i ns = zv;
    for (int64_t q0 = 0; q0 < pt; q0 += 16) {
        __mmask16 km = (__mmask16)(pt - q0 >= 16 ? 0xffff : (1u << (pt - q0)) - 1);
        __mmask8 k0 = (__mmask8)km, k1 = (__mmask8)(km >> 8);
        for (int j = 0; j < J; j++) {
            __m512i any = zv;
            M[j][1][0] = M[j][1][1] = zv;
            for (int64_t w = 0; w < W; w++) {
                halves(bm + (j * W + w) * pp + q0, M[j][w]);
                any = _mm512_or_si512(any, _mm512_or_si512(M[j][w][0], M[j][w][1]));
            }
            act[j] = _mm512_test_epi32_mask(any, any) != 0;
        }
        for (int64_t c = 0; c < C; c++) {
            const uint64_t *lc = lb + c * planes * W;
            double *an = accd + b->col_n[c] * pt + q0;
            double sign = (double)b->col_sign[c];
            const double *p2 = b->pow2 + b->col_shift[c];
            __m512d t0 = _mm512_maskz_loadu_pd(k0, an), t1 = _mm512_maskz_loadu_pd(k1, an + 8);
            for (int j = 0; j < J; j++) {
                __m512i s = act[j] ? col_sums_nh(lc, planes, W, M[j], nh) : zv;
                __m512d lo, hi;
                convert16(a, s, km, a->flsb * (float)(sign * p2[j * b->d]), &lo, &hi, &ns);
                t0 = _mm512_add_pd(t0, lo);
                t1 = _mm512_add_pd(t1, hi);
            }
            _mm512_mask_storeu_pd(an, k0, t0);
            _mm512_mask_storeu_pd(an + 8, k1, t1);
        }
    }
    return _mm512_reduce_add_epi32(ns);
}

/* ISAAC-like 128-row blocks of 2-bit cells with the halves a block fills as
 * constants; any other shape through the general loop. */
XB_BITS_TARGET static int64_t fused(const xb_direct_adc *a, const xb_direct_block *b,
                                    double *accd) {
    if (b->planes == 2 && b->W == 2) {
        if (b->rows > 0 && b->rows <= 32) return fused_t(a, b, accd, 2, 1);
        if (b->rows > 0 && b->rows <= 64) return fused_t(a, b, accd, 2, 2);
        return fused_t(a, b, accd, 2, 4);
    }
    return fused_t(a, b, accd, 0, 0);
}

#endif

static bool fused_off; /* xb_direct_set_fused(false): tests compare both paths */
void xb_direct_set_fused(bool on) { fused_off = !on; }

bool xb_direct_fused_ok(int J) {
#if defined(__x86_64__) && defined(__GNUC__)
    return !fused_off && J >= 1 && J <= 64;
#else
    (void)J;
    return false;
#endif
}

int64_t xb_direct_fused(const xb_direct_adc *a, const xb_direct_block *b, double *accd) {
#if defined(__x86_64__) && defined(__GNUC__)
    return fused(a, b, accd);
#else
    (void)a, (void)b, (void)accd;
    return 0;
#endif
}
