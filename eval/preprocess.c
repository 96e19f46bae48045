#include "eval/preprocess.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/dataset.h"
#include "kernels/lut.h"
#include "kernels/qmath.h"
#include "runtime/num.h"

static void add_note(xb_preproc *p, const char *s) {
    size_t used = strlen(p->note);
    snprintf(p->note + used, sizeof p->note - used, "%s%s", used ? "; " : "", s);
}

/* Parse "a,b,c" (`s`, from `what`: "metadata xbar.mean", "--mean") into
 * v[0..c-1]: one value broadcast, or exactly c values. */
static xb_status parse_floats(const char *path, const char *what, const char *s, int c,
                              int positive, float *v, xb_ctx *ctx) {
    int n = 0;
    char **list = xb_split_list(s, &n, ctx);
    if (!list) return ctx->status;
    xb_status st = XB_OK;
    if (n != 1 && n != c)
        st = xb_fail(ctx, XB_ERR_INVALID, "%s: %s='%s' has %d values, the input has %d channels",
                     path, what, s, n, c);
    for (int i = 0; i < n && st == XB_OK; i++) {
        /* Parse as double, then round to float: that is what the Python
         * exporter's values go through (repr of a double -> torch float32),
         * and it avoids a double-rounding mismatch of strtof.  Flags and
         * metadata go through this one parser (runtime/num.h), so the same
         * text gives the same floats either way. */
        double dv = 0;
        bool ok = xb_parse_real(list[i], &dv);
        float f = (float)dv;
        if (!ok || !isfinite(f) || (positive && !(f > 0)))
            st = xb_fail(ctx, XB_ERR_INVALID, "%s: %s='%s': '%s' is not a %s number", path, what, s,
                         list[i], positive ? "positive" : "finite");
        else
            v[i] = f;
    }
    if (st == XB_OK && n == 1)
        for (int i = 1; i < c; i++) v[i] = v[0];
    xb_free_list(list, n);
    return st;
}

static bool is_channels(int64_t d) { return d == 1 || d == 3; }

/* Input geometry: [1,C,H,W], or [1,H,W,C] when asked or unambiguous. */
static xb_status init_geometry(xb_preproc *p, const xb_graph *g, const char *path, int layout,
                               xb_ctx *ctx) {
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
    const int64_t *d = in->shape.d;
    if (layout == XB_LAYOUT_AUTO && !is_channels(d[1]) && is_channels(d[3])) {
        layout = XB_LAYOUT_NHWC;
        add_note(p, "input is channels-last [N,H,W,C]: images are fed as NHWC (--layout nchw "
                    "overrides)");
    }
    p->nhwc = layout == XB_LAYOUT_NHWC;
    int64_t c = p->nhwc ? d[3] : d[1], h = p->nhwc ? d[1] : d[2], w = p->nhwc ? d[2] : d[3];
    if (!is_channels(c))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: input %s has %lld channels in the %s layout; images have 1 or 3%s",
                       path, xb_shape_str(&in->shape, sb, sizeof sb), (long long)c,
                       p->nhwc ? "NHWC" : "NCHW", p->nhwc ? "" : " (channels-last? --layout nhwc)");
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
    return XB_OK;
}

/* mean/std: flag, else metadata, else 0/1 with a warning saying so. */
static xb_status init_norm(xb_preproc *p, const xb_graph *g, const char *path,
                           const xb_preproc_opts *o, xb_ctx *ctx) {
    const char *mm = xb_graph_meta(g, "xbar.mean"), *ms = xb_graph_meta(g, "xbar.std");
    for (int i = 0; i < XB_PP_MAX_CHANNELS; i++) {
        p->mean[i] = 0.0f;
        p->std[i] = 1.0f;
    }
    if (o->mean) XB_TRY(parse_floats(path, "--mean", o->mean, p->c, 0, p->mean, ctx));
    else if (mm) XB_TRY(parse_floats(path, "metadata xbar.mean", mm, p->c, 0, p->mean, ctx));
    if (o->std) XB_TRY(parse_floats(path, "--std", o->std, p->c, 1, p->std, ctx));
    else if (ms) XB_TRY(parse_floats(path, "metadata xbar.std", ms, p->c, 1, p->std, ctx));
    bool has_mean = o->mean || mm, has_std = o->std || ms;
    if (has_mean && has_std) return XB_OK;
    p->default_norm = !has_mean && !has_std;
    snprintf(p->warning, sizeof p->warning,
             "%s has no %s metadata and no %s given: assuming %s (input = pixel/255%s); a model "
             "trained with other normalisation will score far below its real accuracy (set it "
             "with --mean/--std, or once with xbar meta)",
             path, !has_mean && !has_std ? "xbar.mean/xbar.std" : !has_mean ? "xbar.mean" : "xbar.std",
             !has_mean && !has_std ? "--mean/--std" : !has_mean ? "--mean" : "--std",
             !has_mean && !has_std ? "mean 0, std 1" : !has_mean ? "mean 0" : "std 1",
             p->default_norm ? "" : !has_mean ? ", divided by the std" : ", minus the mean");
    return XB_OK;
}

/* A classes file: one name per line (blank lines and a trailing '\r'
 * ignored), at most 1 MiB, a regular file. */
static char **read_classes_file(const char *file, int *n, xb_ctx *ctx) {
    struct stat sb;
    if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        xb_fail(ctx, XB_ERR_IO, "--classes %s: %s", file,
                stat(file, &sb) != 0 ? strerror(errno) : "not a regular file");
        return NULL;
    }
    if (sb.st_size > (1 << 20)) {
        xb_fail(ctx, XB_ERR_INVALID, "--classes %s: larger than 1 MiB", file);
        return NULL;
    }
    FILE *f = fopen(file, "rb");
    if (!f) {
        xb_fail(ctx, XB_ERR_IO, "--classes %s: %s", file, strerror(errno));
        return NULL;
    }
    char *text = xb_calloc(ctx, (size_t)sb.st_size + 1, 1);
    size_t got = text ? fread(text, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!text) return NULL;
    text[got] = 0;
    /* Lines become a comma list for xb_split_list; a comma inside a name
     * cannot survive that, so it is refused. */
    char **list = NULL;
    if (strchr(text, ','))
        xb_fail(ctx, XB_ERR_INVALID, "--classes %s: class names may not contain ','", file);
    else {
        for (char *c = text; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ',';
        list = xb_split_list(text, n, ctx);
    }
    free(text);
    /* drop the empty names blank lines left */
    int k = 0;
    for (int i = 0; list && i < *n; i++) {
        if (list[i][0]) list[k++] = list[i];
        else free(list[i]);
    }
    if (list) {
        list[k] = NULL;
        *n = k;
    }
    return list;
}

static xb_status init_classes(xb_preproc *p, const xb_graph *g, const xb_preproc_opts *o,
                              xb_ctx *ctx) {
    int n = 0;
    if (o->classes_file) {
        char **names = read_classes_file(o->classes_file, &n, ctx);
        if (!names) return ctx->status;
        if (n != p->n_outputs) {
            xb_free_list(names, n);
            return xb_fail(ctx, XB_ERR_INVALID, "--classes %s: %d class names, the model outputs "
                           "%d scores", o->classes_file, n, p->n_outputs);
        }
        p->class_names = names;
        p->n_classes = n;
        return XB_OK;
    }
    const char *cls = xb_graph_meta(g, "xbar.classes");
    if (!cls) return XB_OK;
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
    return XB_OK;
}

xb_status xb_preproc_init_opts(xb_preproc *p, const xb_graph *g, const xb_preproc_opts *o,
                               xb_ctx *ctx) {
    static const xb_preproc_opts none = {0};
    if (!o) o = &none;
    memset(p, 0, sizeof *p);
    const char *path = g->path ? g->path : "model";
    XB_TRY(init_geometry(p, g, path, o->layout, ctx));
    XB_TRY(init_norm(p, g, path, o, ctx));
    p->dataset = xb_graph_meta(g, "xbar.dataset");
    if (init_classes(p, g, o, ctx) != XB_OK) {
        xb_preproc_free(p);
        return ctx->status;
    }
    return XB_OK;
}

xb_status xb_preproc_init(xb_preproc *p, const xb_graph *g, xb_ctx *ctx) {
    return xb_preproc_init_opts(p, g, NULL, ctx);
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
                       "not resize (image folders: --resize, --center-crop)",
                       what, src_w, src_h, p->w, p->h);
    if (src_c != 1 && src_c != 3)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "%s: images have %d channels (1 or 3 supported)", what,
                       src_c);
    return XB_OK;
}

/* The model input of one pixel value s of a channel with mean m and std sd.
 * Divisions, not multiplications by reciprocals: the reference
 * (models/train.py: float32 x / 255, then (x - mean) / std) rounds that
 * way, and bit-identical inputs keep borderline images on the same side
 * when comparing full-test-set counts.  xb_preproc_code_table computes
 * the same expression, so its codes are those of these values. */
static inline float pp_value(uint8_t s, float m, float sd) { return ((float)s / 255.0f - m) / sd; }

void xb_preproc_image(const xb_preproc *p, const uint8_t *src, int src_c, float *dst) {
    /* Channels-last models get the same values interleaved: element (k, i)
     * goes to i * c + k. */
    size_t plane = (size_t)p->h * (size_t)p->w;
    size_t cstride = p->nhwc ? 1 : plane, istride = p->nhwc ? (size_t)p->c : 1;
    if (src_c == p->c || (src_c == 1 && p->c == 3)) {
        for (int k = 0; k < p->c; k++) {
            /* grey -> RGB: every output channel reads the one grey plane */
            const uint8_t *s = src + (src_c == 1 ? 0 : (size_t)k * plane);
            float m = p->mean[k], sd = p->std[k];
            float *d = dst + (size_t)k * cstride;
            for (size_t i = 0; i < plane; i++) d[i * istride] = pp_value(s[i], m, sd);
        }
        return;
    }
    /* RGB -> grey, ITU-R BT.601 luma weights (one channel: both layouts
     * are the same) */
    const uint8_t *r = src, *g = src + plane, *b = src + 2 * plane;
    float m = p->mean[0], sd = p->std[0];
    for (size_t i = 0; i < plane; i++) {
        float y = 0.299f * ((float)r[i] / 255.0f) + 0.587f * ((float)g[i] / 255.0f) +
                  0.114f * ((float)b[i] / 255.0f);
        dst[i] = (y - m) / sd;
    }
}

bool xb_preproc_code_table(const xb_preproc *p, int src_c, float scale, int32_t zp, int32_t hi,
                           uint8_t table[XB_PP_MAX_CHANNELS][256]) {
    /* RGB -> grey mixes three pixels into one value: no table per pixel */
    if (src_c != p->c && !(src_c == 1 && p->c == 3)) return false;
    float v[256];
    for (int k = 0; k < p->c; k++) {
        for (int i = 0; i < 256; i++) v[i] = pp_value((uint8_t)i, p->mean[k], p->std[k]);
        xb_quantize_u8(v, 256, scale, zp, hi, table[k]);
    }
    return true;
}

void xb_preproc_image_codes(const xb_preproc *p, const uint8_t table[XB_PP_MAX_CHANNELS][256],
                            const uint8_t *src, int src_c, uint8_t *dst) {
    /* the layout of xb_preproc_image's per-pixel case */
    size_t plane = (size_t)p->h * (size_t)p->w;
    size_t cstride = p->nhwc ? 1 : plane, istride = p->nhwc ? (size_t)p->c : 1;
    for (int k = 0; k < p->c; k++) {
        const uint8_t *s = src + (src_c == 1 ? 0 : (size_t)k * plane), *t = table[k];
        uint8_t *d = dst + (size_t)k * cstride;
        if (istride == 1)
            xb_lut_u8(t, s, (int64_t)plane, d);
        else
            for (size_t i = 0; i < plane; i++) d[i * istride] = t[s[i]];
    }
}
