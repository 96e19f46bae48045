#include "runtime/exec.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"

xb_exec *xb_exec_new(const xb_graph *g, xb_ctx *ctx) {
    xb_exec *e = xb_calloc(ctx, 1, sizeof *e);
    if (!e) return NULL;
    e->g = g;
    e->buf = xb_calloc(ctx, (size_t)g->n_tensors + 1, sizeof(void *));
    if (!e->buf) goto fail;
    bool *owned_needed = xb_calloc(ctx, (size_t)g->n_tensors + 1, 1);
    if (!owned_needed) goto fail;
    for (int i = 0; i < g->n_inputs; i++) owned_needed[g->inputs[i]] = true;
    size_t scratch = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) owned_needed[n->out[j]] = true;
        if (n->scratch_bytes > scratch) scratch = n->scratch_bytes;
    }
    for (int t = 0; t < g->n_tensors; t++) {
        const xb_tensor *ten = &g->tensors[t];
        if (ten->is_const) {
            e->buf[t] = ten->data;
        } else if (owned_needed[t]) {
            size_t bytes;
            if (xb_mul_overflow((size_t)xb_shape_numel(&ten->shape), xb_dtype_size(ten->dtype),
                                &bytes)) {
                xb_fail(ctx, XB_ERR_NOMEM, "tensor '%s' is too large", ten->name);
                free(owned_needed);
                goto fail;
            }
            e->buf[t] = xb_calloc(ctx, bytes ? bytes : 1, 1);
            if (!e->buf[t]) {
                free(owned_needed);
                goto fail;
            }
        }
    }
    free(owned_needed);
    e->scratch_bytes = scratch;
    e->scratch = xb_malloc(ctx, scratch ? scratch : 1);
    if (!e->scratch) goto fail;
    return e;
fail:
    xb_exec_free(e);
    return NULL;
}

void xb_exec_free(xb_exec *e) {
    if (!e) return;
    if (e->buf)
        for (int t = 0; t < e->g->n_tensors; t++)
            if (!e->g->tensors[t].is_const) free(e->buf[t]);
    free(e->buf);
    free(e->scratch);
    free(e);
}

xb_status xb_exec_run_range(xb_exec *e, int from, int to, xb_ctx *ctx) {
    const xb_graph *g = e->g;
    for (int i = from; i < to; i++) {
        const xb_node *n = &g->nodes[i];
        xb_status st = xb_node_op(g, n)->run(g, n, e, ctx);
        if (st != XB_OK) {
            xb_ctx_prefix(ctx, "node '%s' (%s)", n->name, n->op_type);
            return st;
        }
    }
    return XB_OK;
}

xb_status xb_exec_run(xb_exec *e, xb_ctx *ctx) { return xb_exec_run_range(e, 0, e->g->n_nodes, ctx); }
