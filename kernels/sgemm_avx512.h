/* The hand-written AVX-512 micro-kernel of kernels/sgemm.c (internal to
 * the sgemm; nothing else calls it).  Built on x86-64 with GCC or Clang
 * whatever -march says (the function carries target("avx512f")), and run
 * only when the CPU reports AVX-512F (xb_sgemm_avx512_active). */
#ifndef XBAR_SGEMM_AVX512_H
#define XBAR_SGEMM_AVX512_H

#include <stdbool.h>
#include <stdint.h>

#include "kernels/sgemm.h"

#if XB_SGEMM_AVX512_TILE
/* One 8 x 32 tile (XB_SGEMM_MR x XB_SGEMM_NR), the same contract and the
 * same bits as the portable tile in sgemm.c: acc(i, j) = sum over k < kc,
 * in increasing k, of a[k*8 + i] * B(k, j) with one fused multiply-add per
 * term; B(k, j) = b[k*32 + j] or, when boff is not NULL, b[boff[k] + j]
 * (whole 32-float rows are read, as in xb_sgemm_rows), columns 16..31
 * `gap` floats further (xb_sgemm_rows_ep).  Then C(i, j) =
 * acc or C(i, j) + acc (add), + bias[i] when bias is not NULL, +
 * res[i*ldc + j] when res is not NULL, and Relu when relu, for i < mr,
 * j < nr only. */
void xb_sgemm_avx512_tile(int64_t kc, const float *a, const float *b, const int64_t *boff,
                          float *c, int64_t ldc, bool add, int64_t mr, int64_t nr,
                          int64_t gap, const float *bias, const float *res, bool relu);
/* The same tile with row k's lanes masked: B(k, j) = bit j % 16 of
 * kmask[2k + j / 16] ? b[boff[k] + j] : +0.0, only the set lanes read
 * (see xb_sgemm_rows_masked_ep); no gap. */
void xb_sgemm_avx512_tile_masked(int64_t kc, const float *a, const float *b, const int64_t *boff,
                                 const uint16_t *kmask, float *c, int64_t ldc, bool add,
                                 int64_t mr, int64_t nr, const float *bias, const float *res,
                                 bool relu);
/* The masked tile for one 16-column half and `rows` (16 or 24) rows:
 * acc(i, j) for i < rows, j < 16 as in xb_sgemm_avx512_tile_masked with
 * B(k, j) = bit j of kmask[2k] ? b[boff[k] + j] : +0.0 (pass b + 16 and
 * kmask + 1 for the second half), A read from rows/8 consecutive packed
 * 8-row panels of kc x 8 floats (rows past M must be packed, as zeros);
 * C(i, j) stored as there for i < mr <= rows, j < nr <= 16. */
void xb_sgemm_avx512_tile_masked_tall(int64_t rows, int64_t kc, const float *a, const float *b,
                                      const int64_t *boff, const uint16_t *kmask, float *c,
                                      int64_t ldc, bool add, int64_t mr, int64_t nr,
                                      const float *bias, const float *res, bool relu);
#endif

#endif
