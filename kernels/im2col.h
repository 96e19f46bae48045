/* im2col: unfold one group of one image into the matrix a convolution
 * multiplies by its weights.
 *
 *   col[k][p], k = (c * kh + i) * kw + j   (c < cin_g, i < kh, j < kw)
 *              p = oh * wout + ow
 *   col[k][p] = x[c][oh*sh - pt + i*dh][ow*sw - pl + j*dw], or the pad value
 *               when that position falls outside the input.
 *
 * Row-major [K][P], so the conv is Y[cout_g][P] = W[cout_g][K] * col[K][P]
 * with the ONNX weight layout [Cout][Cin/g][kh][kw] read as-is.  `x` points
 * at the group's first input channel of the image (x + (img*cin +
 * g*cin_g)*H*W).  When xb_conv_geom_is_pointwise() holds, col is x itself
 * and no call is needed. */
#ifndef XBAR_IM2COL_H
#define XBAR_IM2COL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/conv_geom.h"

/* Bytes of the col buffer for one group: K * P elements. */
size_t xb_im2col_elems(const xb_conv_geom *cg);

void xb_im2col_f32(const xb_conv_geom *cg, const float *x, float *col);
/* Quantized activations pad with the zero point's code (real value 0). */
void xb_im2col_u8(const xb_conv_geom *cg, const uint8_t *x, uint8_t pad_value, uint8_t *col);

/* Columns [p0, p0 + np) of the same matrix, k-major with row stride ld:
 * panel[k * ld + q] = col[k][p0 + q] for q < np, zero for np <= q < ld.
 * Used to pack one sgemm B panel directly from the input
 * (xb_sgemm_panel), so the full K x P matrix never exists.  np <= ld <= 64. */
void xb_im2col_panel_f32(const xb_conv_geom *cg, const float *x, int64_t p0, int64_t np, int64_t ld,
                         float *panel);

#endif
