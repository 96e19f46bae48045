/* Resize (ai.onnx 10, 11, 13): nearest or linear resampling of a float
 * tensor (kernels/resample.h has the coordinate formulas).
 *
 *   10:      inputs X, scales; attribute mode.  No coordinate or rounding
 *            attributes: we use ONNX Runtime's reading (asymmetric
 *            coordinates, nearest = floor when enlarging, ceil when
 *            shrinking), the same as Upsample.
 *   11, 13:  inputs X, roi, scales, sizes (roi and scales optional from 13;
 *            in 11 they may be empty tensors); exactly one of scales and
 *            sizes is given.  Attributes mode (nearest, linear),
 *            coordinate_transformation_mode (half_pixel default, asymmetric,
 *            align_corners, pytorch_half_pixel, tf_half_pixel_for_nn),
 *            nearest_mode (round_prefer_floor default, round_prefer_ceil,
 *            floor, ceil).
 * scales / sizes decide the output shape, so they must be constant after
 * folding.  mode = cubic (11+) uses cubic_coeff_a and exclude_outside
 * (resample.h).  tf_crop_and_resize (which reads roi) is rejected;
 * extrapolation_value only affects it, so it is ignored.  "linear" and
 * "cubic" are separable over every resized axis: bilinear / bicubic for
 * NCHW images. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/resample.h"

/* Index of s in names[] (NULL-terminated), or -1. */
static int pick(const char *s, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static xb_status read_modes(const xb_node *n, xb_resample_spec *s, xb_ctx *ctx) {
    const char *mode = xb_attr_str(n, "mode", "nearest");
    static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
    int m = pick(mode, modes);
    if (m < 0 || (m == 2 && n->opset < 11))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "mode = '%s' is not supported (nearest, linear%s)",
                       mode, n->opset < 11 ? " in Resize-10" : " and cubic are");
    s->mode = m == 0 ? XB_RS_NEAREST : m == 1 ? XB_RS_LINEAR : XB_RS_CUBIC;
    s->cubic_a = xb_attr_float(n, "cubic_coeff_a", -0.75f);
    s->exclude_outside = xb_attr_int(n, "exclude_outside", 0) != 0;
    if (n->opset < 11) {
        s->coord = XB_RS_ASYMMETRIC;
        s->nearest = XB_RS_SIMPLE;
        return XB_OK;
    }
    const char *ct = xb_attr_str(n, "coordinate_transformation_mode", "half_pixel");
    static const char *const cts[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                      "asymmetric", "tf_half_pixel_for_nn", NULL};
    int c = pick(ct, cts);
    if (c < 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "coordinate_transformation_mode = '%s' is not supported (half_pixel, "
                       "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn are)",
                       ct);
    s->coord = (xb_rs_coord)c; /* same order as the enum */
    const char *nm = xb_attr_str(n, "nearest_mode", "round_prefer_floor");
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                      NULL};
    int k = pick(nm, nms);
    if (k < 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "nearest_mode = '%s'; expected round_prefer_floor, round_prefer_ceil, "
                       "floor or ceil", nm);
    s->nearest = (xb_rs_nearest)k;
    return XB_OK;
}

/* A present input with at least one element (opset 11 writes empty tensors
 * for unused roi / scales). */
static bool given(const xb_graph *g, const xb_node *n, int i) {
    return xb_k_has_in(n, i) && xb_shape_numel(&g->tensors[n->in[i]].shape) > 0;
}

static xb_status read_sizes(const xb_graph *g, const xb_node *n, xb_resample_spec *s,
                            xb_ctx *ctx) {
    int si = n->opset < 11 ? 1 : 2;
    bool has_scales = given(g, n, si), has_sizes = n->opset >= 11 && given(g, n, 3);
    if (has_scales == has_sizes)
        return xb_fail(ctx, XB_ERR_INVALID, "exactly one of scales and sizes must be given");
    int cnt = 0;
    if (has_scales) {
        float sc[XB_MAX_RANK];
        XB_TRY(xb_resample_const_floats(g, n, si, "scales", sc, XB_MAX_RANK, &cnt, ctx));
        if (cnt != s->rank)
            return xb_fail(ctx, XB_ERR_INVALID, "scales has %d values for an input of rank %d",
                           cnt, s->rank);
        for (int a = 0; a < s->rank; a++) s->scale[a] = sc[a];
        return xb_resample_sizes_from_scales(s, ctx);
    }
    int64_t sz[XB_MAX_RANK];
    XB_TRY(xb_k_const_ints(g, n, 3, "sizes", 0, sz, XB_MAX_RANK, &cnt, ctx));
    if (cnt != s->rank)
        return xb_fail(ctx, XB_ERR_INVALID, "sizes has %d values for an input of rank %d", cnt,
                       s->rank);
    for (int a = 0; a < s->rank; a++) {
        if (sz[a] < 1 || sz[a] > ((int64_t)1 << 24) || s->in[a] < 1)
            return xb_fail(ctx, XB_ERR_INVALID, "sizes[%d] = %lld is out of range (input %lld)",
                           a, (long long)sz[a], (long long)s->in[a]);
        s->out[a] = sz[a];
        s->scale[a] = (double)sz[a] / (double)s->in[a];
    }
    return XB_OK;
}

xb_status xb_op_resize_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->opset < 11)
        XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    else
        XB_TRY(xb_k_arity(n, n->opset >= 13 ? 1 : 3, 4, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    xb_resample_spec s;
    memset(&s, 0, sizeof s);
    XB_TRY(read_modes(n, &s, ctx));
    s.rank = x->shape.rank;
    if (s.rank < 1) return xb_fail(ctx, XB_ERR_INVALID, "cannot resize a scalar");
    for (int a = 0; a < s.rank; a++) s.in[a] = x->shape.d[a];
    XB_TRY(read_sizes(g, n, &s, ctx));
    return xb_resample_prepare(g, n, &s, ctx);
}

xb_status xb_op_resize_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_resample_run(g, n, e, ctx);
}
