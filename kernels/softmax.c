/* Softmax (ai.onnx 1, 11, 13).  The axis means different things by opset:
 *   < 13: the input is coerced to 2-D [prod(d[0..axis)), prod(d[axis..])]
 *         and each row is normalised (axis default 1);
 *  >= 13: softmax runs along the single dimension `axis` (default -1).
 * Both reduce to: for each (outer, inner) pair, normalise `len` elements
 * spaced `stride` apart.  exp(x - max) keeps it finite; the sum is taken in
 * double so the normalisation does not depend on summation order. */
#include <math.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

typedef struct {
    int64_t outer, len, inner; /* inner doubles as the stride */
} softmax_params;

xb_status xb_op_softmax_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Softmax on %s tensors", xb_dtype_name(x->dtype));
    int r = x->shape.rank;
    if (r < 1) return xb_fail(ctx, XB_ERR_INVALID, "Softmax input must have rank >= 1");
    bool new_axis = n->opset >= 13;
    int axis;
    XB_TRY(xb_k_axis(xb_attr_int(n, "axis", new_axis ? -1 : 1), r, 0, "axis", &axis, ctx));
    softmax_params *p = xb_calloc(ctx, 1, sizeof *p);
    if (!p) return ctx->status;
    n->params = p;
    p->outer = 1, p->len = 1, p->inner = 1;
    for (int i = 0; i < r; i++) {
        int64_t d = x->shape.d[i];
        if (i < axis)
            p->outer *= d;
        else if (i == axis || !new_axis)
            p->len *= d;
        else
            p->inner *= d;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape = x->shape;
    return XB_OK;
}

xb_status xb_op_softmax_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const softmax_params *p = n->params;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    const int64_t L = p->len, S = p->inner;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t in = 0; in < S; in++) {
            const float *xv = x + o * L * S + in;
            float *yv = y + o * L * S + in;
            float m = -INFINITY;
            for (int64_t k = 0; k < L; k++)
                if (xv[k * S] > m) m = xv[k * S];
            double s = 0.0;
            for (int64_t k = 0; k < L; k++) {
                float ev = expf(xv[k * S] - m);
                yv[k * S] = ev;
                s += ev;
            }
            for (int64_t k = 0; k < L; k++) yv[k * S] = (float)(yv[k * S] / s);
        }
    return XB_OK;
}
