/* Single-precision matrix multiply for the float kernels (Conv via im2col,
 * Gemm, MatMul).
 *
 *   C[M][N] = op(A)[M][K] * op(B)[K][N]      (accumulate = false)
 *   C[M][N] += op(A)[M][K] * op(B)[K][N]     (accumulate = true)
 *
 * op(X) is X or its transpose; A(i,k) = transA ? A[k*lda + i] : A[i*lda + k],
 * B(k,j) = transB ? B[j*ldb + k] : B[k*ldb + j], C(i,j) = C[i*ldc + j].
 *
 * Single-threaded (the runtime parallelises across images), allocation-free
 * (packing buffers live in caller scratch), and deterministic: the summation
 * order depends only on M, N, K, never on data, alignment or threads.  With
 * K <= XB_SGEMM_KC the sum over k for each C element runs in increasing k
 * in one accumulator (fused multiply-add when the target has FMA); larger K
 * is split into near-equal blocks whose partial sums are added to C in
 * block order. */
#ifndef XBAR_SGEMM_H
#define XBAR_SGEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register tile and cache blocking, exposed for callers that build B panels
 * themselves (xb_sgemm_panel).  The vector width VL follows what the build
 * targets.  On x86-64 (GCC/Clang) the tile is always MR x NR = 8 x 32, the
 * layout of the hand-written AVX-512 micro-kernel (kernels/sgemm_avx512.c),
 * so a build without -march=native still runs it when the CPU has AVX-512
 * (checked at run time); the portable kernel covers the 32 columns in
 * chunks of 2*VL.  Elsewhere the tile follows VL: two vectors per row of
 * NR, and MR rows so that MR*2 accumulators plus three temporaries fit the
 * register file.  KC = 256 keeps a B micro-panel (KC x NR) in L1;
 * measured, 192..600 made no difference on the model shapes. */
#if defined(__AVX512F__)
#define XB_SGEMM_VL 16
#elif defined(__AVX__)
#define XB_SGEMM_VL 8
#else
#define XB_SGEMM_VL 4
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define XB_SGEMM_AVX512_TILE 1
#define XB_SGEMM_MR 8
#define XB_SGEMM_NR 32
#else
#define XB_SGEMM_AVX512_TILE 0
#define XB_SGEMM_MR (XB_SGEMM_VL == 16 ? 8 : 6)
#define XB_SGEMM_NR (2 * XB_SGEMM_VL)
#endif
#define XB_SGEMM_KC 256
#define XB_SGEMM_NC 512 /* multiple of every NR above */

/* Scratch bytes xb_sgemm needs for these sizes (packed A, one packed block
 * of B, alignment slack).  0 never; callers add it to node->scratch_bytes. */
size_t xb_sgemm_scratch_bytes(int64_t M, int64_t N, int64_t K);

void xb_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const float *A,
              int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc, bool accumulate,
              void *scratch);

/* Pre-packing of a constant A (weights), done once at prepare:
 * xb_sgemm_packed_a_bytes(M, K) bytes at `dst` (any alignment; float
 * aligned), then xb_sgemm_prepacked runs without re-packing A and needs only
 * xb_sgemm_prepacked_scratch_bytes of scratch.  Same results, bit for bit,
 * as xb_sgemm on the unpacked A. */
size_t xb_sgemm_packed_a_bytes(int64_t M, int64_t K);
void xb_sgemm_pack_a(bool transA, int64_t M, int64_t K, const float *A, int64_t lda, float *dst);
size_t xb_sgemm_prepacked_scratch_bytes(int64_t M, int64_t N, int64_t K);
void xb_sgemm_prepacked(int64_t M, int64_t N, int64_t K, const float *Apacked, bool transB,
                        const float *B, int64_t ldb, float *C, int64_t ldc, bool accumulate,
                        void *scratch);

/* One NR-column panel of B, already packed by the caller: `panel` holds
 * K x XB_SGEMM_NR floats, k-major (panel[k * NR + j]); columns nr..NR-1 may
 * hold anything finite and are not stored.  Computes C[M][0..nr) (+)=
 * A * panel with A from xb_sgemm_pack_a, no scratch.  This lets a conv
 * build each panel straight from the input (im2col fused with packing) and
 * consume it while it is in L1.  For M > 1, bit-identical to
 * xb_sgemm_prepacked on the same columns. */
void xb_sgemm_panel(int64_t M, int64_t K, const float *Apacked, const float *panel, float *C,
                    int64_t ldc, int64_t nr, bool accumulate);

/* What the last K block does to each stored element, after adding its sum
 * to C (or storing it): C(i, j) += bias[i] when bias is not NULL, then
 * C(i, j) += res[i*ldc + j] when res is not NULL, then C(i, j) = C(i, j) >
 * 0 ? C(i, j) : 0 when relu.  In that order and rounding once per
 * operation, so it is bit-identical to a separate bias pass, a separate
 * Add of the residual and a separate Relu (kernels/add.c, relu.c) over the
 * finished product.  `bias` holds one value per row of C (M values); `res`
 * is laid out like C (same ldc, pointing at the element of C(0, 0)) and
 * must not overlap C. */
typedef struct {
    const float *bias;
    const float *res;
    bool relu;
} xb_sgemm_epilogue;

/* xb_sgemm_panel / xb_sgemm_rows with an epilogue (NULL: none). */
void xb_sgemm_panel_ep(int64_t M, int64_t K, const float *Apacked, const float *panel, float *C,
                       int64_t ldc, int64_t nr, bool accumulate, const xb_sgemm_epilogue *ep);
/* For rows read in place, columns from NR/2 on are read `gap` floats
 * further: B(k, j) = base[koff[k] + j] for j < NR/2, base[koff[k] + j +
 * gap] for j >= NR/2.  A conv whose output rows are NR/2 wide and sit `gap`
 * floats apart in its padded input computes two rows per panel this way,
 * with no copy and no junk columns.  gap = 0 is xb_sgemm_rows. */
void xb_sgemm_rows_ep(int64_t M, int64_t K, const float *Apacked, const float *base,
                      const int64_t *koff, int64_t gap, float *C, int64_t ldc, int64_t nr,
                      bool accumulate, const xb_sgemm_epilogue *ep);

/* Rows read in place under lane masks: B(k, j) = base[koff[k] + j] when
 * bit j % 16 of kmask[2k + j / 16] is set, else +0.0, and the unset lanes
 * are not read at all, so koff may point rows past the edges of base's
 * buffer (even before it) wherever their lanes are unset.  A stride-1 conv
 * with "same" width reads its unpadded input this way, the masks standing
 * in for the zero border of a padded copy: the same terms in the same
 * order, so bit-identical to xb_sgemm_rows_ep on the padded copy.  Fast
 * only with the AVX-512 tile (xb_sgemm_avx512_active); the portable
 * fallback is scalar. */
void xb_sgemm_rows_masked_ep(int64_t M, int64_t K, const float *Apacked, const float *base,
                             const int64_t *koff, const uint16_t *kmask, float *C, int64_t ldc,
                             int64_t nr, bool accumulate, const xb_sgemm_epilogue *ep);

/* Whether the tile kernels run the hand-written AVX-512 micro-kernel: true
 * when the build has the 8 x 32 tile and the CPU reports AVX-512F.
 * xb_sgemm_set_avx512(false) forces the portable kernel (for the test that
 * compares the two; not thread-safe, call it with no sgemm running);
 * true restores the CPU check.  Returns the previous setting. */
bool xb_sgemm_avx512_active(void);
bool xb_sgemm_set_avx512(bool allow);

/* Like xb_sgemm_panel, but B's rows are read in place: B(k, j) =
 * base[koff[k] + j].  Each row is read as a whole NR-float vector pair even
 * when nr < NR, so base[koff[k] .. koff[k] + NR) must be readable.  A conv
 * whose im2col rows are shifted slices of one buffer uses it to skip
 * packing.  Bit-identical to xb_sgemm_panel on the same values. */
void xb_sgemm_rows(int64_t M, int64_t K, const float *Apacked, const float *base,
                   const int64_t *koff, float *C, int64_t ldc, int64_t nr, bool accumulate);

#endif
