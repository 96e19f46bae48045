/* Geometry of Conv-like and pooling nodes: attribute parsing, validation,
 * output shape, and the im2col index mapping.
 *
 * One parser serves Conv, ConvInteger, QLinearConv, the internal XbarQConv,
 * MaxPool and AveragePool, so every op agrees on what kernel_shape, pads,
 * strides, dilations, group, auto_pad and ceil_mode mean (ONNX operator spec,
 * opsets 7..17).  Layout is NCHW.  A 1-D op ([N,C,L] input, [Cout,Cin/g,k]
 * weight) is represented as 2-D with H = 1, kernel height 1 and no vertical
 * padding, so kernels only ever see the 2-D case.  3-D and higher is
 * rejected as unsupported.
 *
 * Output size per spatial axis (ONNX Conv/MaxPool spec):
 *   NOTSET:  out = floor((in + pad_b + pad_e - ((k-1)*d + 1)) / s) + 1
 *            (ceil instead of floor when ceil_mode = 1, pools only; then a
 *            window that would start in the end padding is dropped, the rule
 *            ONNX adopted in its pooling spec and the one PyTorch applies)
 *   VALID:   same with zero pads
 *   SAME_*:  out = ceil(in / s), total pad = max(0, (out-1)*s + (k-1)*d + 1 - in),
 *            SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the
 *            beginning. */
#ifndef XBAR_CONV_GEOM_H
#define XBAR_CONV_GEOM_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ir.h"

/* Largest input or output (elements) a geometry accepts: 4 GiB of floats,
 * the runtime's tensor limit. */
#define XB_GEOM_MAX_ELEMS ((double)((int64_t)1 << 30))

typedef struct xb_conv_geom {
    int spatial;          /* 1 or 2: rank of the op's spatial part */
    int64_t n, cin, h, w; /* input [N, Cin, H, W] (H = 1 for 1-D) */
    int64_t cout;         /* output channels (= cin for pools) */
    int64_t group;        /* 1 for pools */
    int64_t cin_g, cout_g;/* channels per group */
    int64_t kh, kw;
    int64_t sh, sw;       /* strides */
    int64_t dh, dw;       /* dilations */
    int64_t pt, pl, pb, pr; /* pads: top, left, bottom, right (after auto_pad) */
    int64_t hout, wout;
    bool ceil_mode;
    /* Matrix view of one group of one image: W[cout_g][K] x col[K][P]. */
    int64_t K; /* cin_g * kh * kw */
    int64_t P; /* hout * wout */
} xb_conv_geom;

/* Parse and validate the node's attributes against input shape `x`.
 *
 * Conv-like (is_pool = false): `w` is the weight shape [Cout, Cin/group,
 * (kh,) kw]; group comes from the node, the kernel from `w` (a kernel_shape
 * attribute, if present, must agree), and ceil_mode is not accepted.
 * Pool (is_pool = true): `w` must be NULL; kernel_shape is required, group is
 * 1, cout = cin, ceil_mode is read.  Dilations are parsed for both; ops that
 * do not have them in a given opset (AveragePool < 19) reject them
 * themselves.  Fails with a message naming the attribute and the cause, or
 * XB_ERR_NOMEM when the input or output would exceed XB_GEOM_MAX_ELEMS. */
xb_status xb_conv_geom_init(xb_conv_geom *cg, const xb_node *n, const xb_shape *x,
                            const xb_shape *w, bool is_pool, xb_ctx *ctx);

/* The steps of xb_conv_geom_init that ConvTranspose (whose weight layout
 * and output size differ) shares with it. */
typedef enum { XB_PAD_NOTSET, XB_PAD_SAME_UPPER, XB_PAD_SAME_LOWER, XB_PAD_VALID } xb_pad_mode;
/* strides, dilations and pads (sp or 2*sp values), range-checked; arrays
 * keep their defaults when the attribute is absent; *have_pads says whether
 * the node gave pads. */
xb_status xb_conv_geom_window(const xb_node *n, int sp, int64_t *strides, int64_t *dil,
                              int64_t *pads, int *have_pads, xb_ctx *ctx);
/* auto_pad, which must not come with nonzero explicit pads. */
xb_status xb_conv_geom_pad_mode(const xb_node *n, int sp, const int64_t *pads, int have_pads,
                                xb_pad_mode *pm, xb_ctx *ctx);

/* Output shape [N, Cout, Hout, Wout] (or [N, Cout, Wout] for 1-D). */
void xb_conv_geom_out_shape(const xb_conv_geom *cg, xb_shape *y);

/* True when the im2col matrix of a group is the input itself: 1x1 kernel,
 * unit stride, no padding.  Then col[K][P] = x[cin_g][H*W] with no copy. */
bool xb_conv_geom_is_pointwise(const xb_conv_geom *cg);

/* MACs of the whole op for one image (Cout * P * K), for reports. */
int64_t xb_conv_geom_macs(const xb_conv_geom *cg);

/* Taps t in [*lo, *hi) of a window starting at input position `start`
 * (negative inside the begin padding) with k taps at dilation d that land
 * inside [0, size).  Pools use it to skip padding without per-tap tests. */
static inline void xb_window_taps(int64_t start, int64_t k, int64_t d, int64_t size, int64_t *lo,
                                  int64_t *hi) {
    int64_t l = start >= 0 ? 0 : (-start + d - 1) / d;
    int64_t h = size - start <= 0 ? 0 : (size - start + d - 1) / d;
    if (h > k) h = k;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

#endif
