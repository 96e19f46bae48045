/* Float Conv shared with its fused form (kernels/xbar_conv.c). */
#ifndef XBAR_CONV_H
#define XBAR_CONV_H

#include <stdbool.h>

#include "runtime/ir.h"

/* Conv's prepare; with relu, every output is passed through Relu (v > 0 ?
 * v : 0, as kernels/relu.c) before it is stored.  xb_op_conv_run runs both. */
xb_status xb_conv_prepare_act(xb_graph *g, xb_node *n, bool relu, xb_ctx *ctx);

#endif
