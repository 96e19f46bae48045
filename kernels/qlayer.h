/* The integer matrix layer: what XbarQConv and XbarQGemm compute, and what
 * the RRAM backend maps onto crossbars.
 *
 * Node contract (built by frontend QDQ lowering and by frontend/quantize.c):
 *   XbarQConv  inputs: x f32 [N,Cin,H,W], w i8 const [Cout,Cin/group,kh,kw],
 *                      w_scale f32 const [Cout], bias f32 const [Cout] (optional)
 *              attrs:  the ONNX Conv attributes (kernel_shape, pads, strides,
 *                      dilations, group, auto_pad) plus
 *                      x_scale (float), x_zero_point (int), x_bits (int 2..8),
 *                      w_bits (int 1..8; 1 = binary, every weight -1 or +1),
 *                      relu (int 0/1, default 0; frontend/fuse_qrelu.c)
 *              input 4 (optional, frontend/fuse_qrelu.c; bias may then be
 *                      absent, input 3 = -1): r f32 shaped like y, a
 *                      residual added before the relu
 *   XbarQGemm  inputs: x f32 [..., K], w i8 const [N,K] (one row per output),
 *                      w_scale f32 const [N], bias f32 const [N] (optional)
 *              attrs:  x_scale, x_zero_point, x_bits, w_bits, relu
 *   both, optionally (frontend/chain_qcodes.c): y_scale (float),
 *              y_zero_point (int), y_bits (int 2..8), all or none.
 *   output: y f32, or with y_scale the u8 codes
 *              clamp(round_half_even(y / y_scale) + y_zero_point, 0, 2^y_bits - 1)
 *           of the next layer's input (its x_scale, x_zero_point, x_bits).
 *   x may be u8 instead of f32: then it already holds the codes xq below
 *   (the previous layer's y_scale output, possibly through MaxPool /
 *   Flatten / Reshape / Identity; prepare checks it comes from a layer whose
 *   y_bits <= x_bits) and is not quantized again.
 *
 * Semantics, per output channel n and output position p:
 *   xq      = clamp(round_half_even(x / x_scale) + x_zero_point, 0, 2^x_bits - 1)
 *   acc     = sum_k w[n,k] * (xq[k,p] - x_zero_point)          (exact int32)
 *   y[n,p]  = (float)acc * (x_scale * w_scale[n]) + bias[n]
 *   with r:        y[n,p] = y[n,p] + r[n,p]           (a fused Add, bit for bit)
 *   with relu = 1: y[n,p] = y[n,p] > 0 ? y[n,p] : 0   (a fused Relu, bit for bit)
 * Zero padding of a conv input is the code x_zero_point (real value 0).
 * Weights satisfy |w| <= 2^(w_bits-1) - 1 (symmetric, per output channel);
 * with w_bits 1 they are -1 or +1 (binary, ORSS'23; no zero).
 *
 * This is exactly DequantizeLinear -> Conv/Gemm on the dequantized values
 * (up to float summation order), which is why a QDQ model lowers to it. */
#ifndef XBAR_QLAYER_H
#define XBAR_QLAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ir.h"

typedef enum { XB_QL_CONV = 0, XB_QL_GEMM = 1 } xb_qlayer_kind;

typedef struct xb_qlayer {
    xb_qlayer_kind kind;
    int layer_index;   /* position among the graph's XbarQ* nodes, in node order */
    int64_t K;         /* rows of the weight matrix per group: Cin/group*kh*kw, or K */
    int64_t N;         /* columns per group: Cout/group, or N */
    int groups;
    int64_t P;         /* output positions per image and group: Hout*Wout, or M */
    int x_bits, w_bits;
    float x_scale;
    int32_t x_zp;
    const int8_t *w;       /* [groups][N][K] (points into the const input) */
    const float *w_scale;  /* [groups*N] */
    const float *bias;     /* [groups*N] or NULL */
    int32_t *w_rowsum;     /* [groups*N] owned: sum_k w[n,k] for zero-point correction */
    /* Conv geometry (kind == XB_QL_CONV), NCHW; 2-D only. */
    int64_t cin, h, w_in, cout, hout, wout, kh, kw;
    int64_t stride[2], dil[2], pad[4]; /* pad: top, left, bottom, right */
} xb_qlayer;

/* Whether graph input 0 (f32) is read by one node only, an XbarQConv or
 * XbarQGemm that quantizes it itself (not a graph output either), and then
 * that node's quantization: code = clamp(rint(x / *scale) + *zp, 0, *hi),
 * exactly xb_quantize_u8 (qmath.h).  A caller that computes these codes
 * from its own data hands them over in xb_exec.input_codes. */
bool xb_qlayer_input_quant(const xb_graph *g, float *scale, int32_t *zp, int32_t *hi);

/* Count and find matrix layers of a prepared graph, in node order. */
int xb_qlayer_count(const xb_graph *g);
const xb_qlayer *xb_qlayer_get(const xb_graph *g, int index, const xb_node **node);

#endif
