/* From dataset pixels to the model's input tensor.
 *
 * The model says how it wants its input through ONNX metadata_props written
 * by models/train.py:
 *   xbar.mean, xbar.std   per-channel, comma-separated, applied to pixel/255:
 *                         x = (pixel/255 - mean[c]) / std[c]
 *                         (one value is used for every channel)
 *   xbar.classes          class names, comma-separated, in output order
 *   xbar.dataset          the dataset it was trained on (informational)
 *   xbar.input_channels   informational; the input shape is authoritative
 * The user's flags (xb_preproc_opts: --mean, --std, --classes, --layout)
 * override or supply these, for models exported without xbar's metadata.
 * With neither metadata nor flags we use mean 0 and std 1 (plain pixel/255)
 * and set `warning` (the caller prints it as a warning, not a note: a model
 * normalised otherwise silently loses most of its accuracy).
 *
 * Geometry comes from the graph input [1, C, H, W], or [1, H, W, C] for
 * channels-last models (--layout nhwc, or detected when dim 1 cannot be a
 * channel count and dim 3 can).  Images of another size
 * are rejected (we do not resize: a silently resized test set would report
 * an accuracy nobody measured).  Channel counts are converted:
 *   grey -> RGB  the grey value is replicated into R, G and B;
 *   RGB -> grey  ITU-R BT.601 luma, Y = 0.299 R + 0.587 G + 0.114 B,
 *                computed on pixel/255 before mean/std. */
#ifndef XBAR_PREPROCESS_H
#define XBAR_PREPROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/ir.h"

#define XB_PP_MAX_CHANNELS 3

enum { XB_LAYOUT_AUTO = 0, XB_LAYOUT_NCHW = 1, XB_LAYOUT_NHWC = 2 };

/* What the user gave on the command line; NULL / AUTO: from the model.
 * Strings are read during xb_preproc_init_opts only. */
typedef struct xb_preproc_opts {
    const char *mean, *std;   /* "a,b,c" or one value for every channel */
    const char *classes_file; /* one class name per line, in output order */
    int layout;               /* XB_LAYOUT_* */
} xb_preproc_opts;

typedef struct xb_preproc {
    int c, h, w;                     /* model input, batch 1 */
    bool nhwc;                       /* the input is [1, H, W, C] (channels last) */
    float mean[XB_PP_MAX_CHANNELS];  /* per model channel */
    float std[XB_PP_MAX_CHANNELS];
    bool default_norm;               /* no mean/std metadata: 0 and 1 used */
    int n_outputs;                   /* elements of the first graph output (class scores) */
    int n_classes;                   /* names from xbar.classes (0 if absent or unusable) */
    char **class_names;
    const char *dataset;             /* xbar.dataset, points into the graph, or NULL */
    char note[512];                  /* things the user should know ("" if none) */
    char warning[512];               /* defaults assumed without metadata or flags ("" if none) */
} xb_preproc;

/* Read the geometry and metadata of a prepared (batch 1) graph. */
xb_status xb_preproc_init(xb_preproc *p, const xb_graph *g, xb_ctx *ctx);
/* The same with the user's overrides (o may be NULL).  A flag value that
 * does not parse, or a classes file whose count differs from the outputs,
 * fails naming the flag. */
xb_status xb_preproc_init_opts(xb_preproc *p, const xb_graph *g, const xb_preproc_opts *o,
                               xb_ctx *ctx);
void xb_preproc_free(xb_preproc *p);

/* Can images of src_c x src_h x src_w be fed to this model?  `what` names
 * the dataset or file in the message. */
xb_status xb_preproc_check(const xb_preproc *p, int src_c, int src_h, int src_w, const char *what,
                           xb_ctx *ctx);

/* Convert one checked image ([src_c][h][w] bytes) into dst ([c][h][w]
 * floats, or [h][w][c] when p->nhwc).  No allocation, no failure. */
void xb_preproc_image(const xb_preproc *p, const uint8_t *src, int src_c, float *dst);

/* The u8 codes a quantizing first layer (kernels/qlayer.h,
 * xb_qlayer_input_quant) makes of xb_preproc_image's values, as a table per
 * model channel and pixel value: table[k][s] = clamp(rint(x / scale) + zp,
 * 0, hi) for x the value of pixel s in channel k, with xb_preproc_image's
 * and xb_quantize_u8's float operations, so the codes are the same.  With
 * it an image's codes cost one lookup per pixel instead of two divisions
 * to a float and one back to a code.  False (nothing written) when a model
 * value is not a function of one pixel (RGB images into a grey model). */
bool xb_preproc_code_table(const xb_preproc *p, int src_c, float scale, int32_t zp, int32_t hi,
                           uint8_t table[XB_PP_MAX_CHANNELS][256]);
/* One checked image's codes through that table, in xb_preproc_image's
 * layout (dst: bytes, one per model input element). */
void xb_preproc_image_codes(const xb_preproc *p, const uint8_t table[XB_PP_MAX_CHANNELS][256],
                            const uint8_t *src, int src_c, uint8_t *dst);
/* Class name of output k, or NULL. */
static inline const char *xb_preproc_class(const xb_preproc *p, int k) {
    return (k >= 0 && k < p->n_classes) ? p->class_names[k] : (const char *)0;
}

#endif
