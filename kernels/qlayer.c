/* Matrix-layer bookkeeping shared by XbarQConv and XbarQGemm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm.h"
#include "kernels/qlayer_impl.h"

static bool is_qlayer_op(int op) { return op == XB_OP_XbarQConv || op == XB_OP_XbarQGemm; }

int xb_qlayer_count(const xb_graph *g) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (is_qlayer_op(g->nodes[i].op) && g->nodes[i].params) c++;
    return c;
}

const xb_qlayer *xb_qlayer_get(const xb_graph *g, int index, const xb_node **node) {
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        if (!is_qlayer_op(n->op) || !n->params) continue;
        if (c++ == index) {
            if (node) *node = n;
            return &((const xb_qlayer_priv *)n->params)->q;
        }
    }
    if (node) *node = NULL;
    return NULL;
}

bool xb_qlayer_input_quant(const xb_graph *g, float *scale, int32_t *zp, int32_t *hi) {
    if (g->n_inputs < 1) return false;
    const int t = g->inputs[0];
    if (g->tensors[t].dtype != XB_F32 || xb_graph_consumers(g, t) != 1) return false;
    /* t has one use (xb_graph_consumers counts uses): the node whose x it is,
     * which must quantize it, or else a use this cannot serve */
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        if (n->n_in < 1 || n->in[0] != t) continue;
        const xb_qlayer_priv *pr = n->params;
        if (!is_qlayer_op(n->op) || !pr || pr->x_codes) return false;
        *scale = pr->q.x_scale, *zp = pr->q.x_zp, *hi = (1 << pr->q.x_bits) - 1;
        return true;
    }
    return false;
}

void xb_qlayer_priv_free(void *p) {
    xb_qlayer_priv *pr = p;
    if (!pr) return;
    free(pr->q.w_rowsum);
    free(pr->wpack);
    free(pr->wpack4);
    free(pr->xoff);
    free(pr->wpackt);
    free(pr->wshift);
    free(pr->mult);
    free(pr);
}

static xb_status const_input(xb_graph *g, xb_node *n, int i, const char *what, xb_dtype dt,
                             int64_t numel, bool optional, const xb_tensor **out, xb_ctx *ctx) {
    const xb_tensor *t = xb_in_t(g, n, i);
    *out = NULL;
    if (!t) {
        if (optional) return XB_OK;
        return xb_fail(ctx, XB_ERR_INVALID, "input %d (%s) is missing", i, what);
    }
    if (!t->is_const)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s '%s' must be a constant", what, t->name);
    if (t->dtype != dt)
        return xb_fail(ctx, XB_ERR_INVALID, "%s '%s' is %s, expected %s", what, t->name,
                       xb_dtype_name(t->dtype), xb_dtype_name(dt));
    if (numel >= 0 && xb_shape_numel(&t->shape) != numel)
        return xb_fail(ctx, XB_ERR_INVALID, "%s '%s' has %lld elements, expected %lld", what,
                       t->name, (long long)xb_shape_numel(&t->shape), (long long)numel);
    *out = t;
    return XB_OK;
}

static xb_status int_attr(const xb_node *n, const char *name, bool required, int64_t dflt,
                          int64_t lo, int64_t hi, int64_t *v, xb_ctx *ctx) {
    const xb_attr *a = xb_attr_find(n, name);
    if (!a) {
        if (required) return xb_fail(ctx, XB_ERR_INVALID, "attribute %s is required", name);
        *v = dflt;
    } else if (a->type != XB_ATTR_INT) {
        return xb_fail(ctx, XB_ERR_INVALID, "attribute %s must be an int", name);
    } else {
        *v = a->i;
    }
    if (*v < lo || *v > hi)
        return xb_fail(ctx, XB_ERR_INVALID, "attribute %s = %lld is outside %lld..%lld", name,
                       (long long)*v, (long long)lo, (long long)hi);
    return XB_OK;
}

/* A positive finite float attribute. */
static xb_status scale_attr(const xb_node *n, const char *name, float *v, xb_ctx *ctx) {
    const xb_attr *sa = xb_attr_find(n, name);
    if (!sa || sa->type != XB_ATTR_FLOAT)
        return xb_fail(ctx, XB_ERR_INVALID, "attribute %s (float) is required", name);
    if (!(sa->f > 0.0f) || !isfinite(sa->f))
        return xb_fail(ctx, XB_ERR_INVALID, "%s = %g must be positive and finite", name,
                       (double)sa->f);
    *v = sa->f;
    return XB_OK;
}

/* Output codes (attributes y_scale, y_zero_point, y_bits; set by
 * frontend/chain_qcodes.c): all or none. */
static xb_status output_codes(const xb_node *n, xb_qlayer_priv *pr, xb_ctx *ctx) {
    if (!xb_attr_find(n, "y_scale") && !xb_attr_find(n, "y_zero_point") &&
        !xb_attr_find(n, "y_bits"))
        return XB_OK;
    int64_t bits = 0, zp = 0;
    XB_TRY(scale_attr(n, "y_scale", &pr->y_scale, ctx));
    XB_TRY(int_attr(n, "y_bits", true, 8, 2, 8, &bits, ctx));
    XB_TRY(int_attr(n, "y_zero_point", true, 0, 0, (1 << bits) - 1, &zp, ctx));
    pr->y_codes = true;
    pr->y_fz = (float)zp;
    pr->y_fh = (float)((1 << bits) - 1);
    return XB_OK;
}

static bool is_code_carrier(const xb_node *m) {
    return xb_node_is_onnx(m, "MaxPool") || xb_node_is_onnx(m, "Flatten") ||
           xb_node_is_onnx(m, "Reshape") || xb_node_is_onnx(m, "Identity");
}

/* A u8 input x must hold codes below 2^x_bits (the backend indexes tables
 * by them): accept it only when it comes, through MaxPool / Flatten /
 * Reshape / Identity, from a matrix layer whose output codes have at most
 * x_bits bits. */
static xb_status check_codes_input(const xb_graph *g, const xb_node *n, int x_bits, xb_ctx *ctx) {
    int t = n->in[0];
    for (const xb_node *m = n - 1; m >= g->nodes; m--) {
        if (m->n_out < 1 || m->out[0] != t) continue;
        if (!strcmp(m->domain, "xbar") &&
            (!strcmp(m->op_type, "XbarQConv") || !strcmp(m->op_type, "XbarQGemm"))) {
            if (xb_attr_int(m, "y_bits", 0) >= 2 && xb_attr_int(m, "y_bits", 0) <= x_bits)
                return XB_OK;
            break;
        }
        if (!is_code_carrier(m) || m->n_in < 1) break;
        t = m->in[0];
    }
    return xb_fail(ctx, XB_ERR_INVALID,
                   "a u8 input x must be the codes of a quantized layer (attribute y_bits <= "
                   "x_bits = %d)", x_bits);
}

xb_status xb_qlayer_prepare_common(xb_graph *g, xb_node *n, xb_qlayer_priv *pr, xb_ctx *ctx) {
    xb_qlayer *q = &pr->q;
    int64_t bits = 0, zp = 0;
    XB_TRY(int_attr(n, "x_bits", false, 8, 2, 8, &bits, ctx));
    q->x_bits = (int)bits;
    /* w_bits 1 is binary: every weight is -1 or +1 (ORSS'23, docs/REPRODUCTION.md) */
    XB_TRY(int_attr(n, "w_bits", false, 8, 1, 8, &bits, ctx));
    q->w_bits = (int)bits;
    XB_TRY(int_attr(n, "x_zero_point", false, 0, 0, (1 << q->x_bits) - 1, &zp, ctx));
    int64_t relu = 0;
    XB_TRY(int_attr(n, "relu", false, 0, 0, 1, &relu, ctx));
    pr->relu = relu != 0;
    q->x_zp = (int32_t)zp;
    XB_TRY(scale_attr(n, "x_scale", &q->x_scale, ctx));
    XB_TRY(output_codes(n, pr, ctx));
    pr->x_codes = xb_in_t(g, n, 0)->dtype == XB_U8;
    if (pr->x_codes) XB_TRY(check_codes_input(g, n, q->x_bits, ctx));
    if (q->K > XB_IGEMM_KMAX)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "a dot product of %lld terms could overflow the int32 accumulator (max %d)",
                       (long long)q->K, XB_IGEMM_KMAX);

    int64_t rows = (int64_t)q->groups * q->N;
    const xb_tensor *ws, *bias;
    XB_TRY(const_input(g, n, 2, "w_scale", XB_F32, rows, false, &ws, ctx));
    XB_TRY(const_input(g, n, 3, "bias", XB_F32, rows, true, &bias, ctx));
    q->w_scale = ws->data;
    q->bias = bias ? bias->data : NULL;
    for (int64_t r = 0; r < rows; r++)
        if (!isfinite(q->w_scale[r]))
            return xb_fail(ctx, XB_ERR_INVALID, "w_scale[%lld] is not finite", (long long)r);

    /* The backend maps each weight onto a symmetric conductance range, so
     * the contract promises |w| <= 2^(w_bits-1) - 1; enforce it here rather
     * than let a crossbar silently clip. */
    int32_t wmax = q->w_bits == 1 ? 1 : (1 << (q->w_bits - 1)) - 1;
    int64_t nw = rows * q->K;
    for (int64_t i = 0; i < nw; i++)
        if (q->w[i] > wmax || q->w[i] < -wmax || (q->w_bits == 1 && q->w[i] == 0))
            return xb_fail(ctx, XB_ERR_INVALID,
                           q->w_bits == 1 ? "weight %lld = %d is not binary (%d-bit weights are -%d or +%d)"
                                          : "weight %lld = %d is outside the symmetric %d-bit range -%d..%d",
                           (long long)i, q->w[i], q->w_bits, wmax, wmax);

    q->w_rowsum = xb_malloc(ctx, (size_t)rows * sizeof(int32_t));
    pr->mult = xb_malloc(ctx, (size_t)rows * sizeof(float));
    pr->wpack = xb_malloc(ctx, (size_t)q->groups * xb_igemm_wpack_bytes(q->K, q->N) + 1);
    if (!q->w_rowsum || !pr->mult || !pr->wpack) return ctx->status;
    for (int64_t r = 0; r < rows; r++) {
        int32_t s = 0;
        for (int64_t k = 0; k < q->K; k++) s += q->w[r * q->K + k];
        q->w_rowsum[r] = s;
        pr->mult[r] = q->x_scale * q->w_scale[r];
    }
    for (int gi = 0; gi < q->groups; gi++)
        xb_igemm_pack_w(q->w + (int64_t)gi * q->N * q->K, q->K, q->N,
                        pr->wpack + (int64_t)gi * (int64_t)xb_igemm_wpack_bytes(q->K, q->N));

    /* Layer index: matrix layers before this node that survive preparation.
     * An earlier layer whose output became constant is folded away and will
     * be removed, so it does not count; that keeps the indices equal to the
     * positions xb_qlayer_get sees after prepare. */
    int idx = 0;
    for (xb_node *m = g->nodes; m < n; m++) {
        if (!is_qlayer_op(m->op)) continue;
        if (m->n_out > 0 && m->out[0] >= 0 && g->tensors[m->out[0]].is_const) continue;
        idx++;
    }
    q->layer_index = idx;
    return XB_OK;
}

xb_status xb_qlayer_matmul(const xb_node *n, const xb_qlayer_priv *pr, xb_exec *e, int group,
                           const uint8_t *x_kp, uint8_t *xp_buf, int32_t *acc, xb_ctx *ctx) {
    const xb_qlayer *q = &pr->q;
    const int8_t *wg = q->w + (int64_t)group * q->N * q->K;
    if (e->engine && e->engine->qmatmul)
        return e->engine->qmatmul(e->engine->self, e, n, q->layer_index, group, x_kp, wg, q->K,
                                  q->N, q->P, acc, ctx);
    xb_igemm_pack_x(x_kp, q->K, q->P, xp_buf);
    xb_igemm_packed(pr->wpack + (int64_t)group * (int64_t)xb_igemm_wpack_bytes(q->K, q->N), xp_buf,
                    q->K, q->N, q->P, acc);
    return XB_OK;
}
