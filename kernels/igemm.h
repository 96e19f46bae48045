/* The int8 reference matrix kernel.
 *
 *     acc[n][p] = sum_k w[n][k] * x[k][p]      w int8, x uint8 codes, acc int32
 *
 * This is the computation of xb_engine.qmatmul (runtime/exec.h) when no
 * engine is installed, and what XbarQConv / XbarQGemm / ConvInteger /
 * MatMulInteger / QLinear* reduce to.
 *
 * Operands are packed first, the standard layout for byte dot-product
 * instructions (VNNI vpdpbusd multiplies 4 unsigned bytes by 4 signed bytes
 * and adds the 4 products to one int32 lane):
 *   - w as [N][Kp] bytes, Kp = K rounded up to a multiple of 4, zero-padded;
 *   - x as [Kq][Pp][4] bytes, Kq = Kp/4, Pp = P rounded up to a multiple of
 *     16: the 4 codes of one k-quad for one position sit together, and a
 *     64-byte row holds 16 positions, one int32 lane each.
 * A micro-kernel then keeps a 6 x 64 block of int32 accumulators in
 * registers and, per k-quad, does 4 vector loads of x and 6 broadcasts of w
 * for 24 dot-product instructions (96 MACs per lane).  Zero padding adds 0
 * to every sum, so edges need no special arithmetic.  CPUs with only the
 * 256-bit AVX-VNNI get a 6 x 16 variant; others run a portable loop over the
 * same layout (several times slower: without a byte dot-product
 * instruction int8 has no throughput edge over float FMA).
 *
 * Exactness: int32 accumulation never overflows when
 * K * 128 * 255 < 2^31, i.e. K <= XB_IGEMM_KMAX; callers validate K.
 * Nothing here allocates. */
#ifndef XBAR_IGEMM_H
#define XBAR_IGEMM_H

#include <stddef.h>
#include <stdint.h>

#define XB_IGEMM_KMAX 65536

static inline int64_t xb_igemm_kpad(int64_t K) { return (K + 3) & ~(int64_t)3; }
static inline int64_t xb_igemm_ppad(int64_t P) { return (P + 15) & ~(int64_t)15; }

/* Bytes of packed operands. */
static inline size_t xb_igemm_wpack_bytes(int64_t K, int64_t N) {
    return (size_t)(N * xb_igemm_kpad(K));
}
static inline size_t xb_igemm_xpack_bytes(int64_t K, int64_t P) {
    return (size_t)(xb_igemm_kpad(K) * xb_igemm_ppad(P));
}
/* Offset of element (k, p) in packed x: lets im2col write the packed layout
 * directly. */
static inline int64_t xb_igemm_xpack_index(int64_t k, int64_t p, int64_t Pp) {
    return (k >> 2) * Pp * 4 + p * 4 + (k & 3);
}

/* w [N][K] -> packed [N][Kp]. */
void xb_igemm_pack_w(const int8_t *w, int64_t K, int64_t N, int8_t *wp);
/* x [K][P] (row k holds all positions) -> packed. */
void xb_igemm_pack_x(const uint8_t *x, int64_t K, int64_t P, uint8_t *xp);
/* x given as rows per position, xr[p * ld + k] (a Gemm/MatMul input
 * [M][K] with P = M) -> packed. */
void xb_igemm_pack_xrows(const uint8_t *xr, int64_t ld, int64_t K, int64_t P, uint8_t *xp);
/* Zero the padding of a packed x whose real elements were written through
 * xb_igemm_xpack_index (rows k >= K of the last quad, positions p >= P). */
void xb_igemm_pack_x_clear(uint8_t *xp, int64_t K, int64_t P);

/* acc[n * P + p] = sum_k w[n][k] * x[k][p] over packed operands. */
void xb_igemm_packed(const int8_t *wp, const uint8_t *xp, int64_t K, int64_t N, int64_t P,
                     int32_t *acc);

/* For few positions (a fully-connected layer on one image, M <= 4): x as
 * rows per position xr[m * ld + k], weights packed; acc[n * M + m].  The
 * packed kernel would fill one of 16 lanes per vector here. */
#define XB_IGEMM_ROWS_MAX_M 4
void xb_igemm_rows(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                   int64_t M, int32_t *acc);

/* Contract form, same arguments as xb_engine.qmatmul: w [N][K], x [K][P],
 * acc [N][P].  Packs both operands into `scratch`, which must hold
 * xb_igemm_scratch_bytes(K, N, P) bytes. */
size_t xb_igemm_scratch_bytes(int64_t K, int64_t N, int64_t P);
void xb_igemm(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P, int32_t *acc,
              void *scratch);

#endif
