/* Frontend graph passes: Identity/Dropout removal, BatchNormalization
 * folding, dead-node removal, Conv + Relu fusion for float inference, and
 * the helpers the QDQ lowering shares.
 *
 * Passes rewrite the IR in place and never remove tensors (indices are
 * stable); a tensor that loses its producer and readers simply stays unused.
 * Each pass leaves the graph valid but unprepared, and the pipeline in
 * onnx_load.c prepares it again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "frontend/onnx_internal.h"

bool xb_pass_is_graph_output(const xb_graph *g, int t) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return true;
    return false;
}

bool xb_pass_is_graph_input(const xb_graph *g, int t) {
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == t) return true;
    return false;
}

void xb_pass_replace_uses(xb_graph *g, int from, int to) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == from) g->nodes[i].in[j] = to;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == from) g->outputs[i] = to;
}

int xb_pass_unique_tensor(xb_graph *g, const char *base, const char *suffix, xb_dtype dt,
                          const xb_shape *shape, xb_ctx *ctx) {
    char name[512];
    snprintf(name, sizeof name, "%s%s", base, suffix);
    for (int k = 2; xb_graph_find_tensor(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%s%s_%d", base, suffix, k);
    int t = xb_graph_add_tensor(g, name, dt, shape, ctx);
    if (t >= 0) g->tensors[t].shape_known = true;
    return t;
}

static int *read_counts(const xb_graph *g, xb_ctx *ctx) {
    int *c = xb_calloc(ctx, (size_t)g->n_tensors + 1, sizeof(int));
    if (!c) return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) c[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_outputs; i++) c[g->outputs[i]]++;
    return c;
}

/* ---- Identity / Dropout --------------------------------------------------- */

/* Dropout is the identity at inference (ONNX Dropout-12/13: "If training_mode
 * is false ... output = data"); it is removable only when its mask output is
 * unused and training_mode is absent or a constant false. */
static bool dropout_is_identity(const xb_graph *g, const xb_node *n, const int *reads) {
    if (n->n_out >= 2 && n->out[1] >= 0 && reads[n->out[1]] > 0) return false;
    if (n->n_in >= 3 && n->in[2] >= 0) {
        const xb_tensor *tm = &g->tensors[n->in[2]];
        if (!tm->is_const || !tm->data || xb_shape_numel(&tm->shape) != 1) return false;
        if (tm->dtype != XB_BOOL && tm->dtype != XB_U8 && tm->dtype != XB_I8) return false;
        if (*(const uint8_t *)tm->data != 0) return false;
    }
    if (xb_attr_int(n, "is_test", 1) == 0) return false; /* Dropout-1..6 training flag */
    return true;
}

/* Follow the alias chain of t to its end, compressing the path so long
 * Identity chains stay linear. */
static int resolve(int *alias, int t) {
    if (t < 0) return t;
    int r = t;
    while (alias[r] >= 0) r = alias[r];
    while (alias[t] >= 0) {
        int next = alias[t];
        alias[t] = r;
        t = next;
    }
    return r;
}

xb_status xb_pass_remove_identity(xb_graph *g, int *count, xb_ctx *ctx) {
    int removed = 0;
    if (count) *count = 0;
    int *reads = read_counts(g, ctx);
    bool *rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    int *alias = xb_malloc(ctx, ((size_t)g->n_tensors + 1) * sizeof(int));
    if (!reads || !rm || !alias) {
        free(reads);
        free(rm);
        free(alias);
        return ctx->status;
    }
    /* alias[y] = x: readers of y are to read x.  Rewiring is deferred to one
     * sweep at the end so that a model with many Identity nodes does not
     * cost a full graph scan per node. */
    for (int t = 0; t <= g->n_tensors; t++) alias[t] = -1;
    xb_status st = XB_OK;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *n = &g->nodes[i];
        bool ident = xb_node_is_onnx(n, "Identity") && n->n_in == 1 && n->n_out == 1;
        bool drop = xb_node_is_onnx(n, "Dropout") && n->n_in >= 1 && n->n_out >= 1 &&
                    dropout_is_identity(g, n, reads);
        if (!ident && !drop) continue;
        int x = resolve(alias, n->in[0]), y = n->out[0];
        /* x == y only on a cycle of Identity nodes: leave it for the
         * toposort to report. */
        if (x < 0 || y < 0 || x == y) continue;
        int p = g->tensors[x].producer;
        if (!xb_pass_is_graph_output(g, y)) {
            alias[y] = x;
        } else if (p >= 0 && !rm[p] && !xb_pass_is_graph_output(g, x) &&
                   !xb_pass_is_graph_input(g, x)) {
            /* y is a graph output: keep its name (callers look outputs up by
             * name) by making x's producer write y directly. */
            xb_node *pn = &g->nodes[p];
            for (int j = 0; j < pn->n_out; j++)
                if (pn->out[j] == x) pn->out[j] = y;
            alias[x] = y;
            g->tensors[y].producer = p;
            g->tensors[x].producer = -1;
        } else if (g->tensors[x].is_const && !xb_pass_is_graph_output(g, x)) {
            /* Output of a constant: the output becomes that constant. */
            const xb_tensor *src = &g->tensors[x];
            size_t bytes = (size_t)xb_shape_numel(&src->shape) * xb_dtype_size(src->dtype);
            void *copy = xb_malloc(ctx, bytes ? bytes : 1);
            if (!copy) {
                st = ctx->status;
                break;
            }
            if (bytes) memcpy(copy, src->data, bytes);
            xb_tensor *dst = &g->tensors[y];
            dst->dtype = src->dtype;
            dst->shape = src->shape;
            dst->producer = -1;
            xb_tensor_set_const(dst, copy);
        } else {
            /* Graph input straight to graph output: the node must stay (it
             * then needs the Identity kernel). */
            continue;
        }
        rm[i] = true;
        removed++;
    }
    if (st == XB_OK && removed) {
        for (int i = 0; i < g->n_nodes; i++) {
            if (rm[i]) continue;
            xb_node *n = &g->nodes[i];
            for (int j = 0; j < n->n_in; j++) n->in[j] = resolve(alias, n->in[j]);
        }
        for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = resolve(alias, g->outputs[i]);
        xb_graph_remove_nodes(g, rm);
    }
    free(reads);
    free(rm);
    free(alias);
    if (count) *count = removed;
    return st;
}

/* ---- constant DequantizeLinear records ------------------------------------ */

void xb_dq_table_free(xb_dq_table *t) {
    free(t->r);
    memset(t, 0, sizeof *t);
}

xb_status xb_pass_record_const_dq(const xb_graph *g, xb_dq_table *tab, xb_ctx *ctx) {
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        if (!xb_node_is_onnx(n, "DequantizeLinear") || n->n_in < 2 || n->n_out < 1) continue;
        if (n->in[0] < 0 || n->in[1] < 0 || n->out[0] < 0) continue;
        const xb_tensor *q = &g->tensors[n->in[0]];
        if (!q->is_const || (q->dtype != XB_I8 && q->dtype != XB_I32 && q->dtype != XB_U8)) continue;
        if (tab->n == tab->cap) {
            int nc = tab->cap ? tab->cap * 2 : 32;
            xb_dq_record *r = realloc(tab->r, (size_t)nc * sizeof *r);
            if (!r) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
            tab->r = r;
            tab->cap = nc;
        }
        xb_dq_record *r = &tab->r[tab->n++];
        r->out = n->out[0];
        r->q = n->in[0];
        r->scale = n->in[1];
        r->zp = n->n_in >= 3 ? n->in[2] : -1;
        r->axis = (int)xb_attr_int(n, "axis", 1);
    }
    return XB_OK;
}

/* ---- BatchNormalization into Conv ----------------------------------------- */

static const float *const_f32(const xb_graph *g, int t, int64_t numel) {
    if (t < 0) return NULL;
    const xb_tensor *x = &g->tensors[t];
    if (!x->is_const || !x->data || x->dtype != XB_F32 || xb_shape_numel(&x->shape) != numel)
        return NULL;
    return x->data;
}

/* BN(conv(x, W, B)) with per-channel s = gamma / sqrt(var + eps) equals
 * conv(x, W', B') where W'[c,...] = W[c,...] * s[c] and
 * B'[c] = (B[c] - mean[c]) * s[c] + beta[c]: BN at inference is an affine map
 * per output channel (Ioffe & Szegedy 2015, eq. in Alg. 2; the folding is
 * Jacob et al. 2018, "Quantization and Training of Neural Networks for
 * Efficient Integer-Arithmetic-Only Inference", sec. 3.2).  Computed in
 * double, rounded once to float. */
static xb_status fold_one(xb_graph *g, int bi, int ci, bool *rm, xb_ctx *ctx) {
    xb_node *bn = &g->nodes[bi];
    xb_node *cv = &g->nodes[ci];
    const xb_tensor *W = &g->tensors[cv->in[1]];
    int64_t C = W->shape.d[0];
    int64_t per = xb_shape_numel(&W->shape) / (C ? C : 1);
    const float *w = W->data;
    const float *b = cv->n_in >= 3 ? const_f32(g, cv->in[2], C) : NULL;
    const float *gamma = const_f32(g, bn->in[1], C), *beta = const_f32(g, bn->in[2], C);
    const float *mean = const_f32(g, bn->in[3], C), *var = const_f32(g, bn->in[4], C);
    double eps = xb_attr_float(bn, "epsilon", 1e-5f);
    xb_shape bs = {.rank = 1, .d = {C}};
    int nw = xb_pass_unique_tensor(g, g->tensors[cv->in[1]].name, "_bnfold", XB_F32, &W->shape, ctx);
    if (nw < 0) return ctx->status;
    int nb = xb_pass_unique_tensor(g, cv->name, "_bias_bnfold", XB_F32, &bs, ctx);
    if (nb < 0) return ctx->status;
    /* Adding tensors may have moved the array: re-fetch pointers. */
    W = &g->tensors[cv->in[1]];
    w = W->data;
    float *nwd = xb_malloc(ctx, (size_t)(C * per) * sizeof(float) + 1);
    float *nbd = xb_malloc(ctx, (size_t)C * sizeof(float) + 1);
    if (!nwd || !nbd) {
        free(nwd);
        free(nbd);
        return ctx->status;
    }
    for (int64_t c = 0; c < C; c++) {
        double s = (double)gamma[c] / sqrt((double)var[c] + eps);
        for (int64_t k = 0; k < per; k++) nwd[c * per + k] = (float)((double)w[c * per + k] * s);
        nbd[c] = (float)(((b ? (double)b[c] : 0.0) - (double)mean[c]) * s + (double)beta[c]);
    }
    xb_tensor_set_const(&g->tensors[nw], nwd);
    xb_tensor_set_const(&g->tensors[nb], nbd);
    if (cv->n_in < 3) {
        int *in = realloc(cv->in, 3 * sizeof(int));
        if (!in) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
        cv->in = in;
        cv->n_in = 3;
    }
    cv->in[1] = nw;
    cv->in[2] = nb;
    int y = cv->out[0], z = bn->out[0];
    cv->out[0] = z;
    g->tensors[z].producer = ci;
    g->tensors[y].producer = -1;
    rm[bi] = true;
    return XB_OK;
}

xb_status xb_pass_fold_bn(xb_graph *g, int *count, xb_ctx *ctx) {
    int folded = 0;
    if (count) *count = 0;
    bool *rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    if (!rm) return ctx->status;
    xb_status st = XB_OK;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        xb_node *bn = &g->nodes[i];
        if (!xb_node_is_onnx(bn, "BatchNormalization") || bn->n_in != 5 || bn->n_out < 1) continue;
        if (xb_attr_int(bn, "training_mode", 0) != 0 || xb_attr_int(bn, "spatial", 1) != 1) continue;
        bool extra = false; /* running-stat outputs exist only in training */
        for (int j = 1; j < bn->n_out; j++)
            if (bn->out[j] >= 0 && xb_graph_consumers(g, bn->out[j]) > 0) extra = true;
        if (extra || bn->in[0] < 0 || bn->out[0] < 0) continue;
        int y = bn->in[0];
        int ci = g->tensors[y].producer;
        if (ci < 0 || rm[ci]) continue;
        xb_node *cv = &g->nodes[ci];
        if (!xb_node_is_onnx(cv, "Conv") || cv->n_out != 1 || cv->out[0] != y || cv->n_in < 2) continue;
        /* The Conv result must feed only this BN, or other readers would see
         * the folded values. */
        if (xb_graph_consumers(g, y) != 1) continue;
        const xb_tensor *W = cv->in[1] >= 0 ? &g->tensors[cv->in[1]] : NULL;
        if (!W || !W->is_const || W->dtype != XB_F32 || W->shape.rank < 3) continue;
        int64_t C = W->shape.d[0];
        if (cv->n_in >= 3 && cv->in[2] >= 0 && !const_f32(g, cv->in[2], C)) continue;
        bool ok = true;
        for (int j = 1; j < 5; j++)
            if (!const_f32(g, bn->in[j], C)) ok = false;
        if (!ok) continue;
        st = fold_one(g, i, ci, rm, ctx);
        if (st == XB_OK) folded++;
    }
    if (st == XB_OK && folded) xb_graph_remove_nodes(g, rm);
    free(rm);
    if (count) *count = folded;
    return st;
}

/* ---- dead nodes ----------------------------------------------------------- */

xb_status xb_pass_remove_dead(xb_graph *g, int *count, xb_ctx *ctx) {
    int removed = 0;
    if (count) *count = 0;
    for (;;) {
        int *reads = read_counts(g, ctx);
        bool *rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
        if (!reads || !rm) {
            free(reads);
            free(rm);
            return ctx->status;
        }
        int now = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const xb_node *n = &g->nodes[i];
            bool used = false;
            for (int j = 0; j < n->n_out; j++)
                if (n->out[j] >= 0 && reads[n->out[j]] > 0) used = true;
            if (!used) {
                rm[i] = true;
                now++;
            }
        }
        if (now) xb_graph_remove_nodes(g, rm);
        removed += now;
        if (!now) {
            /* Constants nobody reads any more (float copies of weights that
             * were lowered, folded BN parameters) are released. */
            for (int t = 0; t < g->n_tensors; t++)
                if (g->tensors[t].is_const && reads[t] == 0) xb_tensor_free_data(&g->tensors[t]);
        }
        free(reads);
        free(rm);
        if (!now) break;
    }
    if (count) *count = removed;
    return XB_OK;
}

/* ---- Conv + Relu fusion (float inference only) ---------------------------- */

int xb_pass_only_reader(const xb_graph *g, int t) {
    if (xb_graph_consumers(g, t) != 1 || xb_pass_is_graph_output(g, t)) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == t) return i;
    return -1;
}

/* Append attribute activation = "Relu" to node n. */
static xb_status push_relu_attr(xb_node *n, xb_ctx *ctx) {
    char *an = xb_strdup(ctx, "activation"), *av = xb_strdup(ctx, "Relu");
    xb_attr *na = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof *na);
    if (na) n->attr = na;
    if (!an || !av || !na) {
        free(an), free(av);
        return ctx->status != XB_OK ? ctx->status : xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    }
    memset(&na[n->n_attr], 0, sizeof *na);
    na[n->n_attr].name = an;
    na[n->n_attr].type = XB_ATTR_STRING;
    na[n->n_attr].s = av;
    n->n_attr++;
    return XB_OK;
}

static xb_status retype_xbar_conv(xb_node *n, xb_ctx *ctx) {
    char *op = xb_strdup(ctx, "XbarConv"), *dom = xb_strdup(ctx, "xbar");
    if (!op || !dom) {
        free(op), free(dom);
        return ctx->status;
    }
    free(n->op_type), free(n->domain);
    n->op_type = op, n->domain = dom, n->opset = 1;
    return XB_OK;
}

/* Node `keep` now produces tensor z in place of `from`'s output y. */
static void move_output(xb_graph *g, xb_node *keep, int ki, int y, int z) {
    keep->out[0] = z;
    g->tensors[z].producer = ki;
    if (y != z) g->tensors[y].producer = -1;
}

/* Conv c and its only reader, Relu r: c becomes XbarConv (activation =
 * Relu) producing r's output; r is marked for removal. */
static xb_status fuse_relu(xb_graph *g, int c, int r, bool *rm, xb_ctx *ctx) {
    xb_node *cv = &g->nodes[c];
    XB_TRY(push_relu_attr(cv, ctx));
    XB_TRY(retype_xbar_conv(cv, ctx));
    move_output(g, cv, c, cv->out[0], g->nodes[r].out[0]);
    rm[r] = true;
    return XB_OK;
}

int xb_pass_residual_of(const xb_graph *g, const xb_node *a, int y) {
    if (!xb_node_is_onnx(a, "Add") || a->n_in != 2 || a->n_out != 1 || a->out[0] < 0) return -1;
    int r = a->in[0] == y ? a->in[1] : a->in[1] == y ? a->in[0] : -1;
    if (r < 0 || r == y) return -1;
    const xb_tensor *tr = &g->tensors[r], *ty = &g->tensors[y];
    if (tr->dtype != XB_F32 || !xb_shape_eq(&tr->shape, &ty->shape)) return -1;
    return r;
}

/* Conv c, its only reader Add a (residual input res), and optionally the
 * Add's only reader Relu r (-1: none): the Add node becomes the XbarConv,
 * with the Conv's inputs and attributes plus res as input 3, so it sits
 * where every input, res included, is already computed.  The Conv (and
 * the Relu) are marked for removal. */
static xb_status fuse_add(xb_graph *g, int c, int a, int res, int r, bool *rm, xb_ctx *ctx) {
    xb_node *cv = &g->nodes[c], *ad = &g->nodes[a];
    int *in = xb_malloc(ctx, 4 * sizeof(int));
    if (!in) return ctx->status;
    for (int j = 0; j < 3; j++) in[j] = j < cv->n_in ? cv->in[j] : -1;
    in[3] = res;
    free(ad->in);
    ad->in = in, ad->n_in = 4;
    for (int j = 0; j < ad->n_attr; j++) xb_attr_free(&ad->attr[j]);
    free(ad->attr);
    ad->attr = cv->attr, ad->n_attr = cv->n_attr;
    cv->attr = NULL, cv->n_attr = 0;
    char *nm = ad->name; /* messages name the conv */
    ad->name = cv->name, cv->name = nm;
    if (r >= 0) XB_TRY(push_relu_attr(ad, ctx));
    XB_TRY(retype_xbar_conv(ad, ctx));
    g->tensors[cv->out[0]].producer = -1;
    if (r >= 0) {
        move_output(g, ad, a, ad->out[0], g->nodes[r].out[0]);
        rm[r] = true;
    }
    rm[c] = true;
    return XB_OK;
}

/* Fuse Conv i with what reads it, if anything fits; *did tells. */
static xb_status fuse_at(xb_graph *g, int i, bool *rm, bool *did, xb_ctx *ctx) {
    *did = false;
    const xb_node *cv = &g->nodes[i];
    if (!xb_node_is_onnx(cv, "Conv") || cv->n_out != 1 || cv->out[0] < 0 || cv->n_in > 3) return XB_OK;
    int y = cv->out[0];
    if (g->tensors[y].dtype != XB_F32) return XB_OK;
    int r = xb_pass_only_reader(g, y);
    if (r < 0 || rm[r]) return XB_OK;
    const xb_node *rd = &g->nodes[r];
    if (xb_node_is_onnx(rd, "Relu") && rd->n_in == 1 && rd->n_out == 1 && rd->out[0] >= 0) {
        *did = true;
        return fuse_relu(g, i, r, rm, ctx);
    }
    int res = xb_pass_residual_of(g, rd, y);
    if (res < 0) return XB_OK;
    int r2 = xb_pass_only_reader(g, rd->out[0]);
    if (r2 >= 0 && (rm[r2] || !xb_node_is_onnx(&g->nodes[r2], "Relu") || g->nodes[r2].n_in != 1 ||
                    g->nodes[r2].n_out != 1 || g->nodes[r2].out[0] < 0))
        r2 = -1;
    *did = true;
    return fuse_add(g, i, r, res, r2, rm, ctx);
}

xb_status xb_pass_fuse_conv_relu(xb_graph *g, int *count, xb_ctx *ctx) {
    int fused = 0;
    if (count) *count = 0;
    bool *rm = xb_calloc(ctx, (size_t)g->n_nodes + 1, 1);
    if (!rm) return ctx->status;
    xb_status st = XB_OK;
    for (int i = 0; i < g->n_nodes && st == XB_OK; i++) {
        bool did;
        st = fuse_at(g, i, rm, &did, ctx);
        fused += did;
    }
    if (st == XB_OK && fused) xb_graph_remove_nodes(g, rm);
    free(rm);
    if (count) *count = fused;
    return st;
}

xb_status xb_float_run_graph(const xb_graph *g, xb_graph **out, xb_ctx *ctx) {
    *out = NULL;
    if (g->n_inputs < 1) return XB_OK;
    xb_graph *c = xb_graph_clone(g, ctx);
    if (!c) return ctx->status;
    const xb_tensor *in = &g->tensors[g->inputs[0]];
    int n = 0;
    xb_status st = xb_pass_fuse_conv_relu(c, &n, ctx);
    if (st == XB_OK && n > 0)
        st = xb_graph_prepare(c, in->shape.rank > 0 ? in->shape.d[0] : 1, ctx);
    if (st != XB_OK || n == 0) {
        xb_graph_free(c);
        return st;
    }
    *out = c;
    return XB_OK;
}
