/* How a K x N matrix lands on crossbar rows and columns: the integer
 * bookkeeping shared by the crossbar simulation, the engine that drives it
 * and the mapping compiler, so the three cannot disagree.
 *
 * Row blocks (arch mapping.row_split): K rows always take the fewest
 * crossbars, R = ceil(K / rows).  `fill` (even = false) fills each block to
 * `rows` and leaves the rest to the last one (150 on 128 rows: 128 + 22);
 * `even` spreads K as equally as possible, the first K mod R blocks one row
 * longer (150: 75 + 75; 288: 3 x 96; 385: 97 + 96 + 96 + 96), as CrossSim
 * splits a matrix over arrays. */
#ifndef XBAR_CROSSBAR_GEOMETRY_H
#define XBAR_CROSSBAR_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

/* Row blocks of K rows on crossbars of `rows` rows (either policy). */
static inline int64_t xb_row_blocks(int64_t K, int64_t rows) { return (K + rows - 1) / rows; }

/* First row of row block r. */
static inline int64_t xb_block_start(int64_t K, int64_t rows, bool even, int64_t r) {
    if (!even) return r * rows;
    int64_t R = xb_row_blocks(K, rows), base = K / R, rem = K % R;
    return r * base + (r < rem ? r : rem);
}

/* Rows of row block r (block 0 is the largest under both policies). */
static inline int64_t xb_block_rows(int64_t K, int64_t rows, bool even, int64_t r) {
    if (even) {
        int64_t R = xb_row_blocks(K, rows);
        return K / R + (r < K % R ? 1 : 0);
    }
    int64_t left = K - r * rows;
    return left < rows ? left : rows;
}

/* The row block holding row k. */
static inline int64_t xb_row_block_of(int64_t K, int64_t rows, bool even, int64_t k) {
    if (!even) return k / rows;
    int64_t R = xb_row_blocks(K, rows), base = K / R, rem = K % R, big = rem * (base + 1);
    return k < big ? k / (base + 1) : rem + (k - big) / base;
}

/* Conversions per (row block, input digit, position) of C columns: a
 * signed pair converts its two columns once, as S+ - S-. */
static inline int64_t xb_conversions_per_block(bool signed_pair, int64_t C) {
    return signed_pair ? C / 2 : C;
}

/* The column of conversion cc, among C = slices * 2 * N (signed pair:
 * columns (s, +, n) = s*2N + n and (s, -, n) = s*2N + N + n are subtracted
 * before the one conversion; this returns the positive one, the negative
 * one is N further) or the column itself. */
static inline int64_t xb_conversion_col(bool signed_pair, int64_t N, int64_t cc) {
    return signed_pair ? (cc / N) * 2 * N + cc % N : cc;
}

#endif
