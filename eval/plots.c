/* Plots of a run / compile report (see plots.h); the sweep CSV and the
 * crossbar heatmap are in plots_sweep.c and plots_heatmap.c. */
#include "eval/plots.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/outfile.h"
#include "eval/plots_int.h"
#include "eval/svg.h"

xb_status xb_plots_add(xb_plots *p, const char *name, const char *title, char *svg, xb_ctx *ctx) {
    if (!svg) return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory drawing the plot", name);
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        xb_plot *q = realloc(p->p, (size_t)cap * sizeof *q);
        if (!q) {
            free(svg);
            return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", name);
        }
        p->p = q;
        p->cap = cap;
    }
    xb_plot *pl = &p->p[p->n++];
    snprintf(pl->name, sizeof pl->name, "%s", name);
    snprintf(pl->title, sizeof pl->title, "%s", title);
    pl->svg = svg;
    return XB_OK;
}

void xb_plots_free(xb_plots *p) {
    for (int i = 0; i < p->n; i++) free(p->p[i].svg);
    free(p->p);
    *p = (xb_plots){0};
}

xb_status xb_plots_write_dir(const xb_plots *p, const char *dir, xb_ctx *ctx) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return xb_fail(ctx, XB_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    for (int i = 0; i < p->n; i++) {
        char path[4096];
        size_t dl = strlen(dir);
        snprintf(path, sizeof path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", p->p[i].name);
        xb_outfile o;
        XB_TRY(xb_outfile_open(&o, path, ctx));
        if (fputs(p->p[i].svg, o.f) < 0) {
            xb_outfile_abort(&o);
            return xb_fail(ctx, XB_ERR_IO, "%s: write failed", path);
        }
        XB_TRY(xb_outfile_commit(&o, ctx));
    }
    return XB_OK;
}

/* --- the generic bar chart ------------------------------------------------------ */

char *xb_plot_bars(const xb_bar_spec *b) {
    double top = b->y_max, bottom = 0;
    for (int i = 0; i < b->n; i++) {
        double sum = 0;
        for (int j = 0; j < b->m; j++) {
            double v = b->v[i * b->m + j];
            if (!isfinite(v)) continue;
            if (b->stacked) sum += v;
            else if (v > top) top = v;
        }
        if (b->stacked && sum > top) top = sum;
    }
    if (b->has_ref && b->ref > top) top = b->ref;
    if (top <= 0) top = 1;
    double slot = b->stacked || b->m == 1 ? 26 : 12.0 * b->m + 12;
    double legend_w = b->m > 1 ? 240 : 0, pw = fmax(300, slot * b->n);
    double bottom_m = b->cat_rot ? 215 : 50;
    xb_svg g;
    xb_svg_begin(&g, 90 + pw + 30 + legend_w, 50 + 300 + bottom_m, b->id, b->title);
    xb_svg_axes a = {.x = 90, .y = 50, .w = pw, .h = 300, .x0 = 0, .x1 = 1, .y0 = bottom, .y1 = top};
    xb_svg_axes_nice(&a, false);
    xb_svg_axes_draw(&g, &a, NULL, b->ylabel, false);
    double cw = pw / b->n, bw = b->stacked || b->m == 1 ? cw * 0.7 : cw * 0.8 / b->m;
    char fill[64], num[32];
    for (int i = 0; i < b->n; i++) {
        double x0 = a.x + cw * i + (cw - (b->stacked || b->m == 1 ? bw : bw * b->m)) / 2, acc = 0;
        for (int j = 0; j < b->m; j++) {
            double v = b->v[i * b->m + j];
            if (!isfinite(v)) continue;
            double lo = b->stacked ? acc : 0, hi = lo + v;
            acc = hi;
            double x = b->stacked || b->m == 1 ? x0 : x0 + bw * j;
            xb_svg_fill(&g, b->m == 1 && b->color_by_cat ? i : j, fill, sizeof fill);
            xb_svg_add(&g,
                       "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' stroke='#000' "
                       "stroke-width='0.6'/>\n",
                       x, xb_svg_ay(&a, hi), bw, fmax(0, xb_svg_ay(&a, lo) - xb_svg_ay(&a, hi)), fill);
            if (b->value_labels && !b->stacked) {
                xb_svg_num(v, num, sizeof num);
                xb_svg_text(&g, x + bw / 2, xb_svg_ay(&a, hi) - 4, "middle", 10, 0, num);
            }
        }
        double cx = a.x + cw * (i + 0.5), cy = a.y + a.h + 14;
        if (b->cat_rot) xb_svg_text(&g, cx + 4, cy, "end", 10, -45, b->cats[i]);
        else xb_svg_text(&g, cx, cy, "middle", 11, 0, b->cats[i]);
    }
    if (b->has_ref) {
        double y = xb_svg_ay(&a, b->ref);
        xb_svg_add(&g,
                   "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-width='1.5' "
                   "stroke-dasharray='6 4'/>\n",
                   a.x, y, a.x + a.w, y);
        xb_svg_text(&g, a.x + a.w - 4, y - 5, "end", 11, 0, b->ref_label);
    }
    if (b->xlabel) xb_svg_text(&g, a.x + a.w / 2, a.y + a.h + bottom_m - 8, "middle", 12, 0, b->xlabel);
    if (b->m > 1) xb_svg_legend(&g, a.x + a.w + 16, a.y, b->m, b->series, false);
    return xb_svg_end(&g);
}

/* --- run / compile report ---------------------------------------------------- */

/* "3 name" labels of the layer array (owned by the caller, free_labels). */
char **xb_plot_layer_labels(const cJSON *layers, int *n) {
    *n = cJSON_GetArraySize(layers);
    char **lab = calloc((size_t)(*n ? *n : 1), sizeof *lab);
    int i = 0;
    for (const cJSON *l = layers ? layers->child : NULL; lab && l; l = l->next, i++) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l, "name");
        const char *s = cJSON_IsString(nm) ? nm->valuestring : "?";
        size_t len = strlen(s) + 16;
        lab[i] = malloc(len);
        if (lab[i]) snprintf(lab[i], len, "%d %s", i, s);
    }
    return lab;
}

void xb_plot_free_labels(char **lab, int n) {
    for (int i = 0; lab && i < n; i++) free(lab[i]);
    free(lab);
}

double xb_plot_num(const cJSON *o, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static xb_status plot_accuracy(const cJSON *r, xb_plots *out, xb_ctx *ctx) {
    static const char *modes[] = {"float", "int8", "analog"};
    const char *cats[3];
    double v[3];
    int n = 0;
    for (int i = 0; i < 3; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, modes[i]);
        if (!m) continue;
        cats[n] = modes[i];
        v[n++] = 100.0 * xb_plot_num(m, "accuracy", NAN);
    }
    if (!n) return XB_OK;
    xb_bar_spec b = {.id = "acc", .title = "Top-1 accuracy per mode", .ylabel = "top-1 accuracy (%)",
                     .xlabel = "execution mode", .n = n, .m = 1, .cats = cats, .v = v,
                     .value_labels = true, .color_by_cat = true, .y_max = 100};
    return xb_plots_add(out, "accuracy.svg", b.title, xb_plot_bars(&b), ctx);
}

/* Energy per layer stacked by component, in pJ, nJ or uJ per inference. */
static xb_status plot_energy(const cJSON *layers, xb_plots *out, xb_ctx *ctx) {
    int n;
    const cJSON *first = layers ? layers->child : NULL;
    const cJSON *e0 = cJSON_GetObjectItemCaseSensitive(first, "energy_pj");
    int m = cJSON_GetArraySize(e0);
    if (!first || !cJSON_IsObject(e0) || m <= 0) return XB_OK;
    char **lab = xb_plot_layer_labels(layers, &n);
    const char **names = calloc((size_t)m, sizeof *names);
    double *v = calloc((size_t)(n * m), sizeof *v), mx = 0;
    if (!lab || !names || !v) {
        xb_plot_free_labels(lab, n);
        free(names);
        free(v);
        return xb_fail(ctx, XB_ERR_NOMEM, "energy plot: out of memory");
    }
    int j = 0;
    for (const cJSON *c = e0->child; c; c = c->next) names[j++] = c->string;
    int i = 0;
    for (const cJSON *l = first; l; l = l->next, i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(l, "energy_pj");
        double sum = 0;
        for (j = 0; j < m; j++) sum += v[i * m + j] = xb_plot_num(e, names[j], 0);
        if (sum > mx) mx = sum;
    }
    double scale = mx >= 1e6 ? 1e-6 : mx >= 1e3 ? 1e-3 : 1;
    for (int k = 0; k < n * m; k++) v[k] *= scale;
    xb_bar_spec b = {.id = "energy", .title = "Energy per layer by component",
                     .ylabel = scale == 1 ? "energy per inference (pJ)"
                               : scale == 1e-3 ? "energy per inference (nJ)"
                                               : "energy per inference (\xc2\xb5J)",
                     .xlabel = "matrix layer", .n = n, .m = m, .cats = (const char *const *)lab,
                     .series = names, .v = v, .stacked = true, .cat_rot = true};
    xb_status st = xb_plots_add(out, "energy_layers.svg", b.title, xb_plot_bars(&b), ctx);
    xb_plot_free_labels(lab, n);
    free(names);
    free(v);
    return st;
}

/* One value per layer (saturation %) or two (bits needed / given). */
static xb_status plot_per_layer(const cJSON *layers, xb_plots *out, bool bits, xb_ctx *ctx) {
    int n;
    char **lab = xb_plot_layer_labels(layers, &n);
    double *v = calloc((size_t)(2 * (n ? n : 1)), sizeof *v);
    bool any = false;
    int i = 0;
    for (const cJSON *l = layers ? layers->child : NULL; lab && v && l; l = l->next, i++) {
        if (bits) {
            v[2 * i] = xb_plot_num(l, "bits_needed", NAN);
            v[2 * i + 1] = xb_plot_num(l, "adc_bits", NAN);
            any |= isfinite(v[2 * i]);
        } else {
            v[i] = 100.0 * xb_plot_num(l, "saturation_rate", NAN);
            any |= isfinite(v[i]);
        }
    }
    xb_status st = XB_OK;
    if (!lab || !v) st = xb_fail(ctx, XB_ERR_NOMEM, "layer plot: out of memory");
    static const char *bn[] = {"bits needed (lossless, measured)", "ADC bits given"};
    if (st == XB_OK && any) {
        xb_bar_spec b = {.id = bits ? "bits" : "sat", .n = n, .m = bits ? 2 : 1,
                         .cats = (const char *const *)lab, .v = v, .cat_rot = true,
                         .xlabel = "matrix layer", .series = bn};
        b.title = bits ? "ADC resolution: bits needed vs bits given" : "ADC saturation per layer";
        b.ylabel = bits ? "ADC resolution (bits)" : "saturated conversions (%)";
        st = xb_plots_add(out, bits ? "adc_bits.svg" : "saturation.svg", b.title, xb_plot_bars(&b),
                          ctx);
    }
    xb_plot_free_labels(lab, n);
    free(v);
    return st;
}

static xb_status plot_diagnosis(const cJSON *d, xb_plots *out, xb_ctx *ctx) {
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(d, "layers");
    int n = cJSON_GetArraySize(ls);
    if (n <= 0 || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ls->child, "accuracy_exact")))
        return XB_OK;
    char **lab = xb_plot_layer_labels(ls, &n);
    double *v = calloc((size_t)n, sizeof *v);
    int i = 0;
    for (const cJSON *l = ls->child; lab && v && l; l = l->next, i++)
        v[i] = 100.0 * xb_plot_num(l, "accuracy_exact", NAN);
    xb_status st = XB_OK;
    if (!lab || !v) st = xb_fail(ctx, XB_ERR_NOMEM, "diagnosis plot: out of memory");
    if (st == XB_OK) {
        char ref[96];
        snprintf(ref, sizeof ref, "analog as run: %.1f%%", 100.0 * xb_plot_num(d, "analog_subset", 0));
        xb_bar_spec b = {.id = "diag", .title = "Accuracy with one layer made exact",
                         .ylabel = "top-1 accuracy on the subset (%)", .xlabel = "layer made exact",
                         .n = n, .m = 1, .cats = (const char *const *)lab, .v = v, .cat_rot = true,
                         .y_max = 100, .has_ref = true, .ref_label = ref,
                         .ref = 100.0 * xb_plot_num(d, "analog_subset", 0)};
        st = xb_plots_add(out, "diagnosis_layers.svg", b.title, xb_plot_bars(&b), ctx);
    }
    xb_plot_free_labels(lab, n);
    free(v);
    return st;
}

xb_status xb_plots_from_report(const cJSON *r, xb_plots *out, xb_ctx *ctx) {
    /* run: "layers" carry the cost; compile: "cost_layers" do, "layers" the mapping */
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(r, "cost_layers");
    const cJSON *layers = cost ? cost : cJSON_GetObjectItemCaseSensitive(r, "layers");
    XB_TRY(plot_accuracy(r, out, ctx));
    if (cJSON_IsArray(layers)) {
        XB_TRY(plot_energy(layers, out, ctx));
        XB_TRY(xb_plot_adc_histograms(layers, out, ctx));
        XB_TRY(plot_per_layer(layers, out, false, ctx));
        XB_TRY(plot_per_layer(layers, out, true, ctx));
    }
    XB_TRY(xb_plot_heatmap(r, out, ctx));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "diagnosis");
    if (d) XB_TRY(plot_diagnosis(d, out, ctx));
    return XB_OK;
}
