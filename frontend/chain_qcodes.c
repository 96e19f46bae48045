/* Pass u8 codes between quantized layers instead of floats.
 *
 * In a quantized graph a matrix layer writes floats and the next one
 * quantizes them again: y -> [MaxPool] -> [Flatten] -> q(y) with
 * q(v) = clamp(rint(v / x_scale) + x_zero_point, 0, 2^x_bits - 1) of the
 * consumer.  When the path from producer P to consumer C is a chain (each
 * tensor read once, by the next node, and no graph output) of MaxPool
 * (without Indices), Flatten, Reshape or Identity, P can apply C's q in its
 * epilogue and the chain can carry u8 codes: Flatten, Reshape and Identity
 * move bytes, and q is monotone, so the max of the codes is the code of the
 * max (q(max(a, b)) = max(q(a), q(b)); windows entirely in padding give
 * -FLT_MAX, whose code 0 is also the u8 MaxPool's).  P gets C's scale,
 * zero point and bits as y_scale, y_zero_point, y_bits
 * (kernels/qlayer.h) and C reads the u8 tensor as its codes: the same
 * codes, so every result is bit-identical, and per layer one float write,
 * one float read and a quantization pass are saved, and a MaxPool moves a
 * quarter of the bytes (LeNet-5, VGG; docs/PERFORMANCE.md, session 7).
 *
 * The monotone argument needs P's float outputs to be numbers: a NaN
 * would be skipped by a float MaxPool but be code 0 here.  y =
 * (float)acc * (x_scale * w_scale) + bias is never NaN when every
 * multiplier and bias is finite, so layers without that are left alone.
 *
 * Runs on an unprepared graph after fuse_qrelu, like the other passes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"

static bool is_qlayer(const xb_node *n) {
    return n->domain && !strcmp(n->domain, "xbar") &&
           (!strcmp(n->op_type, "XbarQConv") || !strcmp(n->op_type, "XbarQGemm"));
}

/* Ops that can carry codes unchanged (MaxPool: only its Y output). */
static bool carries_codes(const xb_node *n) {
    if (n->n_in < 1 || n->n_out < 1 || n->out[0] < 0) return false;
    if (xb_node_is_onnx(n, "MaxPool")) return n->n_out == 1 || n->out[1] < 0;
    return xb_node_is_onnx(n, "Flatten") || xb_node_is_onnx(n, "Reshape") ||
           xb_node_is_onnx(n, "Identity");
}

/* Every multiplier x_scale * w_scale[r] and bias of layer p finite (the
 * kernel's product, kernels/qlayer.c). */
static bool outputs_finite(const xb_graph *g, const xb_node *p) {
    const xb_attr *xs = xb_attr_find(p, "x_scale");
    if (!xs || xs->type != XB_ATTR_FLOAT || p->n_in < 3 || p->in[2] < 0) return false;
    const xb_tensor *ws = &g->tensors[p->in[2]];
    if (!ws->is_const || ws->dtype != XB_F32 || !ws->data) return false;
    const float *w = ws->data;
    for (int64_t r = 0; r < xb_shape_numel(&ws->shape); r++)
        if (!isfinite(xs->f * w[r])) return false;
    if (p->n_in < 4 || p->in[3] < 0) return true;
    const xb_tensor *bt = &g->tensors[p->in[3]];
    if (!bt->is_const || bt->dtype != XB_F32 || !bt->data) return false;
    const float *b = bt->data;
    for (int64_t r = 0; r < xb_shape_numel(&bt->shape); r++)
        if (!isfinite(b[r])) return false;
    return true;
}

static xb_status add_attr(xb_node *n, const char *name, xb_attr_type type, int64_t i, float f,
                          xb_ctx *ctx) {
    xb_attr *na = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof *na);
    if (!na) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    n->attr = na;
    xb_attr *a = &na[n->n_attr];
    memset(a, 0, sizeof *a);
    a->name = xb_strdup(ctx, name);
    if (!a->name) return ctx->status;
    a->type = type;
    a->i = i;
    a->f = f;
    n->n_attr++;
    return XB_OK;
}

/* The node reading tensor t, when exactly one node reads it exactly once
 * (as its first input) and t is no graph output; else -1. */
static int only_reader(const xb_graph *g, const int *reads, int t) {
    if (reads[t] != 1 || xb_pass_is_graph_output(g, t)) return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == t) return j == 0 ? i : -1;
    }
    return -1;
}

/* The consumer layer at the end of p's code-carrying chain, or -1. */
static int chain_end(const xb_graph *g, const int *reads, const xb_node *p) {
    int t = p->out[0];
    for (int steps = 0; steps < g->n_nodes; steps++) {
        int r = only_reader(g, reads, t);
        if (r < 0) return -1;
        const xb_node *n = &g->nodes[r];
        if (is_qlayer(n)) return r;
        if (!carries_codes(n)) return -1;
        t = n->out[0];
    }
    return -1;
}

xb_status xb_pass_chain_qcodes(xb_graph *g, int *count, xb_ctx *ctx) {
    if (count) *count = 0;
    int *reads = xb_calloc(ctx, (size_t)g->n_tensors + 1, sizeof(int));
    if (!reads) return ctx->status;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) reads[n->in[j]]++;
    }
    xb_status st = XB_OK;
    int chained = 0;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *p = &g->nodes[i];
        if (!is_qlayer(p) || p->n_out != 1 || p->out[0] < 0 || xb_attr_find(p, "y_scale") ||
            xb_attr_find(p, "y_zero_point") || xb_attr_find(p, "y_bits") || !outputs_finite(g, p))
            continue;
        int c = chain_end(g, reads, p);
        if (c < 0) continue;
        const xb_node *cn = &g->nodes[c];
        const xb_attr *xs = xb_attr_find(cn, "x_scale");
        if (!xs || xs->type != XB_ATTR_FLOAT) continue;
        int64_t bits = xb_attr_int(cn, "x_bits", 8), zp = xb_attr_int(cn, "x_zero_point", 0);
        if (bits < 2 || bits > 8 || zp < 0 || zp >= ((int64_t)1 << bits) || !(xs->f > 0.0f) ||
            !isfinite(xs->f))
            continue;
        st = add_attr(p, "y_scale", XB_ATTR_FLOAT, 0, xs->f, ctx);
        if (st == XB_OK) st = add_attr(p, "y_zero_point", XB_ATTR_INT, zp, 0.0f, ctx);
        if (st == XB_OK) st = add_attr(p, "y_bits", XB_ATTR_INT, bits, 0.0f, ctx);
        chained += st == XB_OK;
    }
    if (count) *count = chained;
    free(reads);
    return st;
}
