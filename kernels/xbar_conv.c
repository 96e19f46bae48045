/* XbarConv (domain xbar): a float Conv fused with what read its output,
 * by frontend/passes.c (xb_pass_fuse_conv_relu) in the graph that float
 * inference runs: a Relu, or an Add of a residual (a fourth input R shaped
 * like the output; the bias, input 2, may then be absent), or an Add then
 * a Relu (ResNet's block ending).  Attributes are Conv's plus activation =
 * "Relu" or "" (none).  The residual and the Relu are applied as each
 * output is stored (in the sgemm epilogue on the common path), so the
 * activations are written once instead of two or three times; the result
 * is bit-identical to the separate Conv, Add and Relu. */
#include <string.h>

#include "kernels/conv.h"
#include "kernels/registry.h"

xb_status xb_op_xbar_conv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    const char *act = xb_attr_str(n, "activation", "");
    if (strcmp(act, "Relu") != 0 && act[0])
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "XbarConv activation '%s' (only Relu or none)",
                       act);
    return xb_conv_prepare_act(g, n, act[0] != 0, n->n_in == 4, ctx);
}

xb_status xb_op_xbar_conv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    return xb_op_conv_run(g, n, e, ctx);
}
