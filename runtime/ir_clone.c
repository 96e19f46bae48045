/* Deep copy of a graph.
 *
 * Used where a pass must experiment on a model without touching the
 * original (post-training quantization calibrates a float copy, the CLI runs
 * float and int8 side by side).  Op-private params are deliberately not
 * copied: they are opaque to the IR (no copy function exists), and they may
 * point into the source graph's constant data, so the copy must be prepared
 * again before it runs.  Everything else (tensors with data, shapes and
 * qparams, nodes with attributes, metadata) is duplicated so the two graphs
 * share no memory and can be freed in any order. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ir.h"

static void *dup_bytes(const void *src, size_t n, xb_ctx *ctx) {
    if (!src) return NULL;
    void *p = xb_malloc(ctx, n ? n : 1);
    if (p && n) memcpy(p, src, n);
    return p;
}

static char *dup_str(const char *s, xb_ctx *ctx) { return s ? xb_strdup(ctx, s) : NULL; }

/* Copy *src into *dst (dst memory is zeroed by the caller); on failure the
 * partial copy is left in dst for the caller's free routine. */
static xb_status clone_tensor(xb_tensor *dst, const xb_tensor *src, xb_ctx *ctx) {
    *dst = *src;
    dst->name = NULL;
    dst->data = NULL;
    dst->q.scale = NULL;
    dst->q.zero_point = NULL;
    dst->name = dup_str(src->name, ctx);
    if (src->name && !dst->name) return ctx->status;
    if (src->data) {
        int64_t numel = xb_shape_numel(&src->shape);
        size_t bytes = numel > 0 ? (size_t)numel * xb_dtype_size(src->dtype) : 0;
        dst->data = dup_bytes(src->data, bytes, ctx);
        if (!dst->data) return ctx->status;
    }
    if (src->q.n > 0) {
        if (src->q.scale) {
            dst->q.scale = dup_bytes(src->q.scale, (size_t)src->q.n * sizeof(float), ctx);
            if (!dst->q.scale) return ctx->status;
        }
        if (src->q.zero_point) {
            dst->q.zero_point =
                dup_bytes(src->q.zero_point, (size_t)src->q.n * sizeof(int32_t), ctx);
            if (!dst->q.zero_point) return ctx->status;
        }
    }
    return XB_OK;
}

static void tensor_release(xb_tensor *t) {
    free(t->name);
    free(t->data);
    free(t->q.scale);
    free(t->q.zero_point);
}

static xb_status clone_attr(xb_attr *dst, const xb_attr *src, xb_ctx *ctx) {
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->f = src->f;
    dst->i = src->i;
    dst->name = dup_str(src->name, ctx);
    if (src->name && !dst->name) return ctx->status;
    dst->s = dup_str(src->s, ctx);
    if (src->s && !dst->s) return ctx->status;
    dst->n = src->n;
    size_t cnt = src->n > 0 ? (size_t)src->n : 0;
    if (src->floats) {
        dst->floats = dup_bytes(src->floats, cnt * sizeof(float), ctx);
        if (!dst->floats) return ctx->status;
    }
    if (src->ints) {
        dst->ints = dup_bytes(src->ints, cnt * sizeof(int64_t), ctx);
        if (!dst->ints) return ctx->status;
    }
    if (src->strings) {
        dst->strings = xb_calloc(ctx, cnt ? cnt : 1, sizeof(char *));
        if (!dst->strings) return ctx->status;
        for (size_t k = 0; k < cnt; k++) {
            dst->strings[k] = dup_str(src->strings[k], ctx);
            if (src->strings[k] && !dst->strings[k]) return ctx->status;
        }
    }
    if (src->t) {
        dst->t = xb_calloc(ctx, 1, sizeof(xb_tensor));
        if (!dst->t) return ctx->status;
        xb_status st = clone_tensor(dst->t, src->t, ctx);
        if (st != XB_OK) return st;
    }
    return XB_OK;
}

static xb_status clone_node(xb_node *dst, const xb_node *src, xb_ctx *ctx) {
    memset(dst, 0, sizeof *dst);
    dst->opset = src->opset;
    dst->op = src->op;
    dst->n_in = src->n_in;
    dst->n_out = src->n_out;
    dst->name = dup_str(src->name, ctx);
    dst->op_type = dup_str(src->op_type, ctx);
    dst->domain = dup_str(src->domain, ctx);
    if ((src->name && !dst->name) || (src->op_type && !dst->op_type) ||
        (src->domain && !dst->domain))
        return ctx->status;
    /* Arrays of at least one element, as xb_graph_add_node makes them. */
    dst->in = dup_bytes(src->in, (size_t)(src->n_in > 0 ? src->n_in : 1) * sizeof(int), ctx);
    dst->out = dup_bytes(src->out, (size_t)(src->n_out > 0 ? src->n_out : 1) * sizeof(int), ctx);
    if ((src->in && !dst->in) || (src->out && !dst->out)) return ctx->status;
    if (src->n_attr > 0) {
        dst->attr = xb_calloc(ctx, (size_t)src->n_attr, sizeof(xb_attr));
        if (!dst->attr) return ctx->status;
        for (int a = 0; a < src->n_attr; a++) {
            dst->n_attr = a + 1; /* so a partial copy is freed completely */
            XB_TRY(clone_attr(&dst->attr[a], &src->attr[a], ctx));
        }
    }
    return XB_OK;
}

xb_graph *xb_graph_clone(const xb_graph *g, xb_ctx *ctx) {
    if (!g) {
        xb_fail(ctx, XB_ERR_INVALID, "xb_graph_clone: no graph");
        return NULL;
    }
    xb_graph *c = xb_graph_new(g->ops, ctx);
    if (!c) return NULL;
    xb_status st = XB_OK;
    c->ir_version = g->ir_version;
    c->opset_onnx = g->opset_onnx;
    c->path = dup_str(g->path, ctx);
    c->producer = dup_str(g->producer, ctx);
    if ((g->path && !c->path) || (g->producer && !c->producer)) goto fail;

    if (g->n_tensors > 0) {
        c->tensors = xb_calloc(ctx, (size_t)g->n_tensors, sizeof(xb_tensor));
        if (!c->tensors) goto fail;
        c->cap_tensors = g->n_tensors;
        for (int i = 0; i < g->n_tensors; i++) {
            st = clone_tensor(&c->tensors[i], &g->tensors[i], ctx);
            if (st != XB_OK) {
                /* xb_graph_free walks n_tensors; release the partial one here. */
                tensor_release(&c->tensors[i]);
                memset(&c->tensors[i], 0, sizeof c->tensors[i]);
                goto fail;
            }
            c->n_tensors = i + 1;
        }
    }
    if (g->n_nodes > 0) {
        c->nodes = xb_calloc(ctx, (size_t)g->n_nodes, sizeof(xb_node));
        if (!c->nodes) goto fail;
        c->cap_nodes = g->n_nodes;
        for (int i = 0; i < g->n_nodes; i++) {
            c->n_nodes = i + 1; /* node_free in xb_graph_free copes with partial nodes */
            st = clone_node(&c->nodes[i], &g->nodes[i], ctx);
            if (st != XB_OK) goto fail;
        }
    }
    if (g->n_inputs > 0) {
        c->inputs = dup_bytes(g->inputs, (size_t)g->n_inputs * sizeof(int), ctx);
        if (!c->inputs) goto fail;
    }
    c->n_inputs = g->n_inputs;
    if (g->n_outputs > 0) {
        c->outputs = dup_bytes(g->outputs, (size_t)g->n_outputs * sizeof(int), ctx);
        if (!c->outputs) goto fail;
    }
    c->n_outputs = g->n_outputs;
    for (int i = 0; i < g->n_meta; i++)
        if (xb_graph_set_meta(c, g->meta[i].key, g->meta[i].value, ctx) != XB_OK) goto fail;
    return c;
fail:
    xb_graph_free(c);
    return NULL;
}
