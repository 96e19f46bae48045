/* Mean (ai.onnx 6, 8, 13) on f32: elementwise mean of one or more inputs,
 * with multidirectional broadcasting from version 8 (version 6 requires
 * equal shapes; kernels/eltwise.h).  The sum, left to right as in Sum, is
 * divided by the input count, as the spec's reference does. */
#include "kernels/eltwise.h"
#include "kernels/registry.h"

xb_status xb_op_mean_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_variadic_prepare(g, n, xb_k_f32_only, ctx);
}

xb_status xb_op_mean_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    XB_VARIADIC_LOOP(g, n, e, float, a + b);
    float *y = XB_OUT_F32(e, n, 0);
    float cnt = (float)n->n_in;
    int64_t len = xb_shape_numel(&g->tensors[n->out[0]].shape);
    for (int64_t i = 0; i < len; i++) y[i] /= cnt;
    return XB_OK;
}
