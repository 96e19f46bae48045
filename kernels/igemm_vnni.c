/* AVX-512 VNNI kernels of igemm.h (declared in igemm_isa.h).
 *
 * Compiled with a per-function target attribute rather than a file-wide
 * -march, so the file builds into every x86 binary and igemm.c calls it
 * only when the CPU reports AVX-512 F/BW/VL and VNNI at run time.
 *
 * One register-blocked micro-kernel serves two x layouts:
 *   - packed: igemm's [Kq][Pp][4] matrix (xb_igemm_packed);
 *   - direct: a convolution read straight from channel-interleaved padded,
 *     phase-split planes (xb_igemm_direct): the 4 bytes of k-quad q for output
 *     (oy, ox) sit at x + xoff[q] + oy * rstride + 4 * ox, so 16
 *     consecutive outputs of one row are one 64-byte load and no unfolded
 *     matrix is ever written.  Rows of 8 outputs (8 x 8 maps) take two
 *     32-byte loads per vector, one from each of two output rows.
 * Per k-quad the kernel loads PV x vectors (16 positions each) and
 * broadcasts MR weight words, for MR * PV vpdpbusd (u8 x s8 -> s32).  MR is
 * picked per layer to divide the channel count where possible (8, 6, 5 or
 * 4), so few accumulator rows are computed and thrown away; MR * PV <= 24
 * of the 32 zmm registers hold accumulators.  The loops over MR and PV are
 * fully unrolled (#pragma GCC unroll): with a loop left, GCC keeps the
 * accumulator array on the stack, a load and a store around every
 * vpdpbusd, which halved the throughput of the earlier kernel. */

#include "kernels/igemm_isa.h"

#ifdef XB_IGEMM_X86

#include <immintrin.h>
#include <string.h>

#include "kernels/igemm.h"

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INL static inline __attribute__((always_inline))

enum { X_PACKED = 0, X_DIRECT = 1, X_HALF = 2, X_WIDE = 3 };

/* Where the x operand lives: per k-quad either base + q * qstride
 * (packed) or base + xoff[q] (direct), then + voff[v] for vector v; in the
 * half mode the upper 8 lanes come from `half` bytes further on. */
typedef struct {
    const uint8_t *base;
    const int64_t *xoff;
    int64_t qstride, half, Kq;
} xsrc;

INL T512 __m512i xload(int mode, const uint8_t *xq, int64_t off, int64_t half) {
    if (mode == X_HALF) {
        __m256i lo = _mm256_loadu_si256((const __m256i *)(xq + off));
        __m256i hi = _mm256_loadu_si256((const __m256i *)(xq + off + half));
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    return _mm512_loadu_si512(xq + off);
}

/* The outputs of a wide-mode vector, packed together. */
INL T512 void store_wide(int32_t *dst, __mmask16 m, __m512i a) {
    /* Compress in a register, then a masked store: the memory form of
     * vpcompressd is slow on Zen 4. */
    const int cnt = __builtin_popcount(m);
    _mm512_mask_storeu_epi32(dst, (__mmask16)((1u << cnt) - 1), _mm512_maskz_compress_epi32(m, a));
}

INL T512 void store_lanes(int mode, int32_t *dst, unsigned m, __m512i a) {
    if (m == 0xffff)
        _mm512_storeu_si512(dst, a);
    else if (mode == X_WIDE)
        store_wide(dst, (__mmask16)m, a);
    else if (m)
        _mm512_mask_storeu_epi32(dst, (__mmask16)m, a);
}

/* Rows n0 .. n0+MR-1 (rows past N repeat row N-1 and are not stored) by
 * the PV vectors at voff[], storing the lanes set in lanes[v] to
 * acc[n * P + pos[v] + lane] (X_WIDE: the set lanes, packed together, from
 * pos[v] on).  MR, PV and mode are constants at every call site, so the
 * accumulators stay in registers. */
INL T512 void block(const int8_t *wp, int64_t Kp, int64_t N, int64_t n0, int MR, int PV, int mode,
                    const xsrc *xs, const int64_t *voff, const int64_t *pos,
                    const unsigned *lanes, int32_t *acc, int64_t P) {
    const int8_t *wr[8];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) wr[r] = wp + (n0 + r < N ? n0 + r : N - 1) * Kp;
    __m512i a[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < PV; v++) a[r][v] = _mm512_setzero_si512();
    for (int64_t q = 0; q < xs->Kq; q++) {
        const uint8_t *xq = mode == X_PACKED ? xs->base + q * xs->qstride : xs->base + xs->xoff[q];
        __m512i xv[4];
#pragma GCC unroll 4
        for (int v = 0; v < PV; v++) xv[v] = xload(mode, xq, voff[v], xs->half);
    #pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
            int32_t w4;
            memcpy(&w4, wr[r] + 4 * q, 4);
            const __m512i wb = _mm512_set1_epi32(w4);
    #pragma GCC unroll 4
        for (int v = 0; v < PV; v++) a[r][v] = _mm512_dpbusd_epi32(a[r][v], xv[v], wb);
        }
    }
    const int nn = N - n0 < MR ? (int)(N - n0) : MR;
    /* Constant loop bounds: fully unrolled, so every a[r][v] is a register
     * (a bound of nn would keep the array in memory). */
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < PV && r < nn; v++) {
            int32_t *dst = acc + (n0 + r) * P + pos[v];
            store_lanes(mode, dst, lanes[v], a[r][v]);
        }
}

/* Geometry of the positions: vector v of a block at position p0 covers
 * positions p0 + 16 v ... + 15; in X_WIDE these are wide positions
 * oy * R + ox (R = rstride / 4) below `span`, of which those with ox < WO
 * are outputs. */
typedef struct {
    int mode;
    int64_t P, WO, rstride, span;
} xgeom;

/* Lane l is an output when (col + l) mod R < WO and p + l < span: the
 * column by repeated vector subtraction (a division per lane cost as much
 * as the block itself).  Out of line: its vector constants, hoisted into
 * the kernel's loops, pushed the accumulators onto the stack. */
static T512 __attribute__((noinline)) void wide_layout(const xgeom *gm, int64_t p, int64_t *voff,
                                                       int64_t *pos, unsigned *lanes) {
    const int64_t R = gm->rstride / 4, col = p % R, left = gm->span - p;
    const __m512i vR = _mm512_set1_epi32((int)R);
    __m512i c = _mm512_add_epi32(_mm512_set1_epi32((int)col),
                                 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                   14, 15));
    for (__mmask16 ge; (ge = _mm512_cmpge_epi32_mask(c, vR));)
        c = _mm512_mask_sub_epi32(c, ge, c, vR);
    const unsigned in = left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1 : 0;
    *voff = 4 * p;
    *pos = (p / R) * gm->WO + (col < gm->WO ? col : gm->WO); /* outputs before p */
    *lanes = in & _mm512_cmplt_epi32_mask(c, _mm512_set1_epi32((int)gm->WO));
}

/* MODE is a constant at every call site. */
INL void vec_layout(const xgeom *gm, int mode, int64_t p, int64_t *voff, int64_t *pos,
                    unsigned *lanes) {
    if (mode == X_WIDE) {
        wide_layout(gm, p, voff, pos, lanes);
        return;
    }
    *pos = p;
    int64_t left = gm->P - p;
    *lanes = left >= 16 ? 0xffffu : left > 0 ? (1u << left) - 1 : 0;
    if (mode == X_PACKED)
        *voff = p * 4;
    else if (mode == X_DIRECT)
        *voff = (p / gm->WO) * gm->rstride + (p % gm->WO) * 4;
    else
        *voff = (p / 8) * gm->rstride;
}

/* All blocks of one (MR, PV, mode): positions in slabs of PV vectors (the
 * slab's x stays in L1 while every weight row passes over it), rows in
 * steps of MR; a last slab of fewer vectors takes a narrower block. */
#define DEFINE_RUN(MR, PV, MODE, NAME)                                                            \
    static T512 __attribute__((noinline)) void NAME(const int8_t *wp, int64_t Kp, int64_t N,      \
                                                    const xsrc *xs, const xgeom *gm,              \
                                                    int64_t nvec, int32_t *acc) {                 \
        for (int64_t v0 = 0; v0 < nvec; v0 += PV) {                                               \
            int64_t voff[4] = {0}, pos[4] = {0};                                                  \
            unsigned lanes[4] = {0}; /* lane bit masks (an __mmask16 array halved the speed) */    \
            int rest = nvec - v0 < PV ? (int)(nvec - v0) : PV;                                    \
            for (int v = 0; v < rest; v++)                                                        \
                vec_layout(gm, MODE, (v0 + v) * 16, &voff[v], &pos[v], &lanes[v]);                \
            for (int64_t n0 = 0; n0 < N; n0 += MR) {                                              \
                switch (rest) {                                                                   \
                case 1: block(wp, Kp, N, n0, MR, 1, MODE, xs, voff, pos, lanes, acc, gm->P); break; \
                case 2: block(wp, Kp, N, n0, MR, 2, MODE, xs, voff, pos, lanes, acc, gm->P); break; \
                case 3: block(wp, Kp, N, n0, MR, PV >= 3 ? 3 : 1, MODE, xs, voff, pos, lanes, acc,  \
                              gm->P);                                                             \
                    break;                                                                        \
                default:                                                                          \
                    block(wp, Kp, N, n0, MR, PV, MODE, xs, voff, pos, lanes, acc, gm->P);         \
                    break;                                                                        \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }

#define DEFINE_MODE(MODE, SFX)                                                                    \
    DEFINE_RUN(8, 3, MODE, run8_##SFX)                                                            \
    DEFINE_RUN(6, 4, MODE, run6_##SFX)                                                            \
    DEFINE_RUN(5, 4, MODE, run5_##SFX)                                                            \
    DEFINE_RUN(4, 4, MODE, run4_##SFX)                                                            \
    static T512 void run_##SFX(const int8_t *wp, int64_t Kp, int64_t N, const xsrc *xs,          \
                               const xgeom *gm, int64_t nvec, int32_t *acc) {                     \
        switch (pick_mr(N)) {                                                                     \
        case 8: run8_##SFX(wp, Kp, N, xs, gm, nvec, acc); break;                                  \
        case 5: run5_##SFX(wp, Kp, N, xs, gm, nvec, acc); break;                                  \
        case 4: run4_##SFX(wp, Kp, N, xs, gm, nvec, acc); break;                                  \
        default: run6_##SFX(wp, Kp, N, xs, gm, nvec, acc); break;                                 \
        }                                                                                         \
    }

/* Rows per block: one dividing N if any of 8, 6, 5, 4 does (in that order),
 * else the one that computes the fewest discarded rows. */
static int pick_mr(int64_t N) {
    static const int cand[4] = {8, 6, 5, 4};
    for (int i = 0; i < 4; i++)
        if (N % cand[i] == 0) return cand[i];
    int best = 6;
    double waste = 2.0;
    for (int i = 0; i < 4; i++) {
        int64_t rows = (N + cand[i] - 1) / cand[i] * cand[i];
        double w = (double)(rows - N) / (double)rows;
        if (w < waste) waste = w, best = cand[i];
    }
    return best;
}

DEFINE_MODE(X_PACKED, packed)
DEFINE_MODE(X_DIRECT, direct)
DEFINE_MODE(X_HALF, half)
DEFINE_MODE(X_WIDE, wide)

T512 void xb_igemm_packed_vnni512(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N,
                                  int64_t P, int32_t *acc) {
    if (N <= 0 || P <= 0) return;
    const int64_t Kp = xb_igemm_kpad(K), Pp = xb_igemm_ppad(P);
    xsrc xs = {.base = xp, .xoff = NULL, .qstride = Pp * 4, .half = 0, .Kq = Kp / 4};
    xgeom gm = {.mode = X_PACKED, .P = P, .WO = 0, .rstride = 0, .span = 0};
    run_packed(wp, Kp, N, &xs, &gm, Pp / 16, acc);
}

T512 void xb_igemm_direct_vnni512(const int8_t *wp, const uint8_t *x, const int64_t *xoff,
                                  int64_t Kq, int64_t N, int64_t HO, int64_t WO, int64_t rstride,
                                  int32_t *acc) {
    if (N <= 0 || HO <= 0 || WO <= 0) return;
    const int64_t P = HO * WO;
    xsrc xs = {.base = x, .xoff = xoff, .qstride = 0, .half = rstride, .Kq = Kq};
    xgeom gm = {.mode = X_DIRECT, .P = P, .WO = WO, .rstride = rstride, .span = 0};
    if (WO % 16 == 0) {
        run_direct(wp, 4 * Kq, N, &xs, &gm, P / 16, acc);
    } else if (WO == 8 && HO % 2 == 0) {
        /* A vector takes rows oy and oy + 1; HO even keeps the second
         * row inside the map. */
        gm.mode = X_HALF;
        run_half(wp, 4 * Kq, N, &xs, &gm, P / 16, acc);
    } else if (rstride % 4 == 0) {
        /* Any other width: the rows R = rstride / 4 words apart read as one
         * long row of (HO - 1) R + WO positions, 16 per vector; the R - WO
         * columns between output rows are computed and dropped, the
         * outputs of each vector compressed into place. */
        gm.mode = X_WIDE;
        gm.span = (HO - 1) * (rstride / 4) + WO;
        run_wide(wp, 4 * Kq, N, &xs, &gm, xb_igemm_ppad(gm.span) / 16, acc);
    } else {
        xb_igemm_direct_portable(wp, x, xoff, Kq, N, HO, WO, rstride, acc);
    }
}

/* Few positions, transposed weights (xb_igemm_rows_t): up to 8 vectors of
 * 16 outputs accumulate at once while the x words of one row are
 * broadcast, one per k-quad. */
T512 void xb_igemm_rows_t_vnni512(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K,
                                  int64_t N, int64_t M, int32_t *acc) {
    if (N <= 0 || M <= 0) return;
    const int64_t Np = xb_igemm_ppad(N), Kq = xb_igemm_kpad(K) / 4, Kf = K / 4;
    for (int64_t m = 0; m < M; m++) {
        const uint8_t *x = xr + m * ld;
        /* The last quad of a K that is not a multiple of 4, zero-filled:
         * the row may end right after x[K-1]. */
        uint8_t tail[4] = {0, 0, 0, 0};
        for (int64_t k = Kf * 4; k < K; k++) tail[k - Kf * 4] = x[k];
        for (int64_t v0 = 0; v0 < Np / 16; v0 += 8) {
            const int nv = Np / 16 - v0 < 8 ? (int)(Np / 16 - v0) : 8;
            __m512i a[8];
#pragma GCC unroll 8
            for (int v = 0; v < 8; v++) a[v] = _mm512_setzero_si512();
            const int8_t *w = wt + v0 * 64;
            for (int64_t q = 0; q < Kq; q++, w += Np * 4) {
                int32_t x4;
                memcpy(&x4, q < Kf ? x + 4 * q : tail, 4);
                const __m512i xb = _mm512_set1_epi32(x4);
#pragma GCC unroll 8
                for (int v = 0; v < 8; v++)
                    if (v < nv) a[v] = _mm512_dpbusd_epi32(a[v], xb, _mm512_loadu_si512(w + 64 * v));
            }
#pragma GCC unroll 8
            for (int v = 0; v < 8; v++) {
                if (v >= nv) break;
                int32_t t[16];
                _mm512_storeu_si512(t, a[v]);
                for (int i = 0; i < 16 && (v0 + v) * 16 + i < N; i++)
                    acc[((v0 + v) * 16 + i) * M + m] = t[i];
            }
        }
    }
}

#endif
