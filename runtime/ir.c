#include "runtime/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t xb_dtype_size(xb_dtype t) {
    switch (t) {
    case XB_F32: return 4;
    case XB_U8: return 1;
    case XB_I8: return 1;
    case XB_I32: return 4;
    case XB_I64: return 8;
    case XB_BOOL: return 1;
    case XB_UNDEF: break;
    }
    return 0;
}

const char *xb_dtype_name(xb_dtype t) {
    switch (t) {
    case XB_F32: return "f32";
    case XB_U8: return "u8";
    case XB_I8: return "i8";
    case XB_I32: return "i32";
    case XB_I64: return "i64";
    case XB_BOOL: return "bool";
    case XB_UNDEF: break;
    }
    return "undef";
}

int64_t xb_shape_numel(const xb_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

bool xb_shape_eq(const xb_shape *a, const xb_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

char *xb_shape_str(const xb_shape *s, char *buf, size_t n) {
    size_t off = 0;
    off += (size_t)snprintf(buf + off, n - off, "[");
    for (int i = 0; i < s->rank && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, i ? ",%lld" : "%lld", (long long)s->d[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

xb_graph *xb_graph_new(const struct xb_op_set *ops, xb_ctx *ctx) {
    xb_graph *g = xb_calloc(ctx, 1, sizeof(xb_graph));
    if (g) g->ops = ops;
    return g;
}

static void qparams_free(xb_qparams *q) {
    free(q->scale);
    free(q->zero_point);
    memset(q, 0, sizeof *q);
}

void xb_tensor_free_data(xb_tensor *t) {
    free(t->data);
    t->data = NULL;
    t->is_const = false;
}

void xb_tensor_set_const(xb_tensor *t, void *data) {
    free(t->data);
    t->data = data;
    t->is_const = true;
    t->shape_known = true;
}

void xb_attr_free(xb_attr *a) {
    free(a->name);
    free(a->s);
    free(a->floats);
    free(a->ints);
    for (int i = 0; a->strings && i < a->n; i++) free(a->strings[i]);
    free(a->strings);
    if (a->t) {
        free(a->t->name);
        free(a->t->data);
        qparams_free(&a->t->q);
        free(a->t);
    }
    memset(a, 0, sizeof *a);
}

static void node_free(xb_node *n) {
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->in);
    free(n->out);
    for (int i = 0; i < n->n_attr; i++) xb_attr_free(&n->attr[i]);
    free(n->attr);
    xb_node_free_params(n);
}

void xb_graph_free(xb_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
        free(g->tensors[i].data);
        qparams_free(&g->tensors[i].q);
    }
    free(g->tensors);
    for (int i = 0; i < g->n_nodes; i++) node_free(&g->nodes[i]);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    for (int i = 0; i < g->n_meta; i++) {
        free(g->meta[i].key);
        free(g->meta[i].value);
    }
    free(g->meta);
    free(g->path);
    free(g->producer);
    free(g);
}

static int grow(void **p, int *cap, int need, size_t elem, xb_ctx *ctx) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, (size_t)nc * elem);
    if (!np) {
        xb_fail(ctx, XB_ERR_NOMEM, "out of memory growing graph");
        return -1;
    }
    memset((char *)np + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *p = np;
    *cap = nc;
    return 0;
}

int xb_graph_add_tensor(xb_graph *g, const char *name, xb_dtype dt, const xb_shape *shape,
                        xb_ctx *ctx) {
    if (grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(xb_tensor), ctx))
        return -1;
    xb_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = xb_strdup(ctx, name ? name : "");
    if (!t->name) return -1;
    t->dtype = dt;
    if (shape) t->shape = *shape;
    t->producer = -1;
    return g->n_tensors++;
}

int xb_graph_find_tensor(const xb_graph *g, const char *name) {
    for (int i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return i;
    return -1;
}

int xb_graph_add_node(xb_graph *g, const char *name, const char *op_type, const char *domain,
                      int opset, const int *in, int n_in, const int *out, int n_out, xb_ctx *ctx) {
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(xb_node), ctx)) return -1;
    xb_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = -1;
    n->opset = opset;
    n->name = xb_strdup(ctx, name ? name : "");
    n->op_type = xb_strdup(ctx, op_type);
    n->domain = xb_strdup(ctx, domain ? domain : "");
    n->in = xb_calloc(ctx, (size_t)(n_in > 0 ? n_in : 1), sizeof(int));
    n->out = xb_calloc(ctx, (size_t)(n_out > 0 ? n_out : 1), sizeof(int));
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        node_free(n);
        return -1;
    }
    if (n_in) memcpy(n->in, in, (size_t)n_in * sizeof(int));
    if (n_out) memcpy(n->out, out, (size_t)n_out * sizeof(int));
    n->n_in = n_in;
    n->n_out = n_out;
    int idx = g->n_nodes++;
    for (int i = 0; i < n_out; i++)
        if (out[i] >= 0) g->tensors[out[i]].producer = idx;
    return idx;
}

const char *xb_graph_meta(const xb_graph *g, const char *key) {
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, key) == 0) return g->meta[i].value;
    return NULL;
}

xb_status xb_graph_set_meta(xb_graph *g, const char *key, const char *value, xb_ctx *ctx) {
    for (int i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, key) == 0) {
            char *v = xb_strdup(ctx, value);
            if (!v) return ctx->status;
            free(g->meta[i].value);
            g->meta[i].value = v;
            return XB_OK;
        }
    xb_meta *m = realloc(g->meta, (size_t)(g->n_meta + 1) * sizeof *m);
    if (!m) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    g->meta = m;
    m[g->n_meta].key = xb_strdup(ctx, key);
    m[g->n_meta].value = xb_strdup(ctx, value);
    if (!m[g->n_meta].key || !m[g->n_meta].value) {
        free(m[g->n_meta].key);
        free(m[g->n_meta].value);
        return ctx->status;
    }
    g->n_meta++;
    return XB_OK;
}

static void fix_producers(xb_graph *g) {
    for (int i = 0; i < g->n_tensors; i++) g->tensors[i].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) g->tensors[g->nodes[i].out[j]].producer = i;
}

void xb_graph_remove_nodes(xb_graph *g, const bool *remove) {
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (remove[i]) {
            node_free(&g->nodes[i]);
            continue;
        }
        if (w != i) g->nodes[w] = g->nodes[i];
        w++;
    }
    g->n_nodes = w;
    fix_producers(g);
}

int xb_graph_consumers(const xb_graph *g, int t) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == t) c++;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) c++;
    return c;
}

/* Min-heap of node indices: the ready node written first runs first. */
static void heap_push(int *h, int *n, int v) {
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static int heap_pop(int *h, int *n) {
    int top = h[0], v = h[--(*n)], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = v;
    return top;
}

xb_status xb_graph_toposort(xb_graph *g, xb_ctx *ctx) {
    /* Kahn's algorithm, always taking the ready node that comes first in
     * the file: an already-sorted graph (the usual case) keeps the order the
     * exporter wrote, and any order costs O(edges log nodes).  Edges run
     * from a tensor to each node input waiting for it (CSR: head/adj). */
    int nn = g->n_nodes, nt = g->n_tensors;
    bool *avail = xb_calloc(ctx, (size_t)nt + 1, 1);
    bool *done = xb_calloc(ctx, (size_t)nn + 1, 1);
    xb_node *sorted = xb_calloc(ctx, (size_t)nn + 1, sizeof(xb_node));
    int *missing = xb_calloc(ctx, (size_t)nn + 1, sizeof(int));
    int *head = xb_calloc(ctx, (size_t)nt + 2, sizeof(int));
    int *heap = xb_calloc(ctx, (size_t)nn + 1, sizeof(int));
    int *adj = NULL;
    int count = 0, edges = 0, nh = 0;
    xb_status st = XB_OK;
    if (!avail || !done || !sorted || !missing || !head || !heap) goto nomem;
    for (int t = 0; t < nt; t++)
        if (g->tensors[t].is_const) avail[t] = true;
    for (int i = 0; i < g->n_inputs; i++) avail[g->inputs[i]] = true;
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int t = g->nodes[i].in[j];
            if (t < 0 || avail[t]) continue;
            head[t + 1]++;
            missing[i]++;
            edges++;
        }
    for (int t = 0; t < nt; t++) head[t + 1] += head[t];
    adj = xb_calloc(ctx, (size_t)edges + 1, sizeof(int));
    if (!adj) goto nomem;
    {
        /* Fill with head[t] as the cursor, then shift back. */
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++) {
                int t = g->nodes[i].in[j];
                if (t >= 0 && !avail[t]) adj[head[t]++] = i;
            }
        for (int t = nt; t > 0; t--) head[t] = head[t - 1];
        head[0] = 0;
    }
    for (int i = 0; i < nn; i++)
        if (!missing[i]) heap_push(heap, &nh, i);
    while (nh) {
        int i = heap_pop(heap, &nh);
        const xb_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_out; j++) {
            int t = n->out[j];
            if (t < 0 || avail[t]) continue;
            avail[t] = true;
            for (int e = head[t]; e < head[t + 1]; e++)
                if (--missing[adj[e]] == 0) heap_push(heap, &nh, adj[e]);
        }
        sorted[count++] = *n;
        done[i] = true;
    }
    if (count < nn) {
        /* Name the first stuck node and the input it waits for: either nothing
         * produces it (undefined input) or its producer is stuck too (cycle). */
        for (int i = 0; i < nn && st == XB_OK; i++) {
            if (done[i]) continue;
            const xb_node *n = &g->nodes[i];
            for (int j = 0; j < n->n_in; j++) {
                int t = n->in[j];
                if (t < 0 || avail[t]) continue;
                bool produced = false;
                for (int k = 0; k < nn && !produced; k++)
                    for (int o = 0; o < g->nodes[k].n_out; o++)
                        if (g->nodes[k].out[o] == t) produced = true;
                st = xb_fail(ctx, XB_ERR_INVALID,
                             produced ? "node '%s' (%s) is on a cycle through tensor '%s'"
                                      : "node '%s' (%s) reads undefined tensor '%s'",
                             n->name, n->op_type, g->tensors[t].name);
                break;
            }
        }
        if (st == XB_OK) st = xb_fail(ctx, XB_ERR_INVALID, "graph has a cycle");
    } else {
        if (nn) memcpy(g->nodes, sorted, (size_t)nn * sizeof(xb_node)); /* nodes is NULL when empty */
        fix_producers(g);
    }
    if (0) {
    nomem:
        st = ctx->status != XB_OK ? ctx->status : XB_ERR_NOMEM;
    }
    free(avail);
    free(done);
    free(sorted);
    free(missing);
    free(head);
    free(heap);
    free(adj);
    return st;
}

const xb_attr *xb_attr_find(const xb_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0) return &n->attr[i];
    return NULL;
}

int64_t xb_attr_int(const xb_node *n, const char *name, int64_t dflt) {
    const xb_attr *a = xb_attr_find(n, name);
    return (a && a->type == XB_ATTR_INT) ? a->i : dflt;
}

float xb_attr_float(const xb_node *n, const char *name, float dflt) {
    const xb_attr *a = xb_attr_find(n, name);
    if (!a) return dflt;
    if (a->type == XB_ATTR_FLOAT) return a->f;
    if (a->type == XB_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *xb_attr_str(const xb_node *n, const char *name, const char *dflt) {
    const xb_attr *a = xb_attr_find(n, name);
    return (a && a->type == XB_ATTR_STRING && a->s) ? a->s : dflt;
}

int xb_attr_ints(const xb_node *n, const char *name, const int64_t **vals) {
    const xb_attr *a = xb_attr_find(n, name);
    if (!a || a->type != XB_ATTR_INTS) return -1;
    *vals = a->ints;
    return a->n;
}

bool xb_domain_is_onnx(const char *d) { return d[0] == '\0' || strcmp(d, "ai.onnx") == 0; }

bool xb_node_is_onnx(const xb_node *n, const char *op_type) {
    return strcmp(n->op_type, op_type) == 0 && xb_domain_is_onnx(n->domain);
}

void xb_node_free_params(xb_node *n) {
    if (n->params) {
        if (n->params_free)
            n->params_free(n->params);
        else
            free(n->params);
    }
    n->params = NULL;
    n->params_free = NULL;
}
