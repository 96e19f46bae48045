/* XbarConv (domain xbar): a float Conv and the Relu that was its only
 * reader, fused by frontend/passes.c (xb_pass_fuse_conv_relu) in the graph
 * that float inference runs.  Inputs and attributes are Conv's, plus
 * activation = "Relu".  The Relu is applied as each output is stored (in
 * the sgemm epilogue on the common path), so the activations are written
 * once instead of twice; the result is bit-identical to Conv then Relu. */
#include <string.h>

#include "kernels/conv.h"
#include "kernels/registry.h"

xb_status xb_op_xbar_conv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    const char *act = xb_attr_str(n, "activation", "");
    if (strcmp(act, "Relu") != 0)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "XbarConv activation '%s' (only Relu)", act);
    return xb_conv_prepare_act(g, n, true, ctx);
}

xb_status xb_op_xbar_conv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_op_conv_run(g, n, e, ctx);
}
