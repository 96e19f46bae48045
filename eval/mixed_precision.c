/* Arch per-layer bits -> quantization options (see mixed_precision.h). */
#include "eval/mixed_precision.h"

#include <stdlib.h>
#include <string.h>

#include "backend/compile.h"

xb_status xb_quant_opts_layers_from_arch(const xb_graph *g, const xb_arch *a, xb_quant_opts *qo,
                                         xb_ctx *ctx) {
    memset(qo->layer_w_bits, 0, sizeof qo->layer_w_bits);
    memset(qo->layer_x_bits, 0, sizeof qo->layer_x_bits);
    if (!a || (!a->layer_weight_bits[0] && !a->layer_input_bits[0])) return XB_OK;
    xb_layer_shape *sh = NULL;
    int n = 0;
    XB_TRY(xb_layer_shapes_of_graph(g, &sh, &n, ctx));
    free(sh);
    XB_TRY(xb_arch_check_layer_precision(a, n, ctx));
    if (n > XB_QUANT_MAX_LAYERS)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "arch: per-layer bits on a model with %d matrix layers (at most %d)", n,
                       XB_QUANT_MAX_LAYERS);
    /* Only the layers with an entry: with the global bits at 0 the view
     * gives 0 for the others, which keep --w-bits / --x-bits. */
    xb_arch t = *a, v;
    t.weight_bits = t.input_bits = 0;
    for (int i = 0; i < n; i++) {
        xb_arch_layer_view(&t, i, n, &v);
        qo->layer_w_bits[i] = (signed char)v.weight_bits;
        qo->layer_x_bits[i] = (signed char)v.input_bits;
    }
    return XB_OK;
}
