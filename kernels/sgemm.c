/* Blocked SGEMM in the style of Goto & van de Geijn, "Anatomy of
 * High-Performance Matrix Multiplication" (ACM TOMS 34(3), 2008): A is packed
 * into MR-row micro-panels, B into NR-column micro-panels per KC x NC block,
 * and an MR x NR register tile accumulates over one K block.
 *
 * The micro-kernel is written with GCC/Clang generic vectors of the target's
 * SIMD width (16 floats with AVX-512, 8 with AVX, 4 with SSE), so the
 * compiler emits full-width vector code for whatever -march says without
 * intrinsics.  Contraction of a*b+c into FMA is enabled for this file only:
 * ISO C mode (-std=c11) turns it off by default, which would halve the peak.
 * FMA is as deterministic as a separate multiply and add; it rounds once.
 * Results are reproducible for a given build and CPU; a build for another
 * vector width may differ in the last bits (the dot-product lanes change),
 * and so may a build without FMA on a CPU that runs the AVX-512 tile
 * (kernels/sgemm_avx512.c, which always fuses).  Never with the thread
 * count. */
#if defined(__GNUC__) && !defined(__clang__) /* clang fuses a*b+c in one expression by default */
#pragma GCC optimize("fp-contract=fast")
#endif

#include "kernels/sgemm.h"

#include <string.h>

#include "kernels/sgemm_avx512.h"

#define MR XB_SGEMM_MR
#define NR XB_SGEMM_NR
#define KC XB_SGEMM_KC
#define NC XB_SGEMM_NC
#define VL XB_SGEMM_VL /* floats per generic vector */

/* Generic vector of the target's full SIMD width (wider vectors than the
 * target supports would be split and change the calling convention). */
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(float))));

/* Scalar tails fuse explicitly, so they round exactly like the vector lanes
 * whatever the compiler decides about contracting a given loop version. */
#ifdef __FMA__
#define FMADD(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define FMADD(a, b, c) ((a) * (b) + (c))
#endif

_Static_assert(NR % (2 * VL) == 0, "the portable tile covers NR in chunks of two vectors");
_Static_assert(NC % NR == 0, "NC must be a multiple of NR");

/* memcpy loads/stores: no alignment or aliasing assumptions, and the
 * compiler turns them into single unaligned vector moves. */
static inline vf vload(const float *p) {
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }

/* An initializer list compiles to one broadcast (a lane loop does not
 * always); `(vf){0} + x` would cost a real add and is not an identity for
 * -0.0. */
static inline vf vbcast(float x) {
#if VL == 16
    vf v = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
#elif VL == 8
    vf v = {x, x, x, x, x, x, x, x};
#else
    vf v = {x, x, x, x};
#endif
    return v;
}

static inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* K is cut into near-equal blocks of at most KC so that no block is a
 * sliver (K = 288 -> 2 x 144 rather than 256 + 32). */
static inline int64_t k_blocks(int64_t K) { return K <= 0 ? 1 : (K + KC - 1) / KC; }
static inline int64_t k_block_len(int64_t K) {
    int64_t nb = k_blocks(K);
    return (K + nb - 1) / nb;
}

static inline float *align64(void *p) {
    uintptr_t u = (uintptr_t)p;
    return (float *)((u + 63) & ~(uintptr_t)63);
}

size_t xb_sgemm_packed_a_bytes(int64_t M, int64_t K) {
    return (size_t)round_up(M, MR) * (size_t)(K > 0 ? K : 1) * sizeof(float);
}

static size_t packed_b_bytes(int64_t N, int64_t K) {
    int64_t nc = N < NC ? round_up(N, NR) : NC;
    int64_t kc = k_block_len(K);
    return (size_t)nc * (size_t)(kc > 0 ? kc : 1) * sizeof(float);
}

size_t xb_sgemm_prepacked_scratch_bytes(int64_t M, int64_t N, int64_t K) {
    if (M == 1) return (size_t)(K > 0 ? K : 1) * sizeof(float) + 64;
    return packed_b_bytes(N, K) + 64;
}

size_t xb_sgemm_scratch_bytes(int64_t M, int64_t N, int64_t K) {
    return xb_sgemm_packed_a_bytes(M, K) + xb_sgemm_prepacked_scratch_bytes(M, N, K) + 64;
}

/* Packed A: for each K block (offset k0, length kc) and each MR-row panel,
 * kc x MR floats, k-major; rows beyond M are zero.  Block b starts at
 * round_up(M, MR) * k0, which is what lets xb_sgemm_prepacked find it. */
void xb_sgemm_pack_a(bool transA, int64_t M, int64_t K, const float *A, int64_t lda, float *dst) {
    int64_t kcb = k_block_len(K), Mr = round_up(M, MR);
    for (int64_t k0 = 0; k0 < K; k0 += kcb) {
        int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        float *blk = dst + Mr * k0;
        for (int64_t i0 = 0; i0 < M; i0 += MR) {
            float *p = blk + i0 * kc;
            int64_t mr = M - i0 < MR ? M - i0 : MR;
            for (int64_t k = 0; k < kc; k++, p += MR) {
                int64_t i = 0;
                if (transA)
                    for (; i < mr; i++) p[i] = A[(k0 + k) * lda + i0 + i];
                else
                    for (; i < mr; i++) p[i] = A[(i0 + i) * lda + k0 + k];
                for (; i < MR; i++) p[i] = 0.0f;
            }
        }
    }
}

/* Packed B block: columns [j0, j0+nc) of rows [k0, k0+kc), as NR-column
 * panels of kc x NR floats, k-major; columns beyond N are zero. */
static void pack_b(bool transB, const float *B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nc, float *dst) {
    for (int64_t jp = 0; jp < nc; jp += NR) {
        int64_t nr = nc - jp < NR ? nc - jp : NR;
        float *p = dst + jp * kc;
        if (!transB) {
            const float *src = B + k0 * ldb + j0 + jp;
            for (int64_t k = 0; k < kc; k++, p += NR, src += ldb) {
                memcpy(p, src, (size_t)nr * sizeof(float));
                for (int64_t j = nr; j < NR; j++) p[j] = 0.0f;
            }
        } else {
            /* B^T: source column j is contiguous in k; write it with a
             * stride of NR. */
            for (int64_t j = 0; j < NR; j++) {
                if (j < nr) {
                    const float *src = B + (j0 + jp + j) * ldb + k0;
                    for (int64_t k = 0; k < kc; k++) p[k * NR + j] = src[k];
                } else {
                    for (int64_t k = 0; k < kc; k++) p[k * NR + j] = 0.0f;
                }
            }
        }
    }
}

/* Portable tile: columns [j0, j0 + nr) of an MR x NR tile, nr <= 2*VL:
 * acc = sum_k a[k][i] * b(k)[j] in increasing k, then C = acc (add =
 * false) or C += acc, then the epilogue (bias[i] when bias is not NULL,
 * then the residual res[i*ldc + j] when res is not NULL, then Relu when
 * relu; see xb_sgemm_epilogue).  Only mr x nr is stored.
 * Row k of B is b + k*NR (a packed panel) or, when `boff` is given,
 * b + boff[k] (rows read in place).  `half` computes only the first VL
 * columns, for chunks with nr <= VL: the same operations on those columns,
 * so the same bits, at half the cost.  Always inlined into the wrappers
 * below, so each variant is a branch-free loop. */
static inline __attribute__((always_inline)) void
mk_body(int64_t kc, const float *restrict a, const float *restrict b, const int64_t *boff,
        float *restrict c, int64_t ldc, bool add, int64_t mr, int64_t nr, const bool half,
        int64_t gap, const float *bias, const float *res, bool relu) {
    vf acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = (vf){0};
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = boff ? b + boff[k] : b + k * NR;
        vf b0 = vload(bk), b1 = half ? b0 : vload(bk + VL + gap);
        for (int i = 0; i < MR; i++) {
            vf ai = vbcast(a[i]);
            acc[i][0] += ai * b0;
            if (!half) acc[i][1] += ai * b1;
        }
        a += MR;
    }
    float tile[MR][2 * VL];
    for (int i = 0; i < MR; i++) {
        vstore(tile[i], acc[i][0]);
        if (!half) vstore(tile[i] + VL, acc[i][1]);
    }
    for (int64_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc, bv = bias ? bias[i] : 0.0f;
        for (int64_t j = 0; j < nr; j++) {
            float v = add ? ci[j] + tile[i][j] : tile[i][j];
            if (bias) v = v + bv;
            if (res) v = v + res[i * ldc + j];
            if (relu) v = v > 0.0f ? v : 0.0f;
            ci[j] = v;
        }
    }
}

/* Full 2*VL-column chunks store whole vectors (the common case). */
static inline __attribute__((always_inline)) void
mk_full(int64_t kc, const float *restrict a, const float *restrict b, const int64_t *boff,
        float *restrict c, int64_t ldc, bool add, int64_t gap, const float *bias,
        const float *res, bool relu) {
    vf acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = (vf){0};
    for (int64_t k = 0; k < kc; k++) {
        const float *bk = boff ? b + boff[k] : b + k * NR;
        vf b0 = vload(bk), b1 = vload(bk + VL + gap);
        for (int i = 0; i < MR; i++) {
            vf ai = vbcast(a[i]);
            acc[i][0] += ai * b0;
            acc[i][1] += ai * b1;
        }
        a += MR;
    }
    const vf zero = {0};
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        for (int h = 0; h < 2; h++) {
            vf v = add ? vload(ci + h * VL) + acc[i][h] : acc[i][h];
            if (bias) v = v + vbcast(bias[i]);
            if (res) v = v + vload(res + i * ldc + h * VL);
            /* v > 0 is all-ones where positive; NaN and -0 become +0, as
             * in kernels/relu.c. */
            if (relu) v = (vf)((vi)v & (vi)(v > zero));
            vstore(ci + h * VL, v);
        }
    }
}

/* One MR x NR tile with the portable kernel, in chunks of 2*VL columns
 * (one chunk when VL = 16).  Each output's sum is the same whatever the
 * chunking, so this is bit-identical to the AVX-512 tile when the build
 * has FMA.  Columns from NR/2 on are read `gap` floats further (rows read
 * in place only): inside the chunk when one chunk is the whole tile, else
 * by shifting the chunks of the second half. */
static void tile_portable(int64_t kc, const float *a, const float *b, const int64_t *boff,
                          float *c, int64_t ldc, bool add, int64_t mr, int64_t nr, int64_t gap,
                          const float *bias, const float *res, bool relu) {
    const int64_t g = 2 * VL == NR ? gap : 0;
    for (int64_t j0 = 0; j0 < nr; j0 += 2 * VL) {
        int64_t n = nr - j0 < 2 * VL ? nr - j0 : 2 * VL;
        const float *bj = b + j0 + (2 * VL < NR && j0 >= NR / 2 ? gap : 0);
        const float *rj = res ? res + j0 : NULL;
        if (mr == MR && n == 2 * VL) {
            if (boff)
                mk_full(kc, a, bj, boff, c + j0, ldc, add, g, bias, rj, relu);
            else
                mk_full(kc, a, bj, NULL, c + j0, ldc, add, 0, bias, rj, relu);
        } else if (n <= VL) {
            if (boff)
                mk_body(kc, a, bj, boff, c + j0, ldc, add, mr, n, true, 0, bias, rj, relu);
            else
                mk_body(kc, a, bj, NULL, c + j0, ldc, add, mr, n, true, 0, bias, rj, relu);
        } else {
            if (boff)
                mk_body(kc, a, bj, boff, c + j0, ldc, add, mr, n, false, g, bias, rj, relu);
            else
                mk_body(kc, a, bj, NULL, c + j0, ldc, add, mr, n, false, 0, bias, rj, relu);
        }
    }
}

/* Portable tile for rows read in place under lane masks (see
 * xb_sgemm_rows_masked_ep): scalar, one term per k in increasing k, fused
 * exactly when the portable vector tile fuses (FMADD: with FMA in the
 * build), so the same bits as it on a zero-filled panel; only the set
 * lanes are read.  It serves builds and CPUs without the AVX-512 tile,
 * where conv does not choose the masked path, and the tests. */
static void tile_portable_masked(int64_t kc, const float *a, const float *b, const int64_t *boff,
                                 const uint16_t *kmask, float *c, int64_t ldc, bool add,
                                 int64_t mr, int64_t nr, const float *bias, const float *res,
                                 bool relu) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int64_t k = 0; k < kc; k++, a += MR) {
        const uintptr_t bk = (uintptr_t)b + (uintptr_t)(boff[k] * (int64_t)sizeof(float));
        for (int64_t j = 0; j < nr; j++) {
            float bv = 0.0f;
            if (kmask[2 * k + j / 16] >> (j % 16) & 1) memcpy(&bv, (const void *)(bk + 4 * j), 4);
            for (int i = 0; i < MR; i++) acc[i][j] = FMADD(a[i], bv, acc[i][j]);
        }
    }
    for (int64_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc, bv = bias ? bias[i] : 0.0f;
        for (int64_t j = 0; j < nr; j++) {
            float v = add ? ci[j] + acc[i][j] : acc[i][j];
            if (bias) v = v + bv;
            if (res) v = v + res[i * ldc + j];
            if (relu) v = v > 0.0f ? v : 0.0f;
            ci[j] = v;
        }
    }
}

static bool g_allow_avx512 = true;

bool xb_sgemm_avx512_active(void) {
#if XB_SGEMM_AVX512_TILE
    return g_allow_avx512 && __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

bool xb_sgemm_set_avx512(bool allow) {
    bool old = g_allow_avx512;
    g_allow_avx512 = allow;
    return old;
}

/* The tile kernel for one call: AVX-512 or portable, chosen once per call. */
typedef void tile_fn(int64_t kc, const float *a, const float *b, const int64_t *boff, float *c,
                     int64_t ldc, bool add, int64_t mr, int64_t nr, int64_t gap,
                     const float *bias, const float *res, bool relu);

static tile_fn *pick_tile(void) {
#if XB_SGEMM_AVX512_TILE
    if (xb_sgemm_avx512_active()) return xb_sgemm_avx512_tile;
#endif
    return tile_portable;
}

typedef void masked_fn(int64_t kc, const float *a, const float *b, const int64_t *boff,
                       const uint16_t *kmask, float *c, int64_t ldc, bool add, int64_t mr,
                       int64_t nr, const float *bias, const float *res, bool relu);

static masked_fn *pick_masked(void) {
#if XB_SGEMM_AVX512_TILE
    if (xb_sgemm_avx512_active()) return xb_sgemm_avx512_tile_masked;
#endif
    return tile_portable_masked;
}

/* Finish one dot product: lanes of s in order, then the scalar tail. */
static inline float dot_finish(vf s, const float *a, const float *bj, int64_t kv, int64_t K) {
    float t = 0.0f;
    for (int l = 0; l < VL; l++) t += s[l];
    for (int64_t k = kv; k < K; k++) t = FMADD(a[k], bj[k], t);
    return t;
}

/* M = 1 (a fully connected layer on one image): packing B would cost as much
 * as the product, so read B in place; `a` is contiguous.  Several outputs
 * are computed together so that independent FMA chains hide the FMA
 * latency; each output's own summation order does not depend on how many
 * are grouped, so results do not change with N. */
static void gemv(int64_t N, int64_t K, const float *a, bool transB, const float *B, int64_t ldb,
                 float *c, bool accumulate) {
    if (!transB) {
        /* c[j] = sum_k a[k] B[k][j]: vectors run along j, k in order, with the
         * same K blocks as the packed path. */
        int64_t kcb = k_block_len(K);
        for (int64_t k0 = 0; k0 < K || k0 == 0; k0 += kcb) {
            int64_t kc = K - k0 < kcb ? K - k0 : kcb;
            bool add = accumulate || k0 > 0;
            int64_t j = 0;
            for (; j + 8 * VL <= N; j += 8 * VL) {
                vf s[8];
                for (int r = 0; r < 8; r++) s[r] = (vf){0};
                for (int64_t k = k0; k < k0 + kc; k++) {
                    const float *bk = B + k * ldb + j;
                    vf ak = vbcast(a[k]);
                    for (int r = 0; r < 8; r++) s[r] += ak * vload(bk + r * VL);
                }
                for (int r = 0; r < 8; r++)
                    vstore(c + j + r * VL, add ? vload(c + j + r * VL) + s[r] : s[r]);
            }
            for (; j + VL <= N; j += VL) {
                vf s0 = {0};
                for (int64_t k = k0; k < k0 + kc; k++) s0 += vbcast(a[k]) * vload(B + k * ldb + j);
                vstore(c + j, add ? vload(c + j) + s0 : s0);
            }
            for (; j < N; j++) {
                float t = 0.0f;
                for (int64_t k = k0; k < k0 + kc; k++) t = FMADD(a[k], B[k * ldb + j], t);
                c[j] = add ? c[j] + t : t;
            }
            if (K == 0) break;
        }
        return;
    }
    /* c[j] = dot(a, row j of B): VL partial sums along k (lane l takes
     * k = l mod VL), reduced lane 0..VL-1 in order, then the scalar tail.
     * Eight rows at a time share the loads of a. */
    int64_t kv = K / VL * VL;
    int64_t j = 0;
    for (; j + 8 <= N; j += 8) {
        vf s[8];
        for (int r = 0; r < 8; r++) s[r] = (vf){0};
        for (int64_t k = 0; k < kv; k += VL) {
            vf ak = vload(a + k);
            for (int r = 0; r < 8; r++) s[r] += ak * vload(B + (j + r) * ldb + k);
        }
        for (int r = 0; r < 8; r++) {
            float t = dot_finish(s[r], a, B + (j + r) * ldb, kv, K);
            c[j + r] = accumulate ? c[j + r] + t : t;
        }
    }
    for (; j < N; j++) {
        const float *bj = B + j * ldb;
        vf s = {0};
        for (int64_t k = 0; k < kv; k += VL) s += vload(a + k) * vload(bj + k);
        float t = dot_finish(s, a, bj, kv, K);
        c[j] = accumulate ? c[j] + t : t;
    }
}

static void gemm_packed(int64_t M, int64_t N, int64_t K, const float *Ap, bool transB,
                        const float *B, int64_t ldb, float *C, int64_t ldc, bool accumulate,
                        float *Bp) {
    if (K == 0) {
        if (!accumulate)
            for (int64_t i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    int64_t kcb = k_block_len(K), Mr = round_up(M, MR);
    tile_fn *tile = pick_tile();
    for (int64_t j0 = 0; j0 < N; j0 += NC) {
        int64_t nc = N - j0 < NC ? N - j0 : NC;
        for (int64_t k0 = 0; k0 < K; k0 += kcb) {
            int64_t kc = K - k0 < kcb ? K - k0 : kcb;
            bool add = accumulate || k0 > 0;
            pack_b(transB, B, ldb, k0, kc, j0, nc, Bp);
            const float *Ablk = Ap + Mr * k0;
            /* B micro-panel (kc x NR) stays in L1 while every A panel of
             * this K block streams past it from L2. */
            for (int64_t jp = 0; jp < nc; jp += NR) {
                int64_t nr = nc - jp < NR ? nc - jp : NR;
                const float *bp = Bp + jp * kc;
                for (int64_t i0 = 0; i0 < M; i0 += MR) {
                    int64_t mr = M - i0 < MR ? M - i0 : MR;
                    tile(kc, Ablk + i0 * kc, bp, NULL, C + i0 * ldc + j0 + jp, ldc, add, mr, nr,
                         0, NULL, NULL, false);
                }
            }
        }
    }
}

void xb_sgemm_prepacked(int64_t M, int64_t N, int64_t K, const float *Apacked, bool transB,
                        const float *B, int64_t ldb, float *C, int64_t ldc, bool accumulate,
                        void *scratch) {
    if (M <= 0 || N <= 0) return;
    if (M == 1) {
        /* Row 0 of the packed A sits at stride MR through all K blocks;
         * gather it once so the dot products read it contiguously. */
        float *a = align64(scratch);
        for (int64_t k = 0; k < K; k++) a[k] = Apacked[k * MR];
        gemv(N, K, a, transB, B, ldb, C, accumulate);
        return;
    }
    gemm_packed(M, N, K, Apacked, transB, B, ldb, C, ldc, accumulate, align64(scratch));
}

void xb_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float *A,
              int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc, bool accumulate,
              void *scratch) {
    if (M <= 0 || N <= 0) return;
    if (M == 1) {
        const float *a = A;
        if (transA && lda != 1) { /* a column of A: gather it (scratch holds K floats) */
            float *t = align64(scratch);
            for (int64_t k = 0; k < K; k++) t[k] = A[k * lda];
            a = t;
        }
        gemv(N, K, a, transB, B, ldb, C, accumulate);
        return;
    }
    float *Ap = align64(scratch);
    xb_sgemm_pack_a(transA, M, K, A, lda, Ap);
    float *Bp = align64((char *)Ap + xb_sgemm_packed_a_bytes(M, K));
    gemm_packed(M, N, K, Ap, transB, B, ldb, C, ldc, accumulate, Bp);
}

#if XB_SGEMM_AVX512_TILE
/* Rows read under masks, one K block, with the AVX-512 tall tiles
 * (xb_sgemm_avx512_tile_masked_tall) when M > 8: groups of 24 or 16 rows,
 * 24 while at least 40 rows remain or 17..24 do (64 = 24 + 24 + 16, 32 =
 * 16 + 16), the last group's rows past M computed on the packing's zero
 * rows and not stored; each group's two column halves one after the
 * other, so its A rows and each C and residual row are fetched once, as
 * with the 8 x 32 tile (against halves outermost, the 32-wide convs took
 * 0.95-1.01 and 0.84-0.94 of its time in two noisy bench_float PER_NODE
 * comparisons, docs/PERFORMANCE.md, session 13).  Returns the rows
 * done: M, or 0 when M <= 8 (the 8 x 32 tile serves those). */
static int64_t masked_tall(int64_t M, int64_t kc, const float *Ablk, const float *b,
                           const int64_t *koff, const uint16_t *kmask, float *C, int64_t ldc,
                           bool add, int64_t nr, const float *bias, const float *res, bool relu) {
    if (M <= MR) return 0;
    for (int64_t i0 = 0; i0 < M;) {
        int64_t rem = M - i0, rows = rem >= 40 || (rem > 16 && rem <= 24) ? 24 : 16;
        int64_t mr = rem < rows ? rem : rows;
        for (int64_t h = 0; h < 2 && 16 * h < nr; h++) {
            int64_t nh = nr - 16 * h < 16 ? nr - 16 * h : 16;
            xb_sgemm_avx512_tile_masked_tall(rows, kc, Ablk + i0 * kc, b + 16 * h, koff, kmask + h,
                                             C + i0 * ldc + 16 * h, ldc, add, mr, nh,
                                             bias ? bias + i0 : NULL,
                                             res ? res + i0 * ldc + 16 * h : NULL, relu);
        }
        i0 += mr;
    }
    return M;
}
#else
static int64_t masked_tall(int64_t M, int64_t kc, const float *Ablk, const float *b,
                           const int64_t *koff, const uint16_t *kmask, float *C, int64_t ldc,
                           bool add, int64_t nr, const float *bias, const float *res, bool relu) {
    (void)M, (void)kc, (void)Ablk, (void)b, (void)koff, (void)kmask, (void)C, (void)ldc;
    (void)add, (void)nr, (void)bias, (void)res, (void)relu;
    return 0;
}
#endif

/* The K-block loop shared by xb_sgemm_panel_ep and xb_sgemm_rows_ep: the
 * same K blocks and per-block accumulation as gemm_packed, so the sums
 * round identically; the epilogue runs with the last block. */
static void panel_blocks(int64_t M, int64_t K, const float *Apacked, const float *b,
                         const int64_t *koff, const uint16_t *kmask, int64_t gap, float *C,
                         int64_t ldc, int64_t nr, bool accumulate, const xb_sgemm_epilogue *ep) {
    if (M <= 0 || nr <= 0) return;
    const float *bias = ep ? ep->bias : NULL, *res = ep ? ep->res : NULL;
    bool relu = ep && ep->relu;
    if (K == 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < nr; j++) {
                float v = accumulate ? C[i * ldc + j] : 0.0f;
                if (bias) v = v + bias[i];
                if (res) v = v + res[i * ldc + j];
                if (relu) v = v > 0.0f ? v : 0.0f;
                C[i * ldc + j] = v;
            }
        return;
    }
    tile_fn *tile = pick_tile();
    masked_fn *mtile = pick_masked();
    const bool tall = kmask && mtile != tile_portable_masked;
    int64_t kcb = k_block_len(K), Mr = round_up(M, MR);
    for (int64_t k0 = 0; k0 < K; k0 += kcb) {
        int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        bool add = accumulate || k0 > 0, last = k0 + kc >= K;
        const float *Ablk = Apacked + Mr * k0;
        /* A packed panel's block k0 starts at row k0; rows read in place
         * take their offsets from koff + k0. */
        const float *bb = koff ? b : b + k0 * NR;
        const int64_t *ko = koff ? koff + k0 : NULL;
        int64_t i_tall = tall ? masked_tall(M, kc, Ablk, bb, ko, kmask + 2 * k0, C, ldc, add, nr,
                                            last ? bias : NULL, last ? res : NULL, last && relu)
                              : 0;
        for (int64_t i0 = i_tall; i0 < M; i0 += MR) {
            int64_t mr = M - i0 < MR ? M - i0 : MR;
            const float *bi = last && bias ? bias + i0 : NULL;
            const float *ri = last && res ? res + i0 * ldc : NULL;
            if (kmask)
                mtile(kc, Ablk + i0 * kc, bb, ko, kmask + 2 * k0, C + i0 * ldc, ldc, add, mr, nr,
                      bi, ri, last && relu);
            else
                tile(kc, Ablk + i0 * kc, bb, ko, C + i0 * ldc, ldc, add, mr, nr, gap, bi, ri,
                     last && relu);
        }
    }
}

void xb_sgemm_panel_ep(int64_t M, int64_t K, const float *Apacked, const float *panel, float *C,
                       int64_t ldc, int64_t nr, bool accumulate, const xb_sgemm_epilogue *ep) {
    panel_blocks(M, K, Apacked, panel, NULL, NULL, 0, C, ldc, nr, accumulate, ep);
}

void xb_sgemm_rows_ep(int64_t M, int64_t K, const float *Apacked, const float *base,
                      const int64_t *koff, int64_t gap, float *C, int64_t ldc, int64_t nr,
                      bool accumulate, const xb_sgemm_epilogue *ep) {
    panel_blocks(M, K, Apacked, base, koff, NULL, gap, C, ldc, nr, accumulate, ep);
}

void xb_sgemm_panel(int64_t M, int64_t K, const float *Apacked, const float *panel, float *C,
                    int64_t ldc, int64_t nr, bool accumulate) {
    panel_blocks(M, K, Apacked, panel, NULL, NULL, 0, C, ldc, nr, accumulate, NULL);
}

void xb_sgemm_rows(int64_t M, int64_t K, const float *Apacked, const float *base,
                   const int64_t *koff, float *C, int64_t ldc, int64_t nr, bool accumulate) {
    panel_blocks(M, K, Apacked, base, koff, NULL, 0, C, ldc, nr, accumulate, NULL);
}

void xb_sgemm_rows_masked_ep(int64_t M, int64_t K, const float *Apacked, const float *base,
                             const int64_t *koff, const uint16_t *kmask, float *C, int64_t ldc,
                             int64_t nr, bool accumulate, const xb_sgemm_epilogue *ep) {
    panel_blocks(M, K, Apacked, base, koff, kmask, 0, C, ldc, nr, accumulate, ep);
}
