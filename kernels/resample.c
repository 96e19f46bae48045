#include "kernels/resample.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    int64_t i0, i1;
    float w;
    /* cubic only: four taps and their weights (i0, i1, w unused) */
    int64_t ci[4];
    double cw[4];
} rs_tap;

typedef struct {
    int rank;
    bool cubic;
    int64_t in[XB_MAX_RANK], out[XB_MAX_RANK];
    int n_axes;               /* axes actually resampled, increasing */
    int axis[XB_MAX_RANK];
    int64_t tab[XB_MAX_RANK]; /* offset of each resampled axis' taps in taps[] */
    int64_t max_mid;          /* largest intermediate tensor (elements) */
    rs_tap taps[];
} rs_params;

static double src_coord(const xb_resample_spec *s, int a, int64_t j) {
    double scale = s->scale[a];
    int64_t len = s->out[a];
    switch (s->coord) {
    case XB_RS_PYTORCH_HALF_PIXEL: return len > 1 ? (j + 0.5) / scale - 0.5 : 0.0;
    case XB_RS_ALIGN_CORNERS:
        return len == 1 ? 0.0 : (double)j * (double)(s->in[a] - 1) / (double)(len - 1);
    case XB_RS_ASYMMETRIC: return (double)j / scale;
    case XB_RS_TF_HALF_PIXEL_FOR_NN: return (j + 0.5) / scale;
    case XB_RS_HALF_PIXEL:
    default: return (j + 0.5) / scale - 0.5;
    }
}

static int64_t clamp_idx(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* Keys' cubic weights of the taps at distance 1 + t, t, 1 - t, 2 - t. */
static void cubic_weights(double t, double A, double w[4]) {
    double u = t + 1, v = 1 - t, z = 2 - t;
    w[0] = ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * v - (A + 3)) * v * v + 1;
    w[3] = ((A * z - 5 * A) * z + 8 * A) * z - 4 * A;
}

static rs_tap cubic_tap(const xb_resample_spec *s, int64_t lo, double frac, int64_t n) {
    rs_tap t = {0};
    cubic_weights(frac, s->cubic_a, t.cw);
    double sum = 0;
    for (int k = 0; k < 4; k++) {
        int64_t i = lo - 1 + k;
        if (s->exclude_outside && (i < 0 || i >= n)) t.cw[k] = 0;
        sum += t.cw[k];
        t.ci[k] = clamp_idx(i, n);
    }
    if (s->exclude_outside && sum != 0)
        for (int k = 0; k < 4; k++) t.cw[k] /= sum;
    t.w = 1.0f; /* never the identity */
    return t;
}

/* The taps of output position j along axis a. */
static rs_tap make_tap(const xb_resample_spec *s, int a, int64_t j) {
    double x = src_coord(s, a, j), fl = floor(x), frac = x - fl;
    int64_t lo = (int64_t)fl, n = s->in[a];
    if (s->mode == XB_RS_CUBIC) return cubic_tap(s, lo, frac, n);
    rs_tap t = {clamp_idx(lo, n), clamp_idx(lo + 1, n), 0.0f, {0}, {0}};
    if (s->mode == XB_RS_LINEAR) {
        t.w = (float)frac;
        return t;
    }
    bool up; /* take floor(x) + 1 rather than floor(x) */
    switch (s->nearest) {
    case XB_RS_ROUND_PREFER_CEIL: up = frac >= 0.5; break;
    case XB_RS_FLOOR: up = false; break;
    case XB_RS_CEIL: up = frac > 0.0; break;
    case XB_RS_SIMPLE: up = s->scale[a] < 1.0 && frac > 0.0; break;
    case XB_RS_ROUND_PREFER_FLOOR:
    default: up = frac > 0.5; break;
    }
    t.i0 = up ? t.i1 : t.i0;
    t.i1 = t.i0;
    return t;
}

xb_status xb_resample_sizes_from_scales(xb_resample_spec *s, xb_ctx *ctx) {
    for (int a = 0; a < s->rank; a++) {
        if (!(s->scale[a] > 0.0) || s->scale[a] > (double)(1 << 24))
            return xb_fail(ctx, XB_ERR_INVALID, "scales[%d] = %g must be > 0", a, s->scale[a]);
        s->out[a] = (int64_t)floor(s->scale[a] * (double)s->in[a]);
        if (s->out[a] < 1 && s->in[a] > 0)
            return xb_fail(ctx, XB_ERR_INVALID, "scales[%d] = %g gives an empty axis of size %lld",
                           a, s->scale[a], (long long)s->in[a]);
    }
    return XB_OK;
}

xb_status xb_resample_prepare(xb_graph *g, xb_node *n, const xb_resample_spec *s, xb_ctx *ctx) {
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s on %s tensors (float only)", n->op_type,
                       xb_dtype_name(x->dtype));
    double total = 1.0, ntaps = 0.0;
    for (int a = 0; a < s->rank; a++) total *= (double)s->out[a], ntaps += (double)s->out[a];
    if (total > (double)(XB_MAX_TENSOR_BYTES / 8) || ntaps > (double)((int64_t)1 << 28))
        return xb_fail(ctx, XB_ERR_NOMEM, "output of %.0f elements is too large", total);
    rs_params *p = xb_calloc(ctx, 1, sizeof *p + (size_t)ntaps * sizeof(rs_tap));
    if (!p) return ctx->status;
    n->params = p;
    p->rank = s->rank;
    p->cubic = s->mode == XB_RS_CUBIC;
    int64_t off = 0;
    double cur = 1.0;
    for (int a = 0; a < s->rank; a++) cur *= (double)s->in[a];
    for (int a = 0; a < s->rank; a++) {
        p->in[a] = s->in[a];
        p->out[a] = s->out[a];
        rs_tap *t = p->taps + off;
        bool ident = s->in[a] == s->out[a];
        for (int64_t j = 0; j < s->out[a]; j++) {
            t[j] = make_tap(s, a, j);
            if (s->mode == XB_RS_CUBIC) {
                /* the identity exactly when every weight is 1 at j, 0 elsewhere */
                for (int k = 0; k < 4; k++)
                    if (t[j].cw[k] != (t[j].ci[k] == j && k == 1 ? 1.0 : 0.0)) ident = false;
            } else if (t[j].i0 != j || (t[j].w != 0.0f && t[j].i1 != j)) {
                ident = false;
            }
        }
        if (ident) continue;
        p->tab[p->n_axes] = off;
        p->axis[p->n_axes++] = a;
        off += s->out[a];
        cur = cur / (double)(s->in[a] ? s->in[a] : 1) * (double)s->out[a];
        if (cur > (double)p->max_mid) p->max_mid = (int64_t)cur;
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    y->shape.rank = s->rank;
    for (int a = 0; a < s->rank; a++) y->shape.d[a] = s->out[a];
    /* Two ping-pong buffers for the intermediate tensors. */
    if (p->n_axes > 1) n->scratch_bytes = 2 * (size_t)p->max_mid * sizeof(float) + 128;
    return XB_OK;
}

/* Cubic: four taps per output, summed in double. */
static void resample_axis_cubic(const float *x, float *y, int64_t outer, int64_t in, int64_t out,
                                int64_t inner, const rs_tap *t) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * in * inner;
        float *yo = y + o * out * inner;
        for (int64_t j = 0; j < out; j++) {
            const rs_tap *tj = &t[j];
            float *yj = yo + j * inner;
            for (int64_t i = 0; i < inner; i++) {
                double v = 0;
                for (int k = 0; k < 4; k++) v += tj->cw[k] * (double)xo[tj->ci[k] * inner + i];
                yj[i] = (float)v;
            }
        }
    }
}

/* Resample axis a of x, viewed as [outer, in, inner], into y [outer, out, inner]. */
static void resample_axis(const float *x, float *y, int64_t outer, int64_t in, int64_t out,
                          int64_t inner, const rs_tap *t) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * in * inner;
        float *yo = y + o * out * inner;
        for (int64_t j = 0; j < out; j++) {
            const float *a = xo + t[j].i0 * inner, *b = xo + t[j].i1 * inner;
            float *yj = yo + j * inner;
            const float w = t[j].w;
            if (w == 0.0f) {
                memcpy(yj, a, (size_t)inner * sizeof(float));
            } else {
                for (int64_t i = 0; i < inner; i++) yj[i] = a[i] + w * (b[i] - a[i]);
            }
        }
    }
}

xb_status xb_resample_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const rs_params *p = n->params;
    if (p->n_axes == 0) {
        size_t bytes = (size_t)xb_shape_numel(&g->tensors[n->in[0]].shape) * sizeof(float);
        if (bytes) memcpy(e->buf[n->out[0]], e->buf[n->in[0]], bytes);
        return XB_OK;
    }
    (void)ctx;
    float *buf[2] = {NULL, NULL};
    if (p->n_axes > 1) {
        buf[0] = (float *)(((uintptr_t)e->scratch + 63) & ~(uintptr_t)63);
        buf[1] = buf[0] + ((p->max_mid + 15) & ~(int64_t)15);
    }
    int64_t dims[XB_MAX_RANK];
    for (int a = 0; a < p->rank; a++) dims[a] = p->in[a];
    const float *src = XB_IN_F32(e, n, 0);
    for (int k = 0; k < p->n_axes; k++) {
        int a = p->axis[k];
        float *dst = k == p->n_axes - 1 ? XB_OUT_F32(e, n, 0) : buf[k & 1];
        int64_t outer = 1, inner = 1;
        for (int b = 0; b < a; b++) outer *= dims[b];
        for (int b = a + 1; b < p->rank; b++) inner *= dims[b];
        (p->cubic ? resample_axis_cubic : resample_axis)(src, dst, outer, p->in[a], p->out[a],
                                                          inner, p->taps + p->tab[k]);
        dims[a] = p->out[a];
        src = dst;
    }
    return XB_OK;
}

xb_status xb_resample_const_floats(const xb_graph *g, const xb_node *n, int i, const char *what,
                                   float *vals, int max, int *count, xb_ctx *ctx) {
    const xb_tensor *t = &g->tensors[n->in[i]];
    if (t->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be float, got %s", what, t->name,
                       xb_dtype_name(t->dtype));
    if (!t->is_const || (!t->data && xb_shape_numel(&t->shape) != 0))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s input '%s' is not constant after folding (data-dependent shapes are "
                       "not supported)",
                       what, t->name);
    if (t->shape.rank != 1)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' must be a 1-D tensor, got rank %d", what,
                       t->name, t->shape.rank);
    int64_t len = t->shape.d[0];
    if (len > max)
        return xb_fail(ctx, XB_ERR_INVALID, "%s input '%s' has %lld values (at most %d allowed)",
                       what, t->name, (long long)len, max);
    for (int64_t k = 0; k < len; k++) vals[k] = ((const float *)t->data)[k];
    *count = (int)len;
    return XB_OK;
}
