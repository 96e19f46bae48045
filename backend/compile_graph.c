/* Layer shapes from a quantized graph's matrix layers (kept apart from
 * compile.c so the mapping core links without the quantized-layer ops). */
#include <stdio.h>
#include <stdlib.h>

#include "../kernels/qlayer.h"
#include "compile.h"

xb_mapping *xb_compile_graph(const xb_arch *a, const xb_graph *g, xb_ctx *ctx) {
    int n = xb_qlayer_count(g);
    xb_layer_shape *sh = xb_calloc(ctx, (size_t)(n ? n : 1), sizeof *sh);
    if (!sh) return NULL;
    for (int i = 0; i < n; i++) {
        const xb_node *node = NULL;
        const xb_qlayer *q = xb_qlayer_get(g, i, &node);
        if (!q) {
            free(sh);
            xb_fail(ctx, XB_ERR_INVALID, "matrix layer %d not found", i);
            return NULL;
        }
        snprintf(sh[i].name, sizeof sh[i].name, "%s", node ? node->name : "?");
        sh[i].K = q->K;
        sh[i].N = q->N;
        sh[i].groups = q->groups;
        sh[i].P = q->P;
        sh[i].x_bits = q->x_bits;
        sh[i].w_bits = q->w_bits;
        if (q->kind == XB_QL_CONV) {
            sh[i].in_elems = q->cin * q->h * q->w_in;
            sh[i].out_elems = q->cout * q->hout * q->wout;
        } else {
            sh[i].in_elems = q->K * q->groups * q->P;
            sh[i].out_elems = q->N * q->groups * q->P;
        }
    }
    xb_mapping *m = xb_compile_shapes(a, sh, n, ctx);
    free(sh);
    return m;
}

