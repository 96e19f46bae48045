/* Row rename and row reorder (after Weinstock, Tan, Li, Yu, "40 nm RRAM
 * compute-in-memory", ORSS'23; docs/REPRODUCTION.md): which stored crossbar
 * row each logical row k of a K x N weight matrix feeds.
 *
 * Rename (mapping.row_rename): rows of the matrix that are identical in every
 * output (and every group) are stored once; their input codes are added
 * digitally before the DAC, so acc = sum_u W'[u] * (sum_{k -> u} x[k]) =
 * sum_k W[k] * x[k] exactly.  The summed code is wider than one input: a
 * class of m rows with x < 2^x_bits reaches m (2^x_bits - 1).  Summed codes
 * are kept to 8 bits (the crossbar simulation's input width), so a class is
 * cut into chunks of at most floor(255 / (2^x_bits - 1)) rows, each chunk
 * one stored row; with 8-bit inputs nothing can merge.  The layer streams
 * max(input_bits, bits of its largest summed code) input bits, which the
 * compiler and the cost model charge.
 *
 * Reorder (mapping.row_reorder): stored rows sorted by how often their input
 * code is nonzero on the calibration images, most active first (ties: the
 * lower row), so rows that are active together share row blocks and rarely
 * active rows fill the last blocks, which sparsity-aware input control
 * (mapping.input_control, backend/crossbar) then often skips whole.  Without
 * activity counts the order is the rename order (first logical row). */
#ifndef XBAR_ROWMAP_H
#define XBAR_ROWMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/status.h"
#include "backend/arch.h"
#include "backend/compile.h"

typedef struct {
    int64_t K, Ks;      /* logical rows, stored rows */
    int64_t groups, N;
    int64_t *dest;      /* [K] stored row of logical row k */
    int8_t *w;          /* [groups][N][Ks] stored weights */
    int64_t max_merge;  /* most logical rows summed into one stored row */
    int in_bits;        /* bits of the largest summed code (>= x_bits) */
} xb_rowmap;

/* Build from weights [groups][N][K] with x_bits-bit input codes.
 * `activity` ([K] nonzero counts, or NULL) orders the stored rows when
 * reorder is set.  Fails only on allocation. */
xb_rowmap *xb_rowmap_new(const int8_t *w, int64_t groups, int64_t N, int64_t K, int x_bits,
                         bool rename, bool reorder, const int64_t *activity, xb_ctx *ctx);
void xb_rowmap_free(xb_rowmap *m);
/* xr[Ks][P] = the summed codes of every stored row (x is [K][P]); each sum
 * fits 8 bits by construction. */
void xb_rowmap_apply(const xb_rowmap *m, const uint8_t *x, int64_t P, uint8_t *xr);
/* The stored rows and summed-input bits renaming gives these weights
 * (what the compiler needs; no order).  Fails only on allocation. */
xb_status xb_rowmap_count(const int8_t *w, int64_t groups, int64_t N, int64_t K, int x_bits,
                          int64_t *rows, int *in_bits, xb_ctx *ctx);
/* The shape the compiler maps: K replaced by the stored rows when the arch
 * renames and they are known, and the layer's input slices (*J, on entry
 * the arch's) widened to the summed codes' bits.  Returns s or phys. */
const xb_layer_shape *xb_rowmap_physical_shape(const xb_arch *a, const xb_layer_shape *s,
                                               xb_layer_shape *phys, int *J);

#endif
