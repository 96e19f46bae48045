/* im2col of uint8 codes written straight into igemm's packed x layout
 * ([Kq][Pp][4], igemm.h), from input planes that already carry their
 * padding.
 *
 * Two choices make this the cheap part of a quantized conv:
 *   - the unfolded matrix is built once, in the layout the kernel reads,
 *     instead of im2col followed by a packing pass;
 *   - the quantization step writes each channel into a plane of
 *     (H + pt + pb) x (W + pl + pr) whose border holds the zero point's code,
 *     so the unfolding has no bounds tests at all: every output row of every
 *     kernel tap is a plain (strided) copy, and at stride 1 four taps are
 *     interleaved by one vectorised loop.
 * Rows k >= K and positions p >= P of the packed matrix are zero; the
 * result is byte-identical to xb_im2col_u8 + xb_igemm_pack_x. */
#ifndef XBAR_IM2COL_PACKED_H
#define XBAR_IM2COL_PACKED_H

#include <stdint.h>

#include "conv_geom.h"

static inline int64_t xb_padded_h(const xb_conv_geom *cg) { return cg->h + cg->pt + cg->pb; }
static inline int64_t xb_padded_w(const xb_conv_geom *cg) { return cg->w + cg->pl + cg->pr; }

/* Fill the border of `channels` padded planes with `value`. */
void xb_pad_border_u8(const xb_conv_geom *cg, int64_t channels, uint8_t value, uint8_t *xpad);
/* Copy `channels` unpadded planes into the interior of padded ones, XOR-ing
 * every byte with `flip` (0x80 turns int8 into offset uint8, 0 copies). */
void xb_pad_copy_u8(const xb_conv_geom *cg, int64_t channels, const uint8_t *x, uint8_t flip,
                    uint8_t *xpad);
/* Unfold one group: xpad points at the group's first padded plane. */
void xb_im2col_u8_packed(const xb_conv_geom *cg, const uint8_t *xpad, uint8_t *xp);

#endif
