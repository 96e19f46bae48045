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
 * A register-blocked micro-kernel then keeps an MR x (16 PV) block of int32
 * accumulators in registers (MR in 4..8 picked to divide the channel
 * count, MR * PV <= 24 zmm) and, per k-quad, does PV vector loads of x and
 * MR broadcasts of w for MR * PV dot-product instructions.  Zero padding
 * adds 0 to every sum, so edges need no special arithmetic.
 *
 * Instruction sets are chosen at run time (igemm_isa.h): AVX-512 VNNI
 * (kernels/igemm_vnni.c), else 256-bit AVX-VNNI (kernels/igemm_avxvnni.c),
 * else a portable loop over the same layout (several times slower: without
 * a byte dot-product instruction int8 has no throughput edge over float
 * FMA).  All give identical sums.
 *
 * Exactness: int32 accumulation never overflows when
 * K * 128 * 255 < 2^31, i.e. K <= XB_IGEMM_KMAX; callers validate K.
 * Nothing here allocates. */
#ifndef XBAR_IGEMM_H
#define XBAR_IGEMM_H

#include <stdbool.h>
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

/* Direct stride-1 convolution without an unfolded matrix:
 *     acc[n * P + oy * WO + ox] = sum_q sum_t wp[n * 4 Kq + 4 q + t]
 *                                 * x[xoff[q] + oy * rstride + 4 * ox + t],   P = HO * WO,
 * i.e. k-quad q of output (oy, ox) is the 4 bytes at xoff[q] + oy * rstride
 * + 4 ox.  That is the channels-interleaved padded planes of
 * im2col_packed.h read in place (sw = 1): the product equals
 * xb_igemm_packed over xb_im2col_u8_packed4's matrix.  Fast
 * (xb_igemm_direct_fast) with AVX-512 VNNI when WO is a multiple of 16 or
 * WO == 8 with HO even.  Any other WO, with rstride a multiple of 4, runs
 * "wide" with AVX-512 VNNI: the rows are read as one long row of
 * (HO - 1) * rstride / 4 + WO positions, the columns between output rows
 * computed and dropped (xb_igemm_direct_wide says whether that is
 * available).  CPUs with only 256-bit AVX-VNNI run every shape correctly
 * but slower than unfolding + xb_igemm_packed.  Every read stays within
 * [xoff[q], xoff[q] + xb_igemm_direct_extent(HO, WO, rstride)) for each q. */
void xb_igemm_direct(const int8_t *wp, const uint8_t *x, const int64_t *xoff, int64_t Kq, int64_t N,
                     int64_t HO, int64_t WO, int64_t rstride, int32_t *acc);
static inline int64_t xb_igemm_direct_extent(int64_t HO, int64_t WO, int64_t rstride) {
    if (rstride % 4 == 0) return 4 * xb_igemm_ppad((HO - 1) * (rstride / 4) + WO);
    return (HO - 1) * rstride + 4 * WO;
}
bool xb_igemm_direct_wide(void);
bool xb_igemm_direct_fast(int64_t HO, int64_t WO);

/* For few positions (a fully-connected layer on one image, M <= 4): x as
 * rows per position xr[m * ld + k], weights packed; acc[n * M + m].  The
 * packed kernel would fill one of 16 lanes per vector here. */
#define XB_IGEMM_ROWS_MAX_M 4
void xb_igemm_rows(const int8_t *wp, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                   int64_t M, int32_t *acc);

/* The same product for few positions with the weights transposed, wt
 * packed like x with the N outputs as positions ([Kq][Np][4] bytes, Np = N
 * rounded up to 16; xb_igemm_pack_wt): one instruction then covers 16
 * outputs and no horizontal sums are needed.  acc[n * M + m]. */
static inline size_t xb_igemm_wt_bytes(int64_t K, int64_t N) { return xb_igemm_xpack_bytes(K, N); }
void xb_igemm_pack_wt(const int8_t *w, int64_t K, int64_t N, int8_t *wt);
void xb_igemm_rows_t(const int8_t *wt, const uint8_t *xr, int64_t ld, int64_t K, int64_t N,
                     int64_t M, int32_t *acc);

/* Contract form, same arguments as xb_engine.qmatmul: w [N][K], x [K][P],
 * acc [N][P].  Packs both operands into `scratch`, which must hold
 * xb_igemm_scratch_bytes(K, N, P) bytes. */
size_t xb_igemm_scratch_bytes(int64_t K, int64_t N, int64_t P);
void xb_igemm(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P, int32_t *acc,
              void *scratch);

/* The instruction set the kernels use, from the CPU's features at run time
 * (xb_igemm_set_portable(true) forces the portable kernels: for tests that
 * compare the two; set it before any run, never during one). */
typedef enum { XB_IGEMM_PORTABLE = 0, XB_IGEMM_AVXVNNI = 1, XB_IGEMM_AVX512VNNI = 2 } xb_igemm_isa;
xb_igemm_isa xb_igemm_isa_used(void);
const char *xb_igemm_isa_name(xb_igemm_isa isa);
void xb_igemm_set_portable(bool on);

#endif
