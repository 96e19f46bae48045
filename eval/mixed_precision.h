/* Per-layer mixed precision (LRMP) between the architecture and the
 * quantizer: the arch's layer_weight_bits / layer_input_bits become the
 * quantization options' per-layer bits, so the int8 model holds exactly
 * the integers each layer's crossbars store and stream. */
#ifndef XBAR_MIXED_PRECISION_H
#define XBAR_MIXED_PRECISION_H

#include "backend/arch.h"
#include "frontend/quantize.h"
#include "runtime/ir.h"

/* Sets qo->layer_w_bits / layer_x_bits for every matrix layer of the float
 * graph `g` that has an entry in the arch (others keep 0: qo's global
 * bits).  Fails when an entry names a layer g does not have, or g has more
 * matrix layers than XB_QUANT_MAX_LAYERS and the arch has entries. */
xb_status xb_quant_opts_layers_from_arch(const xb_graph *g, const xb_arch *a, xb_quant_opts *qo,
                                         xb_ctx *ctx);

#endif
