/* convert.c's fused direct path (ideal cells, no read noise, a rounding ADC:
 * every conversion is clamp(round(S / LSB)) x LSB straight from the integer
 * column sums, the path of every non-profile image of a layer whose LSB is
 * not 1: the calibrated ADCs) fused with the popcount sums of bitsums.c: a row block's sums are formed 16 positions
 * at a time in registers and converted and shift-added at once, never
 * stored.  The unfused path writes the block's [C][J pt] sums (512 KB at
 * the chunk size) and reads them back from L2 for the conversions; that
 * round trip, not the arithmetic, was most of the 6-bit calibrated ADC's
 * conversion time (docs/PERFORMANCE.md, session 13).
 *
 * Exactness: the values, their order of addition into the double
 * accumulators (column by column, digit 0 first) and the float operations
 * of the conversion are convert.c's, so every accumulator has the same
 * bits (crossbar/direct_fused_matches_unfused). */
#ifndef XBAR_CROSSBAR_DIRECT_H
#define XBAR_CROSSBAR_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

/* code = nearbyintf((float)S x finv), clamped to [flo, fhi], y = code x flsb */
typedef struct {
    float finv, flsb, flo, fhi;
} xb_direct_adc;

/* One row block of one chunk: level planes lb ([C][planes][W], bitsums.c),
 * digit masks bm ([J][W][pp], xb_bits_pack), pt positions, the block's
 * rows (32-row halves past them hold no level bit and are not summed).
 * Column c adds into accd[col_n[c] pt + q], for digits j = 0 .. J-1 in
 * turn, sign_c 2^(j d + shift_c) y (pow2[i] = 2^i).  Single columns only
 * (no signed pairs). */
typedef struct {
    const uint64_t *lb, *bm;
    int planes;
    int64_t W, pp, C, rows, pt;
    int J, d;
    const int64_t *col_n, *col_shift;
    const int8_t *col_sign;
    const double *pow2;
} xb_direct_block;

/* Whether the fused kernel serves a layer whose level planes exist
 * (l->levbits: bitsums.c builds them only when the CPU has AVX-512 with
 * VPOPCNTDQ, for one or two mask words and at most 8 planes) with J
 * digits (at most 64), and is not switched off. */
bool xb_direct_fused_ok(int J);
/* Tests: false makes xb_direct_fused_ok refuse, so convert.c takes the
 * sums-then-conversions path (set before a run, never during one). */
void xb_direct_set_fused(bool on);
/* The block's conversions into accd; returns the conversions that clamped. */
int64_t xb_direct_fused(const xb_direct_adc *a, const xb_direct_block *b, double *accd);

#endif
