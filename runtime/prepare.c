/* Graph preparation: op resolution, shape inference and constant folding.
 *
 * Shape inference is not a separate table of rules: each op's prepare
 * function computes its output shapes, so the rules live next to the kernel
 * they describe.  Folding likewise reuses the kernels: a node whose inputs
 * are all constant is run once here and its outputs become constants.  That
 * is what collapses the Shape->Gather->Unsqueeze->Concat->Reshape chains of
 * dynamic-batch exports once the batch is bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"
#include "runtime/exec.h"
#include "runtime/ir.h"

static xb_status bind_inputs(xb_graph *g, int64_t batch, xb_ctx *ctx) {
    for (int i = 0; i < g->n_inputs; i++) {
        xb_tensor *t = &g->tensors[g->inputs[i]];
        for (int d = 0; d < t->shape.rank; d++) {
            if (t->shape.d[d] >= 0) continue;
            if (d != 0)
                return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                               "graph input '%s' has a symbolic dimension %d; only the batch "
                               "(first) dimension may be symbolic",
                               t->name, d);
            t->shape.d[d] = batch;
        }
        t->shape_known = true;
    }
    return XB_OK;
}

static xb_status resolve_ops(xb_graph *g, xb_ctx *ctx) {
    /* Collect every unsupported node before failing: a user converting a new
     * model wants the whole list at once, not one error per attempt. */
    char list[XB_MSG_MAX];
    size_t off = 0;
    int bad = 0;
    list[0] = '\0';
    for (int i = 0; i < g->n_nodes; i++) {
        xb_node *n = &g->nodes[i];
        const char *why = NULL;
        n->op = g->ops->lookup(n->op_type, n->domain, n->opset, &why);
        if (n->op >= 0) continue;
        bad++;
        if (off < sizeof list - 200)
            off += (size_t)snprintf(list + off, sizeof list - off,
                                    "\n  node '%s': op %s, domain '%s', opset %d (%s)", n->name,
                                    n->op_type, n->domain[0] ? n->domain : "ai.onnx", n->opset,
                                    why);
        else if (off < sizeof list - 8)
            off += (size_t)snprintf(list + off, sizeof list - off, "\n  ...");
    }
    if (bad)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%d unsupported node%s (supported ops: docs/OPS.md):%s", bad,
                       bad > 1 ? "s" : "", list);
    return XB_OK;
}

/* Run node i whose inputs are all constant and turn its outputs into
 * constants. */
static xb_status fold_node(xb_graph *g, int i, xb_ctx *ctx) {
    xb_node *n = &g->nodes[i];
    xb_exec e;
    memset(&e, 0, sizeof e);
    e.g = g;
    e.buf = xb_calloc(ctx, (size_t)g->n_tensors, sizeof(void *));
    if (!e.buf) return ctx->status;
    xb_status st = XB_OK;
    for (int j = 0; j < n->n_in; j++)
        if (n->in[j] >= 0) e.buf[n->in[j]] = g->tensors[n->in[j]].data;
    for (int j = 0; j < n->n_out && st == XB_OK; j++) {
        if (n->out[j] < 0) continue;
        xb_tensor *t = &g->tensors[n->out[j]];
        if (t->is_const) { /* prepare already produced it (e.g. Shape) */
            e.buf[n->out[j]] = t->data;
            continue;
        }
        size_t bytes = (size_t)xb_shape_numel(&t->shape) * xb_dtype_size(t->dtype);
        if (bytes > XB_MAX_BUILT_CONST_BYTES) {
            st = xb_fail(ctx, XB_ERR_INVALID, "constant output '%s' of %zu bytes is larger than the "
                         "%zu MiB allowed for a constant built at load", t->name, bytes,
                         (size_t)XB_MAX_BUILT_CONST_BYTES >> 20);
            break;
        }
        e.buf[n->out[j]] = xb_calloc(ctx, bytes ? bytes : 1, 1);
        if (!e.buf[n->out[j]]) st = ctx->status;
    }
    e.scratch_bytes = n->scratch_bytes;
    if (st == XB_OK) e.scratch = xb_malloc(ctx, n->scratch_bytes ? n->scratch_bytes : 1);
    if (st == XB_OK && !e.scratch) st = ctx->status;
    if (st == XB_OK) st = xb_node_op(g, n)->run(g, n, &e, ctx);
    for (int j = 0; j < n->n_out; j++) {
        if (n->out[j] < 0) continue;
        xb_tensor *t = &g->tensors[n->out[j]];
        if (t->is_const) continue;
        if (st == XB_OK)
            xb_tensor_set_const(t, e.buf[n->out[j]]);
        else
            free(e.buf[n->out[j]]);
    }
    free(e.scratch);
    free(e.buf);
    if (st != XB_OK) xb_ctx_prefix(ctx, "folding node '%s' (%s)", n->name, n->op_type);
    return st;
}

xb_status xb_graph_prepare(xb_graph *g, int64_t batch, xb_ctx *ctx) {
    if (batch < 1) return xb_fail(ctx, XB_ERR_INVALID, "batch must be >= 1");
    if (!g->ops) return xb_fail(ctx, XB_ERR_INVALID, "graph has no op set (xb_graph_new)");
    XB_TRY(bind_inputs(g, batch, ctx));
    XB_TRY(xb_graph_toposort(g, ctx));
    XB_TRY(resolve_ops(g, ctx));
    bool *folded = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    if (!folded) return ctx->status;
    /* Non-constant, non-input tensors get their shapes from their producers;
     * forget stale shapes from an earlier prepare. */
    for (int t = 0; t < g->n_tensors; t++)
        if (!g->tensors[t].is_const && g->tensors[t].producer >= 0) g->tensors[t].shape_known = false;
    xb_status st = XB_OK;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *n = &g->nodes[i];
        bool all_const = true;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) continue;
            const xb_tensor *t = &g->tensors[n->in[j]];
            if (!t->shape_known) {
                st = xb_fail(ctx, XB_ERR_INVALID, "node '%s' (%s): input '%s' has no known shape",
                             n->name, n->op_type, t->name);
                break;
            }
            if (!t->is_const) all_const = false;
        }
        if (st != XB_OK) break;
        /* Every op's first output is required by ONNX; ops write it
         * through xb_out_t without checking (a fuzzed Relu whose output
         * name began with a NUL byte, read as the empty "absent" name,
         * wrote before the tensor array: tests/fuzz/README.md, finding 15). */
        if (n->n_out < 1 || n->out[0] < 0) {
            st = xb_fail(ctx, XB_ERR_INVALID, "node '%s' (%s): its first output has no name",
                         n->name, n->op_type);
            break;
        }
        xb_node_free_params(n);
        n->scratch_bytes = 0;
        st = xb_node_op(g, n)->prepare(g, n, ctx);
        if (st != XB_OK) {
            xb_ctx_prefix(ctx, "node '%s' (%s)", n->name, n->op_type);
            break;
        }
        bool outs_const = true;
        for (int j = 0; j < n->n_out; j++) {
            if (n->out[j] < 0) continue;
            xb_tensor *t = &g->tensors[n->out[j]];
            t->shape_known = true;
            if (!t->is_const) outs_const = false;
        }
        if (!outs_const && all_const) {
            st = fold_node(g, i, ctx);
            outs_const = st == XB_OK;
        }
        folded[i] = outs_const && st == XB_OK;
    }
    if (st == XB_OK) {
        /* A graph output produced by a folded node stays available: it is a
         * constant now, and exec points its buffer at the data. */
        xb_graph_remove_nodes(g, folded);
    }
    free(folded);
    return st;
}
