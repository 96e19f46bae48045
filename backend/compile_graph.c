/* Layer shapes from a quantized graph's matrix layers (kept apart from
 * compile.c so the mapping core links without the quantized-layer ops). */
#include <stdio.h>
#include <stdlib.h>

#include "kernels/qlayer.h"
#include "kernels/layer_stats.h"
#include "backend/compile.h"
#include "backend/rowmap.h"

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
        if (xb_rowmap_count(q->w, q->groups, q->N, q->K, q->x_bits, &sh[i].rename_rows,
                            &sh[i].rename_in_bits, ctx) != XB_OK) {
            free(sh);
            return NULL;
        }
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


/* Float graphs (before quantization) have Conv / Gemm / MatMul nodes; the
 * runtime's layer statistics give their K, N, groups and MACs, which is all
 * the mapping needs.  The order is node order, the same order quantization
 * gives the XbarQ layers. */
xb_status xb_layer_shapes_of_graph(const xb_graph *g, xb_layer_shape **out, int *n_out,
                                   xb_ctx *ctx) {
    *out = NULL;
    *n_out = 0;
    int nq = xb_qlayer_count(g);
    if (nq > 0) {
        xb_layer_shape *sh = xb_calloc(ctx, (size_t)nq, sizeof *sh);
        if (!sh) return ctx->status;
        for (int i = 0; i < nq; i++) {
            const xb_node *node = NULL;
            const xb_qlayer *q = xb_qlayer_get(g, i, &node);
            snprintf(sh[i].name, sizeof sh[i].name, "%s", node->name);
            sh[i].K = q->K;
            sh[i].N = q->N;
            sh[i].groups = q->groups;
            sh[i].P = q->P;
            sh[i].x_bits = q->x_bits;
            sh[i].w_bits = q->w_bits;
            if (xb_rowmap_count(q->w, q->groups, q->N, q->K, q->x_bits, &sh[i].rename_rows,
                                &sh[i].rename_in_bits, ctx) != XB_OK) {
                free(sh);
                return ctx->status;
            }
            sh[i].in_elems = q->kind == XB_QL_CONV ? q->cin * q->h * q->w_in : q->K * q->P;
            sh[i].out_elems = q->kind == XB_QL_CONV ? q->cout * q->hout * q->wout : q->N * q->P;
        }
        *out = sh;
        *n_out = nq;
        return XB_OK;
    }
    xb_layer_stat *ls = NULL;
    int n = 0;
    XB_TRY(xb_layer_stats(g, &ls, &n, ctx));
    int m = 0;
    /* Only layers with constant weights go onto crossbars (a MatMul of two
     * activations stays digital, as quantization leaves it float). */
    for (int i = 0; i < n; i++) m += ls[i].matrix && ls[i].params > 0;
    xb_layer_shape *sh = xb_calloc(ctx, (size_t)(m ? m : 1), sizeof *sh);
    if (!sh) {
        free(ls);
        return ctx->status;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        const xb_layer_stat *L = &ls[i];
        if (!L->matrix || L->params <= 0) continue;
        xb_layer_shape *s = &sh[k++];
        snprintf(s->name, sizeof s->name, "%s", L->name);
        s->K = L->K;
        s->N = L->N;
        s->groups = L->groups;
        int64_t kng = L->K * L->N * L->groups;
        s->P = kng > 0 ? L->macs / kng : 0;
        const xb_node *node = &g->nodes[L->node];
        s->in_elems = xb_shape_numel(&g->tensors[node->in[0]].shape);
        s->out_elems = xb_shape_numel(&g->tensors[node->out[0]].shape);
        s->x_bits = s->w_bits = 8;
    }
    free(ls);
    *out = sh;
    *n_out = m;
    return XB_OK;
}
