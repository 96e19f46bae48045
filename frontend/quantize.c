/* Post-training quantization (quantize.h).
 *
 * Three steps: find the matrix layers of the float graph, run the
 * calibration images through it to learn each layer's input range, then
 * rewrite a clone of the graph, node by node, into XbarQConv / XbarQGemm
 * and prepare it.  Node and tensor indices of a clone equal the original's,
 * so statistics gathered on the float graph apply to the clone directly. */
#include "frontend/quantize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx_internal.h"
#include "kernels/qmath.h"
#include "runtime/exec.h"

enum { L_CONV, L_GEMM, L_MATMUL };
enum { HIST_BINS = 4096 };

typedef struct {
    int node, kind, x;
    int64_t numel;   /* elements of the layer input per run */
    float mn, mx;    /* observed range */
    uint64_t *hist;  /* HIST_BINS counts over [mn, mx] (percentile only) */
    uint64_t count;
} layer;

xb_quant_opts xb_quant_opts_default(void) {
    return (xb_quant_opts){.w_bits = 8, .x_bits = 8, .calib_images = 100,
                           .method = XB_QUANT_MINMAX, .percentile = 99.99};
}

static bool const_f32(const xb_tensor *t) { return t && t->is_const && t->dtype == XB_F32 && t->data; }

/* Is node i a layer we quantize?  Anything unusual stays float rather than
 * failing: PTQ is an optimisation of whatever subset it understands. */
static int classify(const xb_graph *g, const xb_node *n) {
    const xb_tensor *x = xb_in_tc(g, n, 0), *w = xb_in_tc(g, n, 1);
    if (!x || x->dtype != XB_F32 || x->is_const || !const_f32(w) || n->n_out != 1) return -1;
    if (xb_node_is_onnx(n, "Conv")) {
        const xb_tensor *b = xb_in_tc(g, n, 2);
        if (x->shape.rank != 4 || w->shape.rank != 4) return -1;
        if (b && !(const_f32(b) && xb_shape_numel(&b->shape) == w->shape.d[0])) return -1;
        return L_CONV;
    }
    if (xb_node_is_onnx(n, "Gemm")) {
        if (xb_attr_int(n, "transA", 0) != 0 || x->shape.rank != 2 || w->shape.rank != 2) return -1;
        int64_t N = xb_attr_int(n, "transB", 0) ? w->shape.d[0] : w->shape.d[1];
        const xb_tensor *c = xb_in_tc(g, n, 2);
        if (c && xb_attr_float(n, "beta", 1.0f) != 0.0f) {
            int64_t cn = xb_shape_numel(&c->shape);
            /* Only a bias shared by all rows maps onto a per-output bias. */
            bool row = c->shape.rank <= 1 || (c->shape.rank == 2 && c->shape.d[0] == 1);
            if (!const_f32(c) || !row || (cn != 1 && cn != N)) return -1;
        }
        return L_GEMM;
    }
    if (xb_node_is_onnx(n, "MatMul")) {
        if (w->shape.rank != 2 || x->shape.rank < 1) return -1;
        return L_MATMUL;
    }
    return -1;
}

/* Minimum, maximum and whether every value is finite, of v[0..n), as a
 * vectorised reduction (a plain running min has a loop-carried
 * dependence and tests each value twice).  Which zero it returns when -0
 * and +0 tie is not the sequential loop's: the caller settles that
 * (merge_extreme).  c: f - f is +0 for a finite f and NaN otherwise, so the
 * sum stays 0 exactly when every value is finite. */
static bool simd_range(const float *v, int64_t n, float *lo_out, float *hi_out) {
    float lo = INFINITY, hi = -INFINITY, c = 0.0f;
#pragma omp simd reduction(min : lo) reduction(max : hi) reduction(+ : c)
    for (int64_t i = 0; i < n; i++) {
        float f = v[i];
        lo = f < lo ? f : lo;
        hi = f > hi ? f : hi;
        c += f - f;
    }
    *lo_out = lo;
    *hi_out = hi;
    return c == 0.0f;
}

/* The running extreme after `if (f < *m) *m = f` (or `>`) over v[0..n) in
 * order, given the vectorised extreme `ext` and whether it beats *m: only
 * -0 and +0 compare equal with other bits, so when the new extreme is a
 * zero the first zero of v is the one the sequential loop keeps. */
static void merge_extreme(float *m, float ext, bool beats, const float *v, int64_t n) {
    if (!beats) return;
    if (ext == 0.0f)
        for (int64_t i = 0; i < n; i++)
            if (v[i] == 0.0f) {
                ext = v[i];
                break;
            }
    *m = ext;
}

static xb_status observe(layer *L, const float *v, bool hist_pass, xb_ctx *ctx) {
    if (!hist_pass) {
        float lo, hi;
        if (!simd_range(v, L->numel, &lo, &hi))
            return xb_fail(ctx, XB_ERR_RUNTIME,
                           "calibration: non-finite value reaches a matrix layer");
        merge_extreme(&L->mn, lo, lo < L->mn, v, L->numel);
        merge_extreme(&L->mx, hi, hi > L->mx, v, L->numel);
        return XB_OK;
    }
    const double w = (double)L->mx - (double)L->mn;
    for (int64_t i = 0; i < L->numel; i++) {
        int64_t b = w > 0 ? (int64_t)(((double)v[i] - L->mn) / w * HIST_BINS) : 0;
        if (b < 0) b = 0;
        if (b >= HIST_BINS) b = HIST_BINS - 1;
        L->hist[b]++;
    }
    L->count += (uint64_t)L->numel;
    return XB_OK;
}

/* Range [lo, hi] holding `pct` percent of the values at each end (bin
 * edges, so the clipped tail is never larger than asked). */
static void percentile_range(const layer *L, double pct, float *lo, float *hi) {
    const double w = ((double)L->mx - (double)L->mn) / HIST_BINS;
    const double q = pct / 100.0;
    uint64_t want_hi = (uint64_t)ceil(q * (double)L->count);
    uint64_t want_lo = (uint64_t)floor((1.0 - q) * (double)L->count);
    uint64_t cum = 0;
    int blo = -1, bhi = HIST_BINS - 1;
    for (int b = 0; b < HIST_BINS; b++) {
        cum += L->hist[b];
        if (blo < 0 && cum > want_lo) blo = b;
        if (cum >= want_hi) {
            bhi = b;
            break;
        }
    }
    if (blo < 0) blo = 0;
    *lo = blo == 0 ? L->mn : (float)(L->mn + w * blo);
    *hi = bhi == HIST_BINS - 1 ? L->mx : (float)(L->mn + w * (bhi + 1));
}

static xb_status calibrate(const xb_graph *fg, const float *images, int n, layer *ls, int nl,
                           bool hist_pass, const volatile sig_atomic_t *cancel, xb_ctx *ctx) {
    xb_exec *e = xb_exec_new_keep(fg, ctx);
    if (!e) return ctx->status;
    const xb_tensor *in = &fg->tensors[fg->inputs[0]];
    const int64_t isz = xb_shape_numel(&in->shape);
    xb_status st = XB_OK;
    for (int i = 0; i < n && st == XB_OK; i++) {
        /* One image takes milliseconds, so this stops within a second. */
        if (cancel && *cancel) {
            xb_exec_free(e);
            return xb_fail(ctx, XB_ERR_INTERRUPTED,
                           "interrupted during quantization calibration (%d of %d images)", i, n);
        }
        memcpy(e->buf[fg->inputs[0]], images + (int64_t)i * isz, (size_t)isz * sizeof(float));
        st = xb_exec_run(e, ctx);
        /* All activation buffers survive the run, so every layer's input
         * can be read afterwards. */
        for (int l = 0; l < nl && st == XB_OK; l++)
            st = observe(&ls[l], (const float *)e->buf[ls[l].x], hist_pass, ctx);
    }
    xb_exec_free(e);
    if (st != XB_OK) xb_ctx_prefix(ctx, "quantize: calibration");
    return st;
}

/* --- rewriting ---------------------------------------------------------- */

static xb_attr *push_attr(xb_node *n, const char *name, xb_attr_type type, xb_ctx *ctx) {
    xb_attr *na = realloc(n->attr, (size_t)(n->n_attr + 1) * sizeof *na);
    if (!na) {
        xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->attr = na;
    xb_attr *a = &na[n->n_attr];
    memset(a, 0, sizeof *a);
    a->name = xb_strdup(ctx, name);
    if (!a->name) return NULL;
    a->type = type;
    n->n_attr++;
    return a;
}

/* A new constant tensor named "<node>/<what>" (made unique), owning data. */
static int new_const(xb_graph *g, const char *node, const char *what, xb_dtype dt, int rank,
                     const int64_t *dims, void *data, xb_ctx *ctx) {
    char name[512];
    snprintf(name, sizeof name, "%s/%s", node, what);
    for (int k = 2; xb_graph_find_tensor(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%s/%s_%d", node, what, k);
    xb_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = dims[i];
    int t = xb_graph_add_tensor(g, name, dt, &s, ctx);
    if (t < 0) {
        free(data);
        return -1;
    }
    xb_tensor_set_const(&g->tensors[t], data);
    return t;
}

/* Per-row symmetric quantization of wf [N][K] to `bits`. */
/* Binary weights (1 bit): w ~ s sign(w), 0 -> +1, with s = mean |w| per
 * row, the scale that minimises the squared error (Rastegari et al.,
 * XNOR-Net, ECCV 2016). */
static void binarize_rows(const float *wf, int64_t N, int64_t K, int8_t *wq, float *ws) {
    for (int64_t r = 0; r < N; r++) {
        double m = 0;
        for (int64_t k = 0; k < K; k++) m += fabsf(wf[r * K + k]);
        float s = K > 0 ? (float)(m / (double)K) : 0.0f;
        ws[r] = s > 0.0f && isfinite(s) ? s : 1.0f;
        for (int64_t k = 0; k < K; k++) wq[r * K + k] = wf[r * K + k] < 0.0f ? -1 : 1;
    }
}

static void quantize_rows(const float *wf, int64_t N, int64_t K, int bits, int8_t *wq, float *ws) {
    if (bits == 1) {
        binarize_rows(wf, N, K, wq, ws);
        return;
    }
    const int32_t qmax = (1 << (bits - 1)) - 1;
    for (int64_t r = 0; r < N; r++) {
        float m = 0.0f;
        for (int64_t k = 0; k < K; k++) m = fmaxf(m, fabsf(wf[r * K + k]));
        /* An all-zero row quantizes to zeros under any scale; 1 keeps the
         * scale positive and finite. */
        float s = m > 0.0f ? m / (float)qmax : 1.0f;
        ws[r] = s;
        for (int64_t k = 0; k < K; k++)
            wq[r * K + k] = (int8_t)xb_quantize1(wf[r * K + k], s, 0, -qmax, qmax);
    }
}

/* The layer's float weights as N rows of K (Gemm's alpha folded in) and
 * its bias (Gemm's beta folded in; NULL when it has none). */
static xb_status float_rows(const xb_graph *g, const layer *L, int64_t *N_out, int64_t *K_out,
                            float **wf_out, float **bias_out, xb_ctx *ctx) {
    const xb_node *n = &g->nodes[L->node];
    const xb_tensor *w = &g->tensors[n->in[1]];
    const float *wd = w->data;
    int64_t N, K;
    bool tb = L->kind == L_GEMM && xb_attr_int(n, "transB", 0) != 0;
    if (L->kind == L_CONV) {
        N = w->shape.d[0];
        K = w->shape.d[1] * w->shape.d[2] * w->shape.d[3];
    } else {
        N = tb ? w->shape.d[0] : w->shape.d[1];
        K = tb ? w->shape.d[1] : w->shape.d[0];
    }
    float *wf = xb_malloc(ctx, (size_t)(N * K) * sizeof(float) + 1), *bias = NULL;
    if (!wf) return ctx->status;
    const xb_tensor *b = L->kind != L_MATMUL ? xb_in_tc(g, n, 2) : NULL;
    float beta = L->kind == L_GEMM ? xb_attr_float(n, "beta", 1.0f) : 1.0f;
    if (b && beta != 0.0f) {
        bias = xb_malloc(ctx, (size_t)N * sizeof(float));
        if (!bias) {
            free(wf);
            return ctx->status;
        }
        const float *bd = b->data;
        int64_t bn = xb_shape_numel(&b->shape);
        for (int64_t r = 0; r < N; r++) bias[r] = beta * bd[bn == 1 ? 0 : r];
    }
    if (L->kind == L_CONV) {
        memcpy(wf, wd, (size_t)(N * K) * sizeof(float));
    } else {
        /* One row of K weights per output; Gemm's alpha and beta are folded
         * into the weights and the bias. */
        float alpha = L->kind == L_GEMM ? xb_attr_float(n, "alpha", 1.0f) : 1.0f;
        for (int64_t r = 0; r < N; r++)
            for (int64_t k = 0; k < K; k++) wf[r * K + k] = alpha * (tb ? wd[r * K + k] : wd[k * N + r]);
    }
    *N_out = N, *K_out = K, *wf_out = wf, *bias_out = bias;
    return XB_OK;
}

/* Turn node n into XbarQConv / XbarQGemm with inputs (x, wq, w_scale[,
 * bias]) and the activation attributes. */
static xb_status retype_node(xb_node *n, const layer *L, const xb_quant_opts *o, int tq, int ts,
                             int tb, float xs, int32_t zp, xb_ctx *ctx) {
    int x = n->in[0];
    int *in = realloc(n->in, 4 * sizeof(int));
    if (!in) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
    n->in = in;
    in[0] = x, in[1] = tq, in[2] = ts, in[3] = tb;
    n->n_in = tb >= 0 ? 4 : 3;
    char *op = xb_strdup(ctx, L->kind == L_CONV ? "XbarQConv" : "XbarQGemm");
    char *dom = xb_strdup(ctx, "xbar");
    if (!op || !dom) {
        free(op);
        free(dom);
        return ctx->status;
    }
    free(n->op_type);
    free(n->domain);
    n->op_type = op;
    n->domain = dom;
    n->opset = 1;
    if (L->kind != L_CONV) {
        /* alpha/beta/trans* are folded into the weights; XbarQGemm has none. */
        for (int i = 0; i < n->n_attr; i++) xb_attr_free(&n->attr[i]);
        n->n_attr = 0;
    }
    xb_attr *a;
    if (!(a = push_attr(n, "x_scale", XB_ATTR_FLOAT, ctx))) return ctx->status;
    a->f = xs;
    if (!(a = push_attr(n, "x_zero_point", XB_ATTR_INT, ctx))) return ctx->status;
    a->i = zp;
    if (!(a = push_attr(n, "x_bits", XB_ATTR_INT, ctx))) return ctx->status;
    a->i = o->x_bits;
    if (!(a = push_attr(n, "w_bits", XB_ATTR_INT, ctx))) return ctx->status;
    a->i = o->w_bits;
    return XB_OK;
}

static xb_status rewrite(xb_graph *g, const layer *L, const xb_quant_opts *o, float lo, float hi,
                         xb_ctx *ctx) {
    int64_t N = 0, K = 0;
    float *wf = NULL, *bias = NULL;
    XB_TRY(float_rows(g, L, &N, &K, &wf, &bias, ctx));
    int8_t *wq = xb_malloc(ctx, (size_t)(N * K) + 1);
    float *ws = xb_malloc(ctx, (size_t)N * sizeof(float) + 1);
    char *nname = NULL;
    if (!wq || !ws) goto fail;
    quantize_rows(wf, N, K, o->w_bits, wq, ws);
    free(wf);
    wf = NULL;

    /* Activation parameters: asymmetric unsigned over [lo, hi] with 0 in it. */
    const int32_t qx = (1 << o->x_bits) - 1;
    lo = fminf(lo, 0.0f);
    hi = fmaxf(hi, 0.0f);
    float xs = hi > lo ? (hi - lo) / (float)qx : 1.0f;
    if (!(xs > 0.0f) || !isfinite(xs)) xs = 1.0f;
    int32_t zp = (int32_t)xb_clampf(rintf(-lo / xs), 0.0f, (float)qx);

    const xb_tensor *w = &g->tensors[g->nodes[L->node].in[1]];
    int64_t wshape[4] = {N, K, 0, 0}, one[1] = {N};
    int wrank = L->kind == L_CONV ? 4 : 2;
    if (L->kind == L_CONV)
        for (int i = 0; i < 4; i++) wshape[i] = w->shape.d[i];
    nname = xb_strdup(ctx, g->nodes[L->node].name);
    if (!nname) goto fail;
    /* new_const takes ownership of the data even when it fails.  Adding
     * tensors may move g->tensors (so `w` is dead from here) but not
     * g->nodes. */
    const bool has_bias = bias != NULL;
    int tq = new_const(g, nname, "wq", XB_I8, wrank, wshape, wq, ctx);
    wq = NULL;
    if (tq < 0) goto fail;
    int ts = new_const(g, nname, "w_scale", XB_F32, 1, one, ws, ctx);
    ws = NULL;
    if (ts < 0) goto fail;
    int tb = -1;
    if (has_bias) {
        tb = new_const(g, nname, "bias", XB_F32, 1, one, bias, ctx);
        bias = NULL;
        if (tb < 0) goto fail;
    }
    free(nname);
    return retype_node(&g->nodes[L->node], L, o, tq, ts, tb, xs, zp, ctx);
fail:
    free(nname);
    free(wf);
    free(wq);
    free(ws);
    free(bias);
    return ctx->status;
}

/* Layer l's weight and activation bits: its entries, else the global ones. */
static void layer_bits(const xb_quant_opts *o, int l, int *w, int *x) {
    *w = o->w_bits;
    *x = o->x_bits;
    if (l >= XB_QUANT_MAX_LAYERS) return;
    if (o->layer_w_bits[l]) *w = o->layer_w_bits[l];
    if (o->layer_x_bits[l]) *x = o->layer_x_bits[l];
}

static bool mixed_precision(const xb_quant_opts *o, int nl) {
    for (int l = 0; l < nl && l < XB_QUANT_MAX_LAYERS; l++) {
        int w, x;
        layer_bits(o, l, &w, &x);
        if (w != o->w_bits || x != o->x_bits) return true;
    }
    return false;
}

xb_status xb_quantize(const xb_graph *fg, const float *images, int n, const xb_quant_opts *o,
                      xb_graph **out, xb_ctx *ctx) {
    *out = NULL;
    if (!o || o->w_bits < 1 || o->w_bits > 8 || o->x_bits < 2 || o->x_bits > 8)
        return xb_fail(ctx, XB_ERR_INVALID, "quantize: bit widths must be 2..8");
    for (int l = 0; l < XB_QUANT_MAX_LAYERS; l++)
        if ((o->layer_w_bits[l] && (o->layer_w_bits[l] < 2 || o->layer_w_bits[l] > 8)) ||
            (o->layer_x_bits[l] && (o->layer_x_bits[l] < 2 || o->layer_x_bits[l] > 8)))
            return xb_fail(ctx, XB_ERR_INVALID, "quantize: layer %d: bit widths must be 2..8", l);
    if (o->method != XB_QUANT_MINMAX && o->method != XB_QUANT_PERCENTILE)
        return xb_fail(ctx, XB_ERR_INVALID, "quantize: unknown calibration method %d", o->method);
    if (o->method == XB_QUANT_PERCENTILE && !(o->percentile > 50.0 && o->percentile <= 100.0))
        return xb_fail(ctx, XB_ERR_INVALID, "quantize: percentile %g must be in (50, 100]",
                       o->percentile);
    if (fg->n_inputs != 1 || fg->tensors[fg->inputs[0]].dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "quantize: the graph must have exactly one float input (has %d)",
                       fg->n_inputs);
    if (o->calib_images > 0 && n > o->calib_images) n = o->calib_images;
    if (n < 1 || !images)
        return xb_fail(ctx, XB_ERR_INVALID, "quantize: at least one calibration image is needed");

    int nl = 0;
    layer *ls = xb_calloc(ctx, (size_t)fg->n_nodes + 1, sizeof *ls);
    if (!ls) return ctx->status;
    for (int i = 0; i < fg->n_nodes; i++) {
        int kind = classify(fg, &fg->nodes[i]);
        if (kind < 0) continue;
        layer *L = &ls[nl++];
        L->node = i;
        L->kind = kind;
        L->x = fg->nodes[i].in[0];
        L->numel = xb_shape_numel(&fg->tensors[L->x].shape);
        L->mn = INFINITY;
        L->mx = -INFINITY;
    }
    xb_graph *qg = NULL;
    xb_status st = calibrate(fg, images, n, ls, nl, false, o->cancel, ctx);
    if (st == XB_OK && o->method == XB_QUANT_PERCENTILE) {
        for (int l = 0; l < nl && st == XB_OK; l++) {
            ls[l].hist = xb_calloc(ctx, HIST_BINS, sizeof(uint64_t));
            if (!ls[l].hist) st = ctx->status;
        }
        if (st == XB_OK) st = calibrate(fg, images, n, ls, nl, true, o->cancel, ctx);
    }
    if (st == XB_OK) {
        qg = xb_graph_clone(fg, ctx);
        if (!qg) st = ctx->status;
    }
    for (int l = 0; l < nl && st == XB_OK; l++) {
        float lo = ls[l].mn, hi = ls[l].mx;
        if (o->method == XB_QUANT_PERCENTILE) percentile_range(&ls[l], o->percentile, &lo, &hi);
        xb_quant_opts lo_ = *o; /* this layer's bits (mixed precision) */
        layer_bits(o, l, &lo_.w_bits, &lo_.x_bits);
        st = rewrite(qg, &ls[l], &lo_, lo, hi, ctx);
        if (st != XB_OK) xb_ctx_prefix(ctx, "quantize: node '%s'", fg->nodes[ls[l].node].name);
    }
    if (st == XB_OK) {
        char desc[96];
        const char *mixed = mixed_precision(o, nl) ? " mixed per layer" : "";
        if (o->method == XB_QUANT_PERCENTILE)
            snprintf(desc, sizeof desc, "w%da%d%s percentile %g, %d images", o->w_bits, o->x_bits,
                     mixed, o->percentile, n);
        else
            snprintf(desc, sizeof desc, "w%da%d%s minmax, %d images", o->w_bits, o->x_bits, mixed,
                     n);
        st = xb_graph_set_meta(qg, "xbar.quant", desc, ctx);
    }
    /* After every layer is rewritten: fusing removes nodes, which would
     * move the node indices the layers refer to. */
    if (st == XB_OK && !o->no_fuse) st = xb_pass_fuse_qresidual(qg, NULL, ctx);
    if (st == XB_OK && !o->no_fuse) st = xb_pass_fuse_qrelu(qg, NULL, ctx);
    if (st == XB_OK) st = xb_pass_chain_qcodes(qg, NULL, ctx);
    if (st == XB_OK) {
        const xb_tensor *in = &fg->tensors[fg->inputs[0]];
        st = xb_graph_prepare(qg, in->shape.rank > 0 ? in->shape.d[0] : 1, ctx);
        if (st != XB_OK) xb_ctx_prefix(ctx, "quantize: preparing the quantized graph");
    }
    for (int l = 0; l < nl; l++) free(ls[l].hist);
    free(ls);
    if (st != XB_OK) {
        xb_graph_free(qg);
        return st;
    }
    *out = qg;
    return XB_OK;
}

xb_status xb_quantize_default(const xb_graph *fg, const float *images, int n, xb_graph **out,
                              xb_ctx *ctx) {
    xb_quant_opts o = xb_quant_opts_default();
    return xb_quantize(fg, images, n, &o, out, ctx);
}
