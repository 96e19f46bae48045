/* How a K x N matrix lands on crossbar rows and columns: the integer
 * bookkeeping shared by the crossbar simulation, the engine that drives it
 * and the mapping compiler, so the three cannot disagree. */
#ifndef XBAR_CROSSBAR_GEOMETRY_H
#define XBAR_CROSSBAR_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

/* Row blocks of K rows on crossbars of `rows` rows (the last may be short). */
static inline int64_t xb_row_blocks(int64_t K, int64_t rows) { return (K + rows - 1) / rows; }

/* Rows of row block r: min(rows, K - r * rows). */
static inline int64_t xb_block_rows(int64_t K, int64_t rows, int64_t r) {
    int64_t left = K - r * rows;
    return left < rows ? left : rows;
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
