/* Analog buffers in the crossbar simulation (TIMELY, ISCA'20; LayCO,
 * JCST'23): the partial sums of a chain of crossbars along K are added in
 * analog (P-subBufs and current adders) and converted once, instead of one
 * conversion per crossbar.
 *
 * The simulation needs no new execution path for that: a chain of `chain`
 * crossbars of xbar_rows rows computes, before its one conversion, exactly
 * the column sum of one crossbar of chain x xbar_rows rows, so the layer is
 * built with rows = chain x xbar_rows (backend/analog_buffer.c,
 * xb_buffer_configure) and every path (exact, correction, full) stays as it
 * is.  What the chain adds is error: each stage (each crossbar whose psum
 * passes a sub-buffer) adds an independent Gaussian error of sigma
 * buf_sigma unit levels, so a block of kb rows spanning
 * ceil(kb / xbar_rows) crossbars carries variance stages x buf_sigma^2 on
 * top of the read noise (convert.c, add_read_noise).  The noise model and
 * its voltage dependence are in docs/ARCH.md ("Analog buffers"). */
#ifndef XBAR_CROSSBAR_ANALOG_BUFFER_H
#define XBAR_CROSSBAR_ANALOG_BUFFER_H

#include "backend/crossbar/crossbar.h"

/* Crossbars (buffer stages) a conversion block of kb rows spans. */
static inline int64_t xb_buffer_block_stages(const xb_crossbar_config *c, int64_t kb) {
    if (c->xbar_rows <= 0) return 1;
    return (kb + c->xbar_rows - 1) / c->xbar_rows;
}

/* Variance the buffer stages add to one conversion of a block of kb rows,
 * in unit levels squared (0 without buffers). */
static inline double xb_buffer_block_var(const xb_crossbar_config *c, int64_t kb) {
    if (c->buf_sigma <= 0) return 0;
    return (double)xb_buffer_block_stages(c, kb) * c->buf_sigma * c->buf_sigma;
}

#endif
