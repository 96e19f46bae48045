/* Float Conv shared with its fused form (kernels/xbar_conv.c). */
#ifndef XBAR_CONV_H
#define XBAR_CONV_H

#include <stdbool.h>

#include "kernels/conv_geom.h"
#include "runtime/ir.h"

/* Conv's prepare.  With residual, the node has a fourth input R shaped
 * like the output (input 2, the bias, may be absent) and R is added to
 * every output (after the bias); with relu, every output is then passed
 * through Relu (v > 0 ? v : 0, as kernels/relu.c) before it is stored.
 * xb_op_conv_run runs all forms. */
xb_status xb_conv_prepare_act(xb_graph *g, xb_node *n, bool relu, bool residual, xb_ctx *ctx);

/* Whether planning the EDGE path (conv.c: unpadded input read under lane
 * masks) stays within its load-time step bound; larger convs take the
 * other paths. */
bool xb_conv_edge_plan_fits(const xb_conv_geom *cg);

#endif
