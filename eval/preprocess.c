#include "eval/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/dataset.h"
#include "runtime/num.h"

static void add_note(xb_preproc *p, const char *s) {
    size_t used = strlen(p->note);
    snprintf(p->note + used, sizeof p->note - used, "%s%s", used ? "; " : "", s);
}

/* Parse "a,b,c" into v[0..c-1]: one value broadcast, or exactly c values. */
static xb_status parse_floats(const xb_graph *g, const char *key, int c, int positive, float *v,
                              xb_ctx *ctx) {
    const char *s = xb_graph_meta(g, key);
    int n = 0;
    char **list = xb_split_list(s, &n, ctx);
    if (!list) return ctx->status;
    xb_status st = XB_OK;
    if (n != 1 && n != c)
        st = xb_fail(ctx, XB_ERR_INVALID, "%s: metadata %s='%s' has %d values, the input has %d "
                     "channels", g->path ? g->path : "model", key, s, n, c);
    for (int i = 0; i < n && st == XB_OK; i++) {
        /* Parse as double, then round to float: that is what the Python
         * exporter's values go through (repr of a double -> torch float32),
         * and it avoids a double-rounding mismatch of strtof. */
        double dv = 0;
        bool ok = xb_parse_real(list[i], &dv);
        float f = (float)dv;
        if (!ok || !isfinite(f) || (positive && !(f > 0)))
            st = xb_fail(ctx, XB_ERR_INVALID, "%s: metadata %s='%s': '%s' is not a %s number",
                         g->path ? g->path : "model", key, s, list[i],
                         positive ? "positive" : "finite");
        else
            v[i] = f;
    }
    if (st == XB_OK && n == 1)
        for (int i = 1; i < c; i++) v[i] = v[0];
    xb_free_list(list, n);
    return st;
}

xb_status xb_preproc_init(xb_preproc *p, const xb_graph *g, xb_ctx *ctx) {
    memset(p, 0, sizeof *p);
    const char *path = g->path ? g->path : "model";
    if (g->n_inputs != 1 || g->n_outputs < 1)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: the runner needs a model with one input image tensor and at least one "
                       "output (this one has %d inputs, %d outputs)",
                       path, g->n_inputs, g->n_outputs);
    const xb_tensor *in = &g->tensors[g->inputs[0]];
    char sb[96];
    if (in->dtype != XB_F32 || in->shape.rank != 4 || in->shape.d[0] != 1)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: input '%s' is %s %s; expected float [N,C,H,W] image input", path,
                       in->name, xb_dtype_name(in->dtype), xb_shape_str(&in->shape, sb, sizeof sb));
    int64_t c = in->shape.d[1], h = in->shape.d[2], w = in->shape.d[3];
    if (c != 1 && c != 3)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: input has %lld channels; images have 1 or 3",
                       path, (long long)c);
    if (h < 1 || w < 1 || h > XB_DATASET_MAX_SIDE || w > XB_DATASET_MAX_SIDE)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: input size %lldx%lld out of range", path,
                       (long long)h, (long long)w);
    p->c = (int)c;
    p->h = (int)h;
    p->w = (int)w;
    const xb_tensor *out = &g->tensors[g->outputs[0]];
    int64_t k = xb_shape_numel(&out->shape);
    if (out->dtype != XB_F32 || k < 1 || k > 1000000)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: output '%s' is %s %s; expected float class scores",
                       path, out->name, xb_dtype_name(out->dtype),
                       xb_shape_str(&out->shape, sb, sizeof sb));
    p->n_outputs = (int)k;

    bool has_mean = xb_graph_meta(g, "xbar.mean") != NULL, has_std = xb_graph_meta(g, "xbar.std") != NULL;
    for (int i = 0; i < XB_PP_MAX_CHANNELS; i++) {
        p->mean[i] = 0.0f;
        p->std[i] = 1.0f;
    }
    if (has_mean) XB_TRY(parse_floats(g, "xbar.mean", p->c, 0, p->mean, ctx));
    if (has_std) XB_TRY(parse_floats(g, "xbar.std", p->c, 1, p->std, ctx));
    if (!has_mean || !has_std) {
        p->default_norm = !has_mean && !has_std;
        char m[160];
        snprintf(m, sizeof m, "model has no %s metadata: using %s (input = pixel/255%s)",
                 !has_mean && !has_std ? "xbar.mean/xbar.std" : !has_mean ? "xbar.mean" : "xbar.std",
                 !has_mean && !has_std ? "mean 0, std 1" : !has_mean ? "mean 0" : "std 1",
                 has_mean || has_std ? " then the given value" : "");
        add_note(p, m);
    }
    p->dataset = xb_graph_meta(g, "xbar.dataset");
    const char *cls = xb_graph_meta(g, "xbar.classes");
    if (cls) {
        int n = 0;
        char **names = xb_split_list(cls, &n, ctx);
        if (!names) return ctx->status;
        if (n != p->n_outputs) {
            char m[160];
            snprintf(m, sizeof m, "metadata xbar.classes names %d classes but the output has %d "
                     "scores; class names ignored", n, p->n_outputs);
            add_note(p, m);
            xb_free_list(names, n);
        } else {
            p->class_names = names;
            p->n_classes = n;
        }
    }
    return XB_OK;
}

void xb_preproc_free(xb_preproc *p) {
    xb_free_list(p->class_names, p->n_classes);
    p->class_names = NULL;
    p->n_classes = 0;
}

xb_status xb_preproc_check(const xb_preproc *p, int src_c, int src_h, int src_w, const char *what,
                           xb_ctx *ctx) {
    if (src_h != p->h || src_w != p->w)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "%s: images are %dx%d (width x height) but the model takes %dx%d; xbar does "
                       "not resize",
                       what, src_w, src_h, p->w, p->h);
    if (src_c != 1 && src_c != 3)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: images have %d channels (1 or 3 supported)", what,
                       src_c);
    return XB_OK;
}

void xb_preproc_image(const xb_preproc *p, const uint8_t *src, int src_c, float *dst) {
    /* Divisions, not multiplications by reciprocals: the reference
     * (models/train.py: float32 x / 255, then (x - mean) / std) rounds that
     * way, and bit-identical inputs keep borderline images on the same side
     * when comparing full-test-set counts. */
    size_t plane = (size_t)p->h * (size_t)p->w;
    if (src_c == p->c || (src_c == 1 && p->c == 3)) {
        for (int k = 0; k < p->c; k++) {
            /* grey -> RGB: every output channel reads the one grey plane */
            const uint8_t *s = src + (src_c == 1 ? 0 : (size_t)k * plane);
            float m = p->mean[k], sd = p->std[k];
            float *d = dst + (size_t)k * plane;
            for (size_t i = 0; i < plane; i++) d[i] = ((float)s[i] / 255.0f - m) / sd;
        }
        return;
    }
    /* RGB -> grey, ITU-R BT.601 luma weights */
    const uint8_t *r = src, *g = src + plane, *b = src + 2 * plane;
    float m = p->mean[0], sd = p->std[0];
    for (size_t i = 0; i < plane; i++) {
        float y = 0.299f * ((float)r[i] / 255.0f) + 0.587f * ((float)g[i] / 255.0f) +
                  0.114f * ((float)b[i] / 255.0f);
        dst[i] = (y - m) / sd;
    }
}
