/* Fold a Relu into the quantized matrix layer that feeds it.
 *
 * XbarQConv / XbarQGemm -> Relu, where the Relu is the layer output's only
 * reader and that output is not a graph output, becomes one layer with the
 * attribute relu = 1 (kernels/qlayer.h) writing the Relu's output tensor.
 * The layer's epilogue then applies max(y, 0) while the value is still in
 * a register, with the same float expression as the Relu kernel, so
 * results are bit-identical; what goes is one read and one write of the
 * activation per fused pair (5 % of ResNet-20's int8 time before, perf,
 * docs/PERFORMANCE.md).
 *
 * Runs on an unprepared graph (nodes matched by op type and domain) and
 * leaves it unprepared, like the other passes (frontend/passes.c). */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"

static bool is_qlayer(const xb_node *n) {
    return n->domain && !strcmp(n->domain, "xbar") &&
           (!strcmp(n->op_type, "XbarQConv") || !strcmp(n->op_type, "XbarQGemm"));
}

static xb_status set_relu_attr(xb_node *n, xb_ctx *ctx) {
    xb_attr *na = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof *na);
    if (!na) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    n->attr = na;
    xb_attr *a = &na[n->n_attr];
    memset(a, 0, sizeof *a);
    a->name = xb_strdup(ctx, "relu");
    if (!a->name) return ctx->status;
    a->type = XB_ATTR_INT;
    a->i = 1;
    n->n_attr++;
    return XB_OK;
}

xb_status xb_pass_fuse_qrelu(xb_graph *g, int *count, xb_ctx *ctx) {
    if (count) *count = 0;
    int *reads = xb_calloc(ctx, (size_t)g->n_tensors + 1, sizeof(int));
    int *producer = xb_malloc(ctx, ((size_t)g->n_tensors + 1) * sizeof(int));
    bool *rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    xb_status st = ctx->status;
    if (!reads || !producer || !rm) goto done;
    st = XB_OK;
    for (int t = 0; t < g->n_tensors; t++) producer[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) reads[n->in[j]]++;
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) producer[n->out[j]] = i;
    }
    int fused = 0;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *r = &g->nodes[i];
        if (!xb_node_is_onnx(r, "Relu") || r->n_in != 1 || r->n_out != 1 || r->in[0] < 0 ||
            r->out[0] < 0)
            continue;
        const int t = r->in[0], pi = producer[t];
        if (pi < 0 || reads[t] != 1 || xb_pass_is_graph_output(g, t)) continue;
        xb_node *p = &g->nodes[pi];
        if (!is_qlayer(p) || p->n_out != 1 || xb_attr_find(p, "relu")) continue;
        st = set_relu_attr(p, ctx);
        if (st != XB_OK) break;
        p->out[0] = r->out[0];
        producer[r->out[0]] = pi;
        rm[i] = true;
        fused++;
    }
    if (st == XB_OK && fused) xb_graph_remove_nodes(g, rm);
    if (count) *count = fused;
done:
    free(reads);
    free(producer);
    free(rm);
    return st;
}
