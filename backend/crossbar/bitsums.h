/* Column sums of 1-bit input digits by bit-plane popcounts (bitsums.c):
 * the same integers as the u8 x s8 GEMM over the levels (igemm), for layers
 * with l->levbits (1-bit DAC, ideal cells, at most 128 rows a block, and a
 * CPU with AVX-512 VPOPCNTDQ; run-time check at build, else levbits stays
 * NULL and the callers use igemm). */
#ifndef XBAR_CROSSBAR_BITSUMS_H
#define XBAR_CROSSBAR_BITSUMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/crossbar/crossbar.h"

/* Build l->levbits ([groups][R][C][planes][words] level bit planes) when
 * the layer qualifies; XB_OK and NULL when it does not. */
xb_status xb_bits_levels(xb_crossbar_layer *l, xb_ctx *ctx);
/* Positions of one mask row (pt rounded up, plus a run's overhang). */
int64_t xb_bits_ppad(int64_t pt);
/* Scratch for xb_bits_pack with chunks of up to pt positions. */
size_t xb_bits_scratch_bytes(const xb_crossbar_layer *l, int64_t pt);
/* The digit masks of rows [k0, k0+kb) and positions [p0, p0+pt) into
 * scratch; *bm points at them ([J][words][ppad] 64-bit masks). */
void xb_bits_pack(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, int64_t k0, int64_t kb,
                  int64_t p0, int64_t pt, void *scratch, uint64_t **bm);
/* X1 (the digit sum of each (digit, position) column) from the masks, as
 * bytes x1[j * pt + q] (at most 128 rows). */
void xb_bits_x1(const xb_crossbar_layer *l, const uint64_t *bm, int64_t pt, uint8_t *x1);
/* Column sums of block blk for nr runs (digit qj[i], positions qcols[i] ..
 * + 16, cut at pt), laid out one after the other: S[c * ld + pos]. */
void xb_bits_sums(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm, int64_t pt,
                  const uint8_t *qj, const int32_t *qcols, int64_t nr, int64_t ld, int32_t *S);

/* The correction path's clip corrections straight from the popcount sums
 * (no column sums stored).  Output n's columns are u * N + n, u < per_n
 * (program.c's order), each with its bit shift, and negated where its sign
 * is negative xor the block flipped it (flip: the block's row of
 * l->flipped, or NULL); codes lo <= 0 <= hi.  Conversions are single
 * columns (no signed pairs). */
typedef struct {
    int64_t N;
    int per_n;
    const int64_t *shift; /* [C] */
    const int8_t *sign;   /* [C] */
    const uint8_t *flip;  /* [C] or NULL */
    int64_t hi;           /* the top code (a single column's S >= 0 >= the lowest code) */
} xb_bits_clip;
/* For nr runs as in xb_bits_sums: corr[n * pt + q] += sum over the runs'
 * digits j and n's columns c of sign_c (clip(S) - S) 2^(j d + shift_c),
 * the same int64 sums correction.c forms from stored column sums; returns
 * the clipped conversions. */
/* Whether xb_bits_correct serves layer l: popcount sums (levbits) and one
 * output's corrections within an int32 (they are formed in 32-bit lanes). */
bool xb_bits_fused_ok(const xb_crossbar_layer *l);
int64_t xb_bits_correct(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm, int64_t pt,
                        const uint8_t *qj, const int32_t *qcols, int64_t nr,
                        const xb_bits_clip *k, int64_t *corr);

/* The sorted path (layers with l->lev_thr built for their top code): per
 * digit plane, the block's positions whose digit sum X1 reaches the
 * smallest column threshold are bucketed by X1 (largest first), and each
 * group of 16 outputs of one weight slice (or of the N mod 16 remainder
 * outputs of several slices) computes its columns' sums over
 * the buckets that hold an X1 reaching the group's smallest threshold (a
 * column whose threshold exceeds X1 cannot clip there).  Corrections go to
 * corrT[q * xb_bits_corr_ld(N) + n] (position-major), the same sums as
 * xb_bits_correct's in int32 (xb_bits_sorted_ok bounds them for a whole
 * chunk); x1 is xb_bits_x1's.  Returns the clipped conversions; *touched
 * says whether any position was taken. */
int64_t xb_bits_corr_ld(int64_t N);
/* Rebuild l->lev_thr (if any) for the current top code l->cfg.code_hi. */
void xb_bits_thresholds(xb_crossbar_layer *l);
size_t xb_bits_sort_bytes(const xb_crossbar_layer *l, int64_t pt);
bool xb_bits_sorted_ok(const xb_crossbar_layer *l);
/* acc[n * P + q] += corrT[q * ld + n] for n < N, q < pt, saturating to
 * int32 (the sorted path's corrections applied). */
void xb_bits_apply_sorted(int32_t *acc, int64_t P, const int32_t *corrT, int64_t ld, int64_t N,
                          int64_t pt);
int64_t xb_bits_correct_sorted(const xb_crossbar_layer *l, int64_t blk, const uint64_t *bm,
                               const uint8_t *x1, int64_t pt, const xb_bits_clip *k,
                               int32_t *corrT, void *scratch, bool *touched);

#endif
