/* Dropout (ai.onnx 7, 10, 12, 13) in inference mode: output = data, and the
 * optional mask output is all "kept".
 *
 * Versions differ in where the ratio lives (attribute before 12, optional
 * input from 12), in the mask type (same as data before 10, bool from 10)
 * and in the training_mode input (12+).  The ratio does not matter for
 * inference.  training_mode = true asks for random dropping, which an
 * inference runtime does not do, except with ratio 0 where training is the
 * identity too (mask all true, as in the ONNX reference).  Otherwise it is
 * rejected at prepare when the flag and ratio are constants, at run when
 * they are fed as data (so a graph wiring the flag as an input still runs
 * with false). */
#include <string.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

xb_status xb_op_dropout_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, n->opset >= 12 ? 3 : 1, 1, 2, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Dropout on %s tensors (float only)",
                       xb_dtype_name(x->dtype));
    if (xb_k_has_in(n, 1)) {
        const xb_tensor *r = xb_in_t(g, n, 1);
        if (r->dtype != XB_F32 || xb_shape_numel(&r->shape) != 1)
            return xb_fail(ctx, XB_ERR_INVALID, "ratio input '%s' must be a float scalar", r->name);
    }
    if (xb_k_has_in(n, 2)) {
        const xb_tensor *t = xb_in_t(g, n, 2);
        if (t->dtype != XB_BOOL || xb_shape_numel(&t->shape) != 1)
            return xb_fail(ctx, XB_ERR_INVALID, "training_mode input '%s' must be a bool scalar",
                           t->name);
        const xb_tensor *r = xb_in_t(g, n, 1);
        /* Default ratio is 0.5: without a ratio input, training drops. */
        int ratio_known = !r || (r->is_const && r->data);
        float ratio = r && r->data ? *(const float *)r->data : 0.5f;
        if (t->is_const && t->data && ((const uint8_t *)t->data)[0] && ratio_known && ratio != 0.0f)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "training_mode = true with ratio %g (random dropout) is not supported",
                           (double)ratio);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = x->shape;
    if (n->n_out > 1 && n->out[1] >= 0) {
        xb_tensor *m = xb_out_t(g, n, 1);
        m->dtype = n->opset >= 10 ? XB_BOOL : x->dtype;
        m->shape = x->shape;
    }
    return XB_OK;
}

xb_status xb_op_dropout_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    if (xb_k_has_in(n, 2) && ((const uint8_t *)e->buf[n->in[2]])[0]) {
        float ratio = xb_k_has_in(n, 1) ? *(const float *)e->buf[n->in[1]] : 0.5f;
        if (ratio != 0.0f)
            return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                           "training_mode = true with ratio %g (random dropout) is not supported",
                           (double)ratio);
    }
    XB_TRY(xb_k_copy_run(g, n, e, ctx));
    if (n->n_out > 1 && n->out[1] >= 0) {
        const xb_tensor *m = &g->tensors[n->out[1]];
        int64_t len = xb_shape_numel(&m->shape);
        if (m->dtype == XB_BOOL) {
            memset(e->buf[n->out[1]], 1, (size_t)len);
        } else {
            float *mf = e->buf[n->out[1]];
            for (int64_t i = 0; i < len; i++) mf[i] = 1.0f;
        }
    }
    return XB_OK;
}
