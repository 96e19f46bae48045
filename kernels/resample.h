/* Shared engine of Resize and Upsample: nearest and (multi-)linear
 * resampling of a float tensor of any rank.
 *
 * Both interpolations are separable (a product of per-axis weights), so the
 * tensor is resampled one axis at a time, through two scratch buffers, and
 * axes whose mapping is the identity are skipped (NCHW images resample only
 * H and W, which gives bilinear on 4-D input).  Per output position of each
 * axis prepare tabulates the two source indices and the weight of the
 * second:  y[j] = (1 - w) * x[i0] + w * x[i1]  (w = 0 for nearest).
 *
 * Coordinates follow the ONNX Resize spec (opset 11/13), computed in double
 * like its reference implementation (onnx/backend/test/case/node/resize.py):
 * with `scale` the per-axis scale (given, or out/in when sizes are given)
 * and `out` the output length of the axis,
 *   half_pixel:            x = (j + 0.5) / scale - 0.5
 *   pytorch_half_pixel:    x = out > 1 ? (j + 0.5) / scale - 0.5 : 0
 *   align_corners:         x = out == 1 ? 0 : j * (in - 1) / (out - 1)
 *   asymmetric:            x = j / scale
 *   tf_half_pixel_for_nn:  x = (j + 0.5) / scale
 * then source indices are clamped to [0, in - 1] (the reference pads with
 * edge values).  `out` is the integer output length, as the spec's
 * "length_resized" says and as PyTorch and ONNX Runtime compute it; onnx
 * 1.12's reference uses scale * in instead, which differs only when scales
 * give a fractional length (PyTorch's scale_factor = 0.5 with
 * align_corners = True on an odd size, or the node test
 * test_resize_downsample_scales_linear_align_corners).  Nearest picks floor(x) or floor(x) + 1 by nearest_mode;
 * linear takes both with weights (1 - frac(x), frac(x)).
 *
 * Cubic (Resize 11+): the four taps floor(x) - 1 .. floor(x) + 2 (clamped to
 * the edges, as the reference pads with edge values) with Keys' cubic
 * convolution weights for t = frac(x) and coefficient A (cubic_coeff_a,
 * default -0.75; Keys, IEEE Trans. ASSP 1981, as ONNX's resize.py writes
 * them); with exclude_outside the weights of taps outside [0, in - 1] are
 * set to 0 and the rest renormalised to sum 1.  Cubic sums in double and
 * rounds once to float, as the reference's float64 dot product does. */
#ifndef XBAR_RESAMPLE_H
#define XBAR_RESAMPLE_H

#include "runtime/exec.h"
#include "runtime/ir.h"

typedef enum { XB_RS_NEAREST, XB_RS_LINEAR, XB_RS_CUBIC } xb_rs_mode;
typedef enum {
    XB_RS_HALF_PIXEL,
    XB_RS_PYTORCH_HALF_PIXEL,
    XB_RS_ALIGN_CORNERS,
    XB_RS_ASYMMETRIC,
    XB_RS_TF_HALF_PIXEL_FOR_NN,
} xb_rs_coord;
typedef enum {
    XB_RS_ROUND_PREFER_FLOOR,
    XB_RS_ROUND_PREFER_CEIL,
    XB_RS_FLOOR,
    XB_RS_CEIL,
    /* Upsample and Resize-10 (ONNX Runtime's rule, the spec is silent):
     * floor when enlarging an axis, ceil when shrinking it. */
    XB_RS_SIMPLE,
} xb_rs_nearest;

typedef struct {
    xb_rs_mode mode;
    xb_rs_coord coord;
    xb_rs_nearest nearest;
    double cubic_a;        /* cubic_coeff_a */
    bool exclude_outside;  /* cubic only */
    int rank;
    int64_t in[XB_MAX_RANK], out[XB_MAX_RANK];
    double scale[XB_MAX_RANK];
} xb_resample_spec;

/* Output sizes from scales: out = floor(in * scale), as the spec says.
 * Fails when a scale is not > 0 or an output size would be 0. */
xb_status xb_resample_sizes_from_scales(xb_resample_spec *s, xb_ctx *ctx);

/* Tabulate the resampling of float input 0 into output 0 (whose shape and
 * dtype this sets) in n->params, and declare the scratch. */
xb_status xb_resample_prepare(xb_graph *g, xb_node *n, const xb_resample_spec *s, xb_ctx *ctx);
xb_status xb_resample_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx);

/* Read input i as a constant 1-D float list (at most `max` values), as the
 * scales operands that decide output shapes must be. */
xb_status xb_resample_const_floats(const xb_graph *g, const xb_node *n, int i, const char *what,
                                   float *vals, int max, int *count, xb_ctx *ctx);

#endif
