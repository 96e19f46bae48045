/* Upsample (ai.onnx 7, 9; deprecated in 10 in favour of Resize): output
 * size floor(in * scale) per axis, mode nearest (default) or linear.
 * Scales are the `scales` attribute in opset 7 and a constant float input
 * from 9.  The spec gives no coordinate rule; we use ONNX Runtime's
 * (asymmetric coordinates x = j / scale; nearest takes floor(x) when
 * enlarging an axis, ceil when shrinking; linear interpolates between
 * clamped neighbours), the same as Resize-10.  kernels/resample.h does the
 * work. */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/resample.h"

xb_status xb_op_upsample_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->opset >= 10)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "Upsample is deprecated from opset 10 (opset %d here); use Resize",
                       n->opset);
    int v9 = n->opset >= 9;
    XB_TRY(xb_k_arity(n, v9 ? 2 : 1, v9 ? 2 : 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    xb_resample_spec s;
    memset(&s, 0, sizeof s);
    const char *mode = xb_attr_str(n, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0)
        s.mode = XB_RS_NEAREST;
    else if (strcmp(mode, "linear") == 0)
        s.mode = XB_RS_LINEAR;
    else
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "mode = '%s'; expected nearest or linear", mode);
    s.coord = XB_RS_ASYMMETRIC;
    s.nearest = XB_RS_SIMPLE;
    s.rank = x->shape.rank;
    if (s.rank < 1) return xb_fail(ctx, XB_ERR_INVALID, "cannot upsample a scalar");
    for (int a = 0; a < s.rank; a++) s.in[a] = x->shape.d[a];
    float sc[XB_MAX_RANK];
    int cnt = 0;
    if (v9) {
        XB_TRY(xb_resample_const_floats(g, n, 1, "scales", sc, XB_MAX_RANK, &cnt, ctx));
    } else {
        const xb_attr *a = xb_attr_find(n, "scales");
        if (!a || a->type != XB_ATTR_FLOATS)
            return xb_fail(ctx, XB_ERR_INVALID, "attribute scales (floats) is required");
        cnt = a->n;
        for (int k = 0; k < cnt && k < XB_MAX_RANK; k++) sc[k] = a->floats[k];
    }
    if (cnt != s.rank)
        return xb_fail(ctx, XB_ERR_INVALID, "scales has %d values for an input of rank %d", cnt,
                       s.rank);
    for (int a = 0; a < s.rank; a++) s.scale[a] = sc[a];
    XB_TRY(xb_resample_sizes_from_scales(&s, ctx));
    return xb_resample_prepare(g, n, &s, ctx);
}

xb_status xb_op_upsample_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_resample_run(g, n, e, ctx);
}
