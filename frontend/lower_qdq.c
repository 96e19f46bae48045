/* QDQ lowering: QuantizeLinear -> DequantizeLinear -> Conv/Gemm/MatMul with
 * a DequantizeLinear'd constant int8 weight becomes one XbarQConv / XbarQGemm
 * (contract in kernels/qlayer.h).
 *
 * Pattern, as PyTorch 1.13 exports eager-mode quantized models (opset 13):
 *
 *   x(f32) -> QuantizeLinear(s, zp) -> [Cast to the same type]* ->
 *             DequantizeLinear(s', zp') -> Conv/Gemm(.., W, B)
 *   W = DequantizeLinear(const int8, w_scale (scalar or per axis), 0)
 *   B = DequantizeLinear(const int32, s_x * s_w, 0) or a float constant
 *
 * The activation Q/DQ pair must agree (s == s', zp == zp'); then
 * DQ(Q(x)) = (clamp(round(x/s) + zp) - zp) * s, which is what the matrix
 * layer computes from x itself, so the layer reads x and the pair becomes
 * dead unless something else reads it.  int8 activations (zp in
 * [-128,127]) are handled by shifting to unsigned codes: code = q + 128 and
 * zp + 128 give the same q - zp, and the clamp range [-128,127] maps to
 * [0,255] (x_bits 8).
 *
 * Weight DequantizeLinear nodes have only constant inputs, so the first
 * prepare folds them into float constants; xb_pass_record_const_dq records
 * them beforehand (xb_dq_table) so the int8 codes and scales are found here.
 * Anything that does not match stays as plain QuantizeLinear /
 * DequantizeLinear ops, which run as such.  x_bits and w_bits are 8 unless
 * the graph shows fewer (a Clip before the activation QuantizeLinear,
 * binary +/-1 weight codes: frontend/qdq_bits.c).
 *
 * One deliberate inexactness: the matrix-layer contract promises symmetric
 * weights (|w| <= 127 for 8 bits, because the crossbar maps w onto a
 * symmetric conductance pair), but PyTorch's qint8 symmetric observer uses
 * scale = max|w| / 127.5 and so can emit -128 for the most negative weight.
 * Such codes are clamped to -127 (an error of one step on those weights
 * only, usually one or two per tensor); the clamped count is kept in graph
 * metadata "xbar.qdq_clamped_weights" so it is visible, not silent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/registry.h"
#include "frontend/onnx_internal.h"

static const xb_node *producer(const xb_graph *g, int t) {
    if (t < 0 || g->tensors[t].producer < 0) return NULL;
    return &g->nodes[g->tensors[t].producer];
}

static bool const_scalar_f32(const xb_graph *g, int t, float *v) {
    if (t < 0) return false;
    const xb_tensor *x = &g->tensors[t];
    if (!x->is_const || !x->data || x->dtype != XB_F32 || xb_shape_numel(&x->shape) != 1) return false;
    *v = *(const float *)x->data;
    return isfinite(*v) && *v > 0.0f;
}

/* Zero point as an int; absent means 0 of type uint8 (ONNX Q/DQ default). */
static bool const_zp(const xb_graph *g, int t, int32_t *v, xb_dtype *dt) {
    if (t < 0) {
        *v = 0;
        *dt = XB_U8;
        return true;
    }
    const xb_tensor *x = &g->tensors[t];
    if (!x->is_const || !x->data || xb_shape_numel(&x->shape) != 1) return false;
    if (x->dtype == XB_U8)
        *v = *(const uint8_t *)x->data;
    else if (x->dtype == XB_I8)
        *v = *(const int8_t *)x->data;
    else
        return false;
    *dt = x->dtype;
    return true;
}

/* The activation side: `t` is what the matrix op reads.  On a match returns
 * the float tensor fed to the QuantizeLinear, with scale and the unsigned
 * zero point. */
static int match_activation(const xb_graph *g, int t, float *scale, int32_t *zp) {
    const xb_node *dq = producer(g, t);
    if (!dq || !xb_node_is_onnx(dq, "DequantizeLinear") || dq->n_in < 2 || dq->in[0] < 0) return -1;
    float s_dq, s_q;
    int32_t zp_dq, zp_q;
    xb_dtype zt_dq, zt_q;
    if (!const_scalar_f32(g, dq->in[1], &s_dq)) return -1;
    if (!const_zp(g, dq->n_in >= 3 ? dq->in[2] : -1, &zp_dq, &zt_dq)) return -1;
    int codes = dq->in[0];
    /* PyTorch inserts Cast(to=UINT8) between the pair: a no-op on uint8. */
    for (int hop = 0; hop < 8; hop++) {
        const xb_node *c = producer(g, codes);
        if (!c || !xb_node_is_onnx(c, "Cast") || c->n_in != 1 || c->in[0] < 0) break;
        if (g->tensors[c->in[0]].dtype != g->tensors[codes].dtype) return -1;
        codes = c->in[0];
    }
    const xb_node *q = producer(g, codes);
    if (!q || !xb_node_is_onnx(q, "QuantizeLinear") || q->n_in < 2 || q->in[0] < 0) return -1;
    if (!const_scalar_f32(g, q->in[1], &s_q)) return -1;
    if (!const_zp(g, q->n_in >= 3 ? q->in[2] : -1, &zp_q, &zt_q)) return -1;
    if (s_q != s_dq || zp_q != zp_dq || zt_q != zt_dq) return -1;
    if (g->tensors[codes].dtype != zt_q) return -1;
    int x = q->in[0];
    if (g->tensors[x].dtype != XB_F32) return -1;
    *scale = s_q;
    *zp = zt_q == XB_I8 ? zp_q + 128 : zp_q;
    return x;
}

static const xb_dq_record *find_record(const xb_dq_table *tab, int t) {
    for (int i = 0; i < tab->n; i++)
        if (tab->r[i].out == t) return &tab->r[i];
    return NULL;
}

/* The weight side: `t` must be a recorded DequantizeLinear of a constant int8
 * tensor with zero zero points.  `chan_axis` is the weight axis that indexes
 * output channels; per-axis scales are accepted only along it.  Fills
 * scale[0..nchan) (per tensor scales are broadcast). */
static const xb_tensor *match_weight(const xb_graph *g, const xb_dq_table *tab, int t, int chan_axis,
                                     int64_t nchan, float *scale) {
    const xb_dq_record *r = find_record(tab, t);
    if (!r) return NULL;
    const xb_tensor *q = &g->tensors[r->q];
    if (!q->is_const || !q->data || q->dtype != XB_I8) return NULL;
    const xb_tensor *s = &g->tensors[r->scale];
    if (!s->is_const || !s->data || s->dtype != XB_F32) return NULL;
    int64_t ns = xb_shape_numel(&s->shape);
    if (r->zp >= 0) {
        const xb_tensor *z = &g->tensors[r->zp];
        if (!z->is_const || !z->data || z->dtype != XB_I8 || xb_shape_numel(&z->shape) != ns) return NULL;
        for (int64_t i = 0; i < ns; i++)
            if (((const int8_t *)z->data)[i] != 0) return NULL;
    }
    const float *sv = s->data;
    if (ns == 1) {
        for (int64_t i = 0; i < nchan; i++) scale[i] = sv[0];
    } else {
        int axis = r->axis < 0 ? r->axis + q->shape.rank : r->axis;
        if (axis != chan_axis || ns != nchan || s->shape.rank != 1) return NULL;
        for (int64_t i = 0; i < nchan; i++) scale[i] = sv[i];
    }
    for (int64_t i = 0; i < nchan; i++)
        if (!isfinite(scale[i]) || scale[i] <= 0.0f) return NULL;
    return q;
}

static xb_status add_attr(xb_node *n, const char *name, xb_attr_type type, float f, int64_t i,
                          xb_ctx *ctx) {
    xb_attr *a = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof *a);
    if (!a) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    n->attr = a;
    xb_attr *x = &a[n->n_attr];
    memset(x, 0, sizeof *x);
    x->name = xb_strdup(ctx, name);
    if (!x->name) return ctx->status;
    x->type = type;
    x->f = f;
    x->i = i;
    n->n_attr++;
    return XB_OK;
}

static void drop_attrs(xb_node *n) {
    for (int i = 0; i < n->n_attr; i++) xb_attr_free(&n->attr[i]);
    free(n->attr);
    n->attr = NULL;
    n->n_attr = 0;
}

/* Turn node ni into the xbar op, in place (node order and name stay, so the
 * per-layer reports keep the exporter's layer names). */
static xb_status rewrite(xb_graph *g, int ni, int op, bool keep_attrs, int x, int w, int ws,
                         int b, float x_scale, int32_t x_zp, xb_ctx *ctx) {
    xb_node *n = &g->nodes[ni];
    char *ot = xb_strdup(ctx, xb_ops[op].op_type), *dom = xb_strdup(ctx, xb_ops[op].domain);
    int *in = xb_calloc(ctx, 4, sizeof(int));
    if (!ot || !dom || !in) {
        free(ot);
        free(dom);
        free(in);
        return ctx->status;
    }
    free(n->op_type);
    free(n->domain);
    free(n->in);
    n->op_type = ot;
    n->domain = dom;
    n->in = in;
    in[0] = x;
    in[1] = w;
    in[2] = ws;
    in[3] = b;
    n->n_in = b >= 0 ? 4 : 3;
    n->opset = xb_ops[op].since;
    n->op = -1;
    if (n->params) {
        if (n->params_free)
            n->params_free(n->params);
        else
            free(n->params);
        n->params = NULL;
        n->params_free = NULL;
    }
    if (!keep_attrs) drop_attrs(n);
    XB_TRY(add_attr(n, "x_scale", XB_ATTR_FLOAT, x_scale, 0, ctx));
    XB_TRY(add_attr(n, "x_zero_point", XB_ATTR_INT, 0, x_zp, ctx));
    XB_TRY(add_attr(n, "x_bits", XB_ATTR_INT, 0, 8, ctx));
    XB_TRY(add_attr(n, "w_bits", XB_ATTR_INT, 0, 8, ctx));
    return XB_OK;
}

/* New const f32 [n] tensor from data (ownership taken). */
static int new_vec(xb_graph *g, const char *base, const char *suffix, float *data, int64_t n,
                   xb_ctx *ctx) {
    xb_shape s = {.rank = 1, .d = {n}};
    int t = xb_pass_unique_tensor(g, base, suffix, XB_F32, &s, ctx);
    if (t < 0) {
        free(data);
        return -1;
    }
    xb_tensor_set_const(&g->tensors[t], data);
    return t;
}

/* If the int8 codes in tensor *wq contain -128, replace *wq by a clamped
 * copy (the original may be shared by other layers or outputs). */
static xb_status symmetric_copy(xb_graph *g, int *wq, int64_t *clamped, xb_ctx *ctx) {
    const xb_tensor *q = &g->tensors[*wq];
    int64_t n = xb_shape_numel(&q->shape), bad = 0;
    for (int64_t i = 0; i < n; i++) bad += ((const int8_t *)q->data)[i] == -128;
    if (!bad) return XB_OK;
    int8_t *c = xb_malloc(ctx, (size_t)n + 1);
    if (!c) return ctx->status;
    for (int64_t i = 0; i < n; i++) {
        int8_t v = ((const int8_t *)q->data)[i];
        c[i] = v == -128 ? -127 : v;
    }
    xb_shape s = q->shape;
    char base[300];
    snprintf(base, sizeof base, "%s", q->name);
    int t = xb_pass_unique_tensor(g, base, "_sym", XB_I8, &s, ctx);
    if (t < 0) {
        free(c);
        return ctx->status;
    }
    xb_tensor_set_const(&g->tensors[t], c);
    *wq = t;
    *clamped += bad;
    return XB_OK;
}

static xb_status lower_conv(xb_graph *g, const xb_dq_table *tab, int ni, bool *done,
                            int64_t *clamped, xb_ctx *ctx) {
    *done = false;
    const xb_node *n = &g->nodes[ni];
    if (n->n_in < 2 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0) return XB_OK;
    const xb_tensor *wf = &g->tensors[n->in[1]];
    if (wf->shape.rank != 4 || g->tensors[n->in[0]].shape.rank != 4) return XB_OK; /* 2-D only */
    int64_t cout = wf->shape.d[0];
    float xs;
    int32_t xzp;
    int x = match_activation(g, n->in[0], &xs, &xzp);
    if (x < 0) return XB_OK;
    float *ws = xb_malloc(ctx, (size_t)cout * sizeof(float) + 1);
    if (!ws) return ctx->status;
    const xb_tensor *q = match_weight(g, tab, n->in[1], 0, cout, ws);
    int bias = n->n_in >= 3 ? n->in[2] : -1;
    if (!q || !xb_shape_eq(&q->shape, &wf->shape) ||
        (bias >= 0 && (!g->tensors[bias].is_const || g->tensors[bias].dtype != XB_F32 ||
                       xb_shape_numel(&g->tensors[bias].shape) != cout))) {
        free(ws);
        return XB_OK;
    }
    int wq = (int)(q - g->tensors);
    if (symmetric_copy(g, &wq, clamped, ctx) != XB_OK) {
        free(ws);
        return ctx->status;
    }
    int wst = new_vec(g, n->name, "_w_scale", ws, cout, ctx);
    if (wst < 0) return ctx->status;
    *done = true;
    int xbits = xb_qdq_x_bits(g, x, xs, xzp), wbits = xb_qdq_w_bits(&g->tensors[wq]);
    XB_TRY(rewrite(g, ni, XB_OP_XbarQConv, true, x, wq, wst, bias, xs, xzp, ctx));
    xb_qdq_set_bits(&g->nodes[ni], xbits, wbits);
    return XB_OK;
}

/* Gemm (transA 0) and MatMul with a 2-D weight: y = x W (+ C). */
static xb_status lower_gemm(xb_graph *g, const xb_dq_table *tab, int ni, bool is_matmul, bool *done,
                            int64_t *clamped, xb_ctx *ctx) {
    *done = false;
    const xb_node *n = &g->nodes[ni];
    if (n->n_in < 2 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0) return XB_OK;
    const xb_tensor *a = &g->tensors[n->in[0]], *wf = &g->tensors[n->in[1]];
    if (wf->shape.rank != 2) return XB_OK;
    bool transb = false;
    float alpha = 1.0f, beta = 1.0f;
    if (is_matmul) {
        if (a->shape.rank < 2) return XB_OK;
    } else {
        if (xb_attr_int(n, "transA", 0) != 0 || a->shape.rank != 2) return XB_OK;
        transb = xb_attr_int(n, "transB", 0) != 0;
        alpha = xb_attr_float(n, "alpha", 1.0f);
        beta = xb_attr_float(n, "beta", 1.0f);
        /* A negative alpha would need negated weights; not worth a path. */
        if (!(alpha > 0.0f) || !isfinite(alpha) || !isfinite(beta)) return XB_OK;
    }
    int64_t K = transb ? wf->shape.d[1] : wf->shape.d[0];
    int64_t N = transb ? wf->shape.d[0] : wf->shape.d[1];
    if (a->shape.d[a->shape.rank - 1] != K) return XB_OK;
    int c = (!is_matmul && n->n_in >= 3) ? n->in[2] : -1;
    const float *cv = NULL;
    int64_t cn = 0;
    if (c >= 0) {
        const xb_tensor *ct = &g->tensors[c];
        if (!ct->is_const || !ct->data || ct->dtype != XB_F32) return XB_OK;
        cn = xb_shape_numel(&ct->shape);
        /* C broadcasts to [M,N]; only a per-column (or scalar) C is a bias. */
        if (cn != 1 && !(cn == N && ct->shape.d[ct->shape.rank - 1] == N)) return XB_OK;
        cv = ct->data;
    }
    float xs;
    int32_t xzp;
    int x = match_activation(g, n->in[0], &xs, &xzp);
    if (x < 0) return XB_OK;
    float *ws = xb_malloc(ctx, (size_t)N * sizeof(float) + 1);
    if (!ws) return ctx->status;
    const xb_tensor *q = match_weight(g, tab, n->in[1], transb ? 0 : 1, N, ws);
    if (!q || !xb_shape_eq(&q->shape, &wf->shape)) {
        free(ws);
        return XB_OK;
    }
    for (int64_t i = 0; i < N; i++) ws[i] *= alpha;
    int qi = (int)(q - g->tensors);
    int wq = qi;
    const char *qname = q->name;
    if (!transb) {
        /* [K,N] -> [N,K]: one row of K weights per output, as the contract
         * (and a crossbar column) wants. */
        int8_t *wt = xb_malloc(ctx, (size_t)(N * K) + 1);
        if (!wt) {
            free(ws);
            return ctx->status;
        }
        const int8_t *src = q->data;
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++) wt[j * K + k] = src[k * N + j];
        xb_shape s = {.rank = 2, .d = {N, K}};
        char base[300];
        snprintf(base, sizeof base, "%s", qname);
        wq = xb_pass_unique_tensor(g, base, "_t", XB_I8, &s, ctx);
        if (wq < 0) {
            free(wt);
            free(ws);
            return ctx->status;
        }
        xb_tensor_set_const(&g->tensors[wq], wt);
    }
    if (symmetric_copy(g, &wq, clamped, ctx) != XB_OK) {
        free(ws);
        return ctx->status;
    }
    int bias = -1;
    if (c >= 0) {
        float *bd = xb_malloc(ctx, (size_t)N * sizeof(float) + 1);
        if (!bd) {
            free(ws);
            return ctx->status;
        }
        for (int64_t j = 0; j < N; j++) bd[j] = beta * cv[cn == 1 ? 0 : j];
        bias = new_vec(g, g->nodes[ni].name, "_bias", bd, N, ctx);
        if (bias < 0) {
            free(ws);
            return ctx->status;
        }
    }
    int wst = new_vec(g, g->nodes[ni].name, "_w_scale", ws, N, ctx);
    if (wst < 0) return ctx->status;
    *done = true;
    int xbits = xb_qdq_x_bits(g, x, xs, xzp), wbits = xb_qdq_w_bits(&g->tensors[wq]);
    XB_TRY(rewrite(g, ni, XB_OP_XbarQGemm, false, x, wq, wst, bias, xs, xzp, ctx));
    xb_qdq_set_bits(&g->nodes[ni], xbits, wbits);
    return XB_OK;
}

xb_status xb_pass_lower_qdq(xb_graph *g, const xb_dq_table *tab, int *count, xb_ctx *ctx) {
    int lowered = 0;
    int64_t clamped = 0;
    if (count) *count = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        bool done = false;
        xb_status st = XB_OK;
        if (xb_node_is_onnx(n, "Conv"))
            st = lower_conv(g, tab, i, &done, &clamped, ctx);
        else if (xb_node_is_onnx(n, "Gemm"))
            st = lower_gemm(g, tab, i, false, &done, &clamped, ctx);
        else if (xb_node_is_onnx(n, "MatMul"))
            st = lower_gemm(g, tab, i, true, &done, &clamped, ctx);
        if (st != XB_OK) {
            xb_ctx_prefix(ctx, "lowering node '%s'", g->nodes[i].name);
            return st;
        }
        if (done) lowered++;
    }
    if (clamped) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)clamped);
        XB_TRY(xb_graph_set_meta(g, "xbar.qdq_clamped_weights", v, ctx));
    }
    if (count) *count = lowered;
    return XB_OK;
}
