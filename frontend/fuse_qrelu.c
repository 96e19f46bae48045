/* Fold a Relu, or a residual Add and its Relu, into the quantized matrix
 * layer that feeds it.
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
 * XbarQConv -> Add(y, r) [-> Relu], where the Add is y's only reader and r
 * a float tensor of y's shape computed before the layer (ResNet's identity
 * shortcut), becomes the layer with r as its input 4 (kernels/qlayer.h)
 * and, with the Relu, relu = 1: the epilogue adds r and applies the Relu
 * as it stores y, the float expressions of the Add and Relu kernels, so
 * the result is bit-identical.  What goes is the Add's and the Relu's pass
 * over the activation (3.9% and 2.9% of ResNet-20's int8 time, perf,
 * docs/PERFORMANCE.md).  The layer keeps its place in node order (r must
 * already be computed there), so layer indices do not change.
 *
 * Both run on an unprepared graph (nodes matched by op type and domain)
 * and leave it unprepared, like the other passes (frontend/passes.c); the
 * residual pass reads the tensor shapes of the prepared graph it was
 * cloned from. */
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"

static bool is_qlayer(const xb_node *n) {
    return n->domain && !strcmp(n->domain, "xbar") &&
           (!strcmp(n->op_type, "XbarQConv") || !strcmp(n->op_type, "XbarQGemm"));
}

typedef struct {
    int *reads, *producer; /* per tensor: readers, producing node (-1: none) */
    bool *rm;              /* per node: fused away */
} fuse_maps;

static void maps_free(fuse_maps *m) {
    free(m->reads);
    free(m->producer);
    free(m->rm);
}

static xb_status maps_build(const xb_graph *g, fuse_maps *m, xb_ctx *ctx) {
    m->reads = xb_calloc(ctx, (size_t)g->n_tensors + 1, sizeof(int));
    m->producer = xb_malloc(ctx, ((size_t)g->n_tensors + 1) * sizeof(int));
    m->rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    if (!m->reads || !m->producer || !m->rm) return ctx->status;
    for (int t = 0; t < g->n_tensors; t++) m->producer[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) m->reads[n->in[j]]++;
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) m->producer[n->out[j]] = i;
    }
    return XB_OK;
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
    fuse_maps m = {0};
    xb_status st = maps_build(g, &m, ctx);
    int fused = 0;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *r = &g->nodes[i];
        if (!xb_node_is_onnx(r, "Relu") || r->n_in != 1 || r->n_out != 1 || r->in[0] < 0 ||
            r->out[0] < 0)
            continue;
        const int t = r->in[0], pi = m.producer[t];
        if (pi < 0 || m.reads[t] != 1 || xb_pass_is_graph_output(g, t)) continue;
        xb_node *p = &g->nodes[pi];
        if (!is_qlayer(p) || p->n_out != 1 || xb_attr_find(p, "relu")) continue;
        st = set_relu_attr(p, ctx);
        if (st != XB_OK) break;
        p->out[0] = r->out[0];
        m.producer[r->out[0]] = pi;
        m.rm[i] = true;
        fused++;
    }
    if (st == XB_OK && fused) xb_graph_remove_nodes(g, m.rm);
    if (count) *count = fused;
    maps_free(&m);
    return st;
}

/* Node i, unless fused away already, when it is an ONNX `op` with one
 * output; else -1. */
static int live_op(const xb_graph *g, const fuse_maps *m, int i, const char *op) {
    if (i < 0 || m->rm[i]) return -1;
    const xb_node *n = &g->nodes[i];
    return xb_node_is_onnx(n, op) && n->n_out == 1 && n->out[0] >= 0 ? i : -1;
}

/* Layer li (an XbarQConv without relu) takes residual r as input 4 and,
 * with the Relu node ri (or -1), relu = 1; it writes what the last fused
 * node wrote. */
static xb_status take_residual(xb_graph *g, fuse_maps *m, int li, int a, int r, int ri,
                               xb_ctx *ctx) {
    xb_node *l = &g->nodes[li];
    int *in = xb_malloc(ctx, 5 * sizeof(int));
    if (!in) return ctx->status;
    for (int j = 0; j < 4; j++) in[j] = j < l->n_in ? l->in[j] : -1;
    in[4] = r;
    free(l->in);
    l->in = in, l->n_in = 5;
    if (ri >= 0) XB_TRY(set_relu_attr(l, ctx));
    const int last = ri >= 0 ? ri : a;
    l->out[0] = g->nodes[last].out[0];
    m->producer[l->out[0]] = li;
    m->rm[a] = true;
    if (ri >= 0) m->rm[ri] = true;
    return XB_OK;
}

xb_status xb_pass_fuse_qresidual(xb_graph *g, int *count, xb_ctx *ctx) {
    if (count) *count = 0;
    fuse_maps m = {0};
    xb_status st = maps_build(g, &m, ctx);
    int fused = 0;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *l = &g->nodes[i];
        if (!is_qlayer(l) || strcmp(l->op_type, "XbarQConv") != 0 || l->n_out != 1 ||
            l->out[0] < 0 || l->n_in > 4 || xb_attr_find(l, "relu"))
            continue;
        const int y = l->out[0], a = live_op(g, &m, xb_pass_only_reader(g, y), "Add");
        const int r = a >= 0 ? xb_pass_residual_of(g, &g->nodes[a], y) : -1;
        /* r computed before the layer (a graph input, a constant or an
         * earlier node's output), so the layer can stay where it is */
        if (r < 0 || g->tensors[y].shape.rank != 4 || m.producer[r] >= i) continue;
        const int ri =
            live_op(g, &m, xb_pass_only_reader(g, g->nodes[a].out[0]), "Relu");
        st = take_residual(g, &m, i, a, r, ri, ctx);
        fused += st == XB_OK;
    }
    if (st == XB_OK && fused) xb_graph_remove_nodes(g, m.rm);
    if (count) *count = fused;
    maps_free(&m);
    return st;
}
