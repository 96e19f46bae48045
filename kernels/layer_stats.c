#include "kernels/layer_stats.h"

#include <string.h>

/* --- layer statistics ----------------------------------------------------------- */

int xb_graph_count_quantized(const xb_graph *g) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].domain, "xbar") && !strncmp(g->nodes[i].op_type, "XbarQ", 5)) k++;
    return k;
}

xb_status xb_layer_stats(const xb_graph *g, xb_layer_stat **out, int *n_out, xb_ctx *ctx) {
    *out = NULL;
    *n_out = 0;
    xb_layer_stat *s = xb_calloc(ctx, (size_t)g->n_nodes + 1, sizeof *s);
    if (!s) return ctx->status;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        xb_layer_stat *L = &s[i];
        L->node = i;
        L->name = n->name;
        L->op = n->op_type;
        bool qconv = !strcmp(n->op_type, "XbarQConv"), qgemm = !strcmp(n->op_type, "XbarQGemm");
        L->quantized = qconv || qgemm;
        bool qdq = !strcmp(n->op_type, "QuantizeLinear") || !strcmp(n->op_type, "DequantizeLinear");
        for (int j = 0; j < n->n_in; j++) {
            const xb_tensor *t = xb_in_tc(g, n, j);
            if (!t || !t->is_const) continue;
            /* scales and zero points are not parameters of the network */
            if (L->quantized && j == 2) continue;
            if (qdq && j >= 1) continue;
            if (t->dtype == XB_F32 || t->dtype == XB_I8 || t->dtype == XB_U8)
                L->params += xb_shape_numel(&t->shape);
        }
        const xb_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
        const xb_tensor *x = xb_in_tc(g, n, 0), *w = xb_in_tc(g, n, 1);
        if (!y || !x || !w) continue;
        int64_t ynumel = xb_shape_numel(&y->shape);
        if ((!strcmp(n->op_type, "Conv") || qconv) && w->shape.rank >= 3) {
            int64_t k = 1;
            for (int d = 1; d < w->shape.rank; d++) k *= w->shape.d[d];
            L->matrix = true;
            L->groups = xb_attr_int(n, "group", 1);
            if (L->groups < 1) L->groups = 1;
            L->K = k;
            L->N = w->shape.d[0] / L->groups;
            L->macs = ynumel * k;
        } else if ((!strcmp(n->op_type, "Gemm") && n->n_in >= 2) && w->shape.rank == 2 &&
                   y->shape.rank == 2) {
            int64_t N = y->shape.d[1], M = y->shape.d[0];
            L->matrix = true;
            L->groups = 1;
            L->N = N;
            L->K = M ? xb_shape_numel(&x->shape) / M : 0;
            L->macs = M * N * L->K;
        } else if ((!strcmp(n->op_type, "MatMul") || qgemm) && x->shape.rank >= 1 &&
                   w->shape.rank == 2) {
            L->matrix = true;
            L->groups = 1;
            L->K = x->shape.d[x->shape.rank - 1];
            L->N = qgemm ? w->shape.d[0] : w->shape.d[1];
            L->macs = ynumel * L->K;
        }
        if (L->quantized) {
            L->x_bits = (int)xb_attr_int(n, "x_bits", 8);
            L->w_bits = (int)xb_attr_int(n, "w_bits", 8);
            L->x_scale = xb_attr_float(n, "x_scale", 0.0f);
            L->x_zero_point = (int)xb_attr_int(n, "x_zero_point", 0);
            const xb_tensor *ws = xb_in_tc(g, n, 2);
            if (ws && ws->is_const && ws->dtype == XB_F32 && ws->data) {
                const float *v = ws->data;
                int64_t m = xb_shape_numel(&ws->shape);
                L->w_scale_min = L->w_scale_max = m ? v[0] : 0.0f;
                for (int64_t k = 1; k < m; k++) {
                    if (v[k] < L->w_scale_min) L->w_scale_min = v[k];
                    if (v[k] > L->w_scale_max) L->w_scale_max = v[k];
                }
            }
        }
    }
    *out = s;
    *n_out = g->n_nodes;
    return XB_OK;
}

/* --- JSON --------------------------------------------------------------------- */
