#include "runtime/exec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"

/* Bytes of tensor t's buffer, or (size_t)-1 when the size overflows. */
static size_t tensor_bytes(const xb_tensor *t) {
    size_t bytes;
    if (xb_mul_overflow((size_t)xb_shape_numel(&t->shape), xb_dtype_size(t->dtype), &bytes))
        return (size_t)-1;
    return bytes ? bytes : 1;
}

/* Live range of every activation: [first, last] node indices, first = -1
 * for graph inputs (written before the run) and last = n_nodes for graph
 * outputs (read after it).  first = -2 marks a tensor that needs no
 * buffer (constant, or neither an input nor produced by a node). */
static void live_ranges(const xb_graph *g, int *first, int *last) {
    for (int t = 0; t < g->n_tensors; t++) first[t] = -2, last[t] = -2;
    for (int i = 0; i < g->n_inputs; i++) first[g->inputs[i]] = -1, last[g->inputs[i]] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0 && first[n->out[j]] == -2) first[n->out[j]] = last[n->out[j]] = i;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0 && first[n->in[j]] != -2 && last[n->in[j]] < i) last[n->in[j]] = i;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (first[g->outputs[i]] != -2) last[g->outputs[i]] = g->n_nodes;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].is_const) first[t] = -2;
}

/* Assign each activation a block: tensors are taken in the order they
 * start (a node's outputs after its inputs), and a tensor may take a block
 * whose last tenant ended strictly before it starts, so a node's inputs
 * and outputs never share memory.  Among free blocks the smallest one
 * that fits is taken, else the largest one, grown.  Without `reuse` every
 * activation gets its own block. */
static xb_status plan_blocks(const xb_graph *g, bool reuse, int *block, size_t *size,
                             int *n_blocks, xb_ctx *ctx) {
    int T = g->n_tensors, nb = 0;
    xb_status st = XB_OK;
    int *first = xb_calloc(ctx, (size_t)T + 1, sizeof(int));
    int *last = xb_calloc(ctx, (size_t)T + 1, sizeof(int));
    int *busy = xb_calloc(ctx, (size_t)T + 1, sizeof(int)); /* per block: last node of its tenant */
    int *order = xb_calloc(ctx, (size_t)T + 1, sizeof(int));
    int *start = xb_calloc(ctx, (size_t)g->n_nodes + 3, sizeof(int));
    if (!first || !last || !busy || !order || !start) {
        st = XB_ERR_NOMEM;
        goto out;
    }
    live_ranges(g, first, last);
    /* Counting sort by first (-1 .. n_nodes-1): linear in the graph size. */
    int n_live = 0;
    for (int t = 0; t < T; t++)
        if (first[t] >= -1) start[first[t] + 2]++, n_live++;
    for (int i = 1; i <= g->n_nodes + 1; i++) start[i] += start[i - 1];
    for (int t = 0; t < T; t++)
        if (first[t] >= -1) order[start[first[t] + 1]++] = t;
    for (int o = 0; o < n_live; o++) {
        int t = order[o], at = first[t];
        size_t need = tensor_bytes(&g->tensors[t]);
        if (need == (size_t)-1) {
            st = xb_fail(ctx, XB_ERR_NOMEM, "tensor '%s' is too large", g->tensors[t].name);
            goto out;
        }
        int best = -1;
        for (int k = 0; reuse && k < nb; k++) {
            if (busy[k] >= at) continue;
            bool fits = size[k] >= need, best_fits = best >= 0 && size[best] >= need;
            if (best < 0 || (fits && (!best_fits || size[k] < size[best])) ||
                (!fits && !best_fits && size[k] > size[best]))
                best = k;
        }
        if (best < 0) best = nb++, size[best] = 0;
        if (size[best] < need) size[best] = need;
        busy[best] = last[t];
        block[t] = best;
    }
    *n_blocks = nb;
out:
    free(first);
    free(last);
    free(busy);
    free(order);
    free(start);
    return st;
}

/* Every block's buffer starts on a cache line (64 bytes).  malloc gives
 * 16, so a float tensor could start mid-line, and then every 64-byte
 * vector load and store the conv tiles make (kernels/sgemm_avx512.c:
 * output rows, residual rows, centre-tap input rows) crossed two lines.
 * On ResNet-20 the 32 x 32 convs with a residual took 7-14% longer than
 * those without, and the same once aligned; the whole model 2-9% longer
 * with calloc's placement, 3-4% with every block 16 bytes past a line,
 * and no longer with page-aligned blocks than with line-aligned ones (so
 * not 4K aliasing; tools/bench_align.c, docs/PERFORMANCE.md, session 14).
 * Costs 63 bytes per block. */
static void *block_alloc(size_t bytes, void **mem, xb_ctx *ctx) {
    if (bytes > SIZE_MAX - XB_EXEC_BLOCK_SLACK) {
        xb_fail(ctx, XB_ERR_NOMEM, "activation block too large");
        return NULL;
    }
    *mem = xb_calloc(ctx, bytes + XB_EXEC_BLOCK_SLACK, 1);
    if (!*mem) return NULL;
    return (void *)(((uintptr_t)*mem + XB_EXEC_BLOCK_SLACK) & ~(uintptr_t)XB_EXEC_BLOCK_SLACK);
}

static xb_exec *exec_new(const xb_graph *g, bool reuse, xb_ctx *ctx) {
    xb_exec *e = xb_calloc(ctx, 1, sizeof *e);
    if (!e) return NULL;
    e->g = g;
    size_t T = (size_t)g->n_tensors + 1;
    int *block = xb_calloc(ctx, T, sizeof(int));
    size_t *size = xb_calloc(ctx, T, sizeof(size_t));
    e->buf = xb_calloc(ctx, T, sizeof(void *));
    e->blocks = xb_calloc(ctx, T, sizeof(void *));
    e->block_mem = xb_calloc(ctx, T, sizeof(void *));
    if (!block || !size || !e->buf || !e->blocks || !e->block_mem) goto fail;
    for (int t = 0; t < g->n_tensors; t++) block[t] = -1;
    if (plan_blocks(g, reuse, block, size, &e->n_blocks, ctx) != XB_OK) goto fail;
    for (int k = 0; k < e->n_blocks; k++)
        if (!(e->blocks[k] = block_alloc(size[k], &e->block_mem[k], ctx))) goto fail;
    size_t scratch = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].scratch_bytes > scratch) scratch = g->nodes[i].scratch_bytes;
    for (int t = 0; t < g->n_tensors; t++)
        e->buf[t] = g->tensors[t].is_const ? g->tensors[t].data
                    : block[t] >= 0        ? e->blocks[block[t]]
                                           : NULL;
    e->scratch_bytes = scratch;
    /* On a cache line too: the matrix layers lay out their accumulators
     * and unfolded inputs at 64-byte offsets from it (kernels/xbar_qconv.c). */
    e->scratch = block_alloc(scratch ? scratch : 1, &e->scratch_mem, ctx);
    if (!e->scratch) goto fail;
    free(block);
    free(size);
    return e;
fail:
    free(block);
    free(size);
    xb_exec_free(e);
    return NULL;
}

xb_exec *xb_exec_new(const xb_graph *g, xb_ctx *ctx) { return exec_new(g, true, ctx); }

static xb_status plan_bytes(const xb_graph *g, bool reuse, size_t *bytes, xb_ctx *ctx) {
    *bytes = 0;
    size_t T = (size_t)g->n_tensors + 1;
    int *block = xb_calloc(ctx, T, sizeof(int));
    size_t *size = xb_calloc(ctx, T, sizeof(size_t));
    int nb = 0;
    xb_status st = block && size ? XB_OK : ctx->status;
    for (int t = 0; st == XB_OK && t < g->n_tensors; t++) block[t] = -1;
    if (st == XB_OK) st = plan_blocks(g, reuse, block, size, &nb, ctx);
    size_t total = 0;
    for (int k = 0; st == XB_OK && k < nb; k++) { /* + block_alloc's alignment slack */
        const size_t b = size[k] > SIZE_MAX - XB_EXEC_BLOCK_SLACK ? SIZE_MAX
                                                                  : size[k] + XB_EXEC_BLOCK_SLACK;
        total = total > SIZE_MAX - b ? SIZE_MAX : total + b;
    }
    size_t scratch = 0; /* one scratch buffer, the largest any node asks for */
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].scratch_bytes > scratch) scratch = g->nodes[i].scratch_bytes;
    scratch = scratch > SIZE_MAX - XB_EXEC_BLOCK_SLACK ? SIZE_MAX : scratch + XB_EXEC_BLOCK_SLACK;
    if (st == XB_OK) *bytes = total > SIZE_MAX - scratch ? SIZE_MAX : total + scratch;
    free(block);
    free(size);
    return st;
}

xb_status xb_exec_plan_bytes(const xb_graph *g, size_t *bytes, xb_ctx *ctx) {
    return plan_bytes(g, true, bytes, ctx);
}

xb_status xb_exec_plan_bytes_keep(const xb_graph *g, size_t *bytes, xb_ctx *ctx) {
    return plan_bytes(g, false, bytes, ctx);
}

xb_exec *xb_exec_new_keep(const xb_graph *g, xb_ctx *ctx) {
    xb_exec *e = exec_new(g, false, ctx);
    if (e) e->keeps_all = true;
    return e;
}

void xb_exec_free(xb_exec *e) {
    if (!e) return;
    if (e->block_mem)
        for (int k = 0; k < e->n_blocks; k++) free(e->block_mem[k]);
    free(e->block_mem);
    free(e->blocks);
    free(e->buf);
    free(e->scratch_mem);
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

/* --- delta runs (exec.h) ------------------------------------------------ */

xb_exec_delta *xb_exec_delta_new(const xb_exec *base, xb_ctx *ctx) {
    if (!base->keeps_all) {
        xb_fail(ctx, XB_ERR_INVALID, "delta run: the base exec must keep every activation "
                "(xb_exec_new_keep)");
        return NULL;
    }
    const xb_graph *g = base->g;
    size_t T = (size_t)g->n_tensors + 1;
    xb_exec_delta *d = xb_calloc(ctx, 1, sizeof *d);
    if (!d) return NULL;
    d->base = base;
    d->e = xb_exec_new_keep(g, ctx);
    d->own = xb_calloc(ctx, T, sizeof(void *));
    d->bytes = xb_calloc(ctx, T, sizeof(size_t));
    d->dirty = xb_calloc(ctx, T, 1);
    if (!d->e || !d->own || !d->bytes || !d->dirty) {
        xb_exec_delta_free(d);
        return NULL;
    }
    for (int t = 0; t < g->n_tensors; t++) {
        d->own[t] = d->e->buf[t];
        /* constants are never recomputed; an activation's size fitted at
         * exec_new, so tensor_bytes cannot overflow here */
        d->bytes[t] = g->tensors[t].is_const || !d->own[t] ? 0 : tensor_bytes(&g->tensors[t]);
    }
    return d;
}

void xb_exec_delta_free(xb_exec_delta *d) {
    if (!d) return;
    xb_exec_free(d->e);
    free(d->own);
    free(d->bytes);
    free(d->dirty);
    free(d);
}

static bool reads_dirty(const xb_exec_delta *d, const xb_node *n) {
    for (int j = 0; j < n->n_in; j++)
        if (n->in[j] >= 0 && d->dirty[n->in[j]]) return true;
    return false;
}

xb_status xb_exec_delta_run(xb_exec_delta *d, int changed, xb_ctx *ctx) {
    const xb_graph *g = d->base->g;
    if (changed < 0 || changed >= g->n_nodes)
        return xb_fail(ctx, XB_ERR_INVALID, "delta run: node %d of %d", changed, g->n_nodes);
    memcpy(d->e->buf, d->base->buf, (size_t)g->n_tensors * sizeof(void *));
    memset(d->dirty, 0, (size_t)g->n_tensors);
    d->nodes_run = 0;
    for (int i = changed; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        if (i != changed && !reads_dirty(d, n)) continue; /* base's value stands */
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) d->e->buf[n->out[j]] = d->own[n->out[j]];
        XB_TRY(xb_exec_run_range(d->e, i, i + 1, ctx));
        d->nodes_run++;
        for (int j = 0; j < n->n_out; j++) {
            int t = n->out[j];
            if (t < 0 || !d->own[t]) continue;
            d->dirty[t] = memcmp(d->own[t], d->base->buf[t], d->bytes[t]) != 0;
            if (!d->dirty[t]) d->e->buf[t] = d->base->buf[t];
        }
    }
    return XB_OK;
}
