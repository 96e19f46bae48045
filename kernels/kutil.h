/* Small helpers shared by the shape and elementwise kernels: arity checks,
 * axis normalisation and reading the constant integer inputs (Reshape's
 * shape, Unsqueeze's axes, Pad's pads) that decide output shapes.
 *
 * Messages from these helpers do not repeat the node name: xb_graph_prepare
 * prefixes every prepare failure with "node 'name' (Op)". */
#ifndef XBAR_KUTIL_H
#define XBAR_KUTIL_H

#include <stdint.h>

#include "runtime/exec.h"
#include "runtime/ir.h"

/* Fail unless min_in <= n_in <= max_in, min_out <= n_out <= max_out and the
 * first min_in inputs / min_out outputs are present (index >= 0). */
xb_status xb_k_arity(const xb_node *n, int min_in, int max_in, int min_out, int max_out,
                     xb_ctx *ctx);

/* Normalise an axis in [-rank, rank) (or [-rank, rank] when `inclusive`, as
 * for Flatten) to a non-negative value.  `what` names it in the message. */
xb_status xb_k_axis(int64_t axis, int rank, int inclusive, const char *what, int *out,
                    xb_ctx *ctx);

/* Read input i as a constant list of integers (i64, or i32 when allow_i32),
 * rank 0 or 1, at most `max` values.  Fails with UNSUPPORTED when the input is
 * not constant after folding, naming `what`. */
xb_status xb_k_const_ints(const xb_graph *g, const xb_node *n, int i, const char *what, int allow_i32,
                          int64_t *vals, int max, int *count, xb_ctx *ctx);

/* True when the optional input i is present. */
static inline int xb_k_has_in(const xb_node *n, int i) { return i < n->n_in && n->in[i] >= 0; }

/* numel * dtype size, for memcpy-style kernels. */
size_t xb_k_bytes(const xb_tensor *t);

/* Run function of the pure-copy ops (Identity, Reshape, Flatten, Squeeze,
 * Unsqueeze, Dropout's data output): output 0 = input 0 byte for byte. */
xb_status xb_k_copy_run(const xb_graph *g, const xb_node *n, struct xb_exec *e, xb_ctx *ctx);

/* Is dtype one of the plain numeric types (f32/u8/i8/i32/i64/bool)? */
int xb_k_dtype_ok(xb_dtype t);
/* Strided gather shared by Transpose and Slice: dst is dense with dims
 * od[0..rank), and output step along axis k moves the source by is[k]
 * elements (may be negative) from `base`.  elem_size is 1, 4 or 8; returns
 * 0, or -1 for any other size. */
int xb_k_strided_gather(const void *src, void *dst, size_t elem_size, int rank, const int64_t *od,
                        const int64_t *is, int64_t base);

#endif
