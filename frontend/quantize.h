/* Post-training quantization of a float graph for the integer path.
 *
 * Every matrix layer with constant weights becomes an integer layer of
 * kernels/qlayer.h:
 *   - Conv (2-D, constant weights)                         -> XbarQConv
 *   - Gemm (transA = 0, constant B, C absent or a constant
 *     scalar / per-column vector)                          -> XbarQGemm
 *   - MatMul (constant 2-D B)                              -> XbarQGemm
 * Other nodes stay float.  Weights are quantized per output channel,
 * symmetric: scale = max|w| / (2^(w_bits-1) - 1), q = rint(w / scale).  Each
 * layer's input is quantized per tensor, asymmetric unsigned with a zero
 * point, from the range of the values that reach it when the float graph
 * runs the calibration images (min/max, or the percentile and 100 minus the
 * percentile), widened to include 0 so that zero (padding, ReLU output) is
 * exact.  Everything is deterministic: the images are run in order and
 * percentiles come from fixed-size histograms. */
#ifndef XBAR_QUANTIZE_H
#define XBAR_QUANTIZE_H

#include <signal.h>

#include "runtime/ir.h"

#define XB_QUANT_MAX_LAYERS 512

typedef enum { XB_QUANT_MINMAX = 0, XB_QUANT_PERCENTILE = 1 } xb_quant_method;

typedef struct {
    int w_bits, x_bits; /* w 1..8 (1 = binary +/-1, scale mean |w|), x 2..8 */
    int calib_images;   /* images used from the ones given; <= 0: all */
    int method;         /* xb_quant_method */
    double percentile;  /* e.g. 99.99, in (50, 100]; percentile method only */
    /* Optional: checked before every calibration image; when it becomes
     * non-zero (a SIGINT handler sets it) quantization stops with
     * XB_ERR_INTERRUPTED.  The caller's flag, as xb_run_opts.cancel. */
    const volatile sig_atomic_t *cancel;
    /* Per-layer bits (LRMP mixed precision): entry i for the i-th matrix
     * layer in node order (the order of the XbarQ layers and of the
     * mapping table), 2..8, or 0 for w_bits / x_bits.  Layers past
     * XB_QUANT_MAX_LAYERS use w_bits / x_bits. */
    signed char layer_w_bits[XB_QUANT_MAX_LAYERS], layer_x_bits[XB_QUANT_MAX_LAYERS];
    /* Keep every Relu and residual Add a node of its own instead of folding
     * them into the layers (frontend/fuse_qrelu.c): for tests, which check
     * that the folded graph computes the same bits. */
    bool no_fuse;
} xb_quant_opts;

/* 8-bit weights and activations, min/max over up to 100 images. */
xb_quant_opts xb_quant_opts_default(void);

/* Calibrate on `n` preprocessed float images (each the size of graph input
 * 0, which must be the only graph input) with the prepared float graph `fg`,
 * and return in *out a new prepared graph with the matrix layers replaced.
 * `fg` is not modified.  The new graph records "xbar.quant" metadata
 * ("w8a8 minmax" and the like). */
xb_status xb_quantize(const xb_graph *fg, const float *images, int n, const xb_quant_opts *o,
                      xb_graph **out, xb_ctx *ctx);

/* xb_quantize with xb_quant_opts_default(). */
xb_status xb_quantize_default(const xb_graph *fg, const float *images, int n, xb_graph **out,
                              xb_ctx *ctx);

#endif
