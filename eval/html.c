#include "eval/html.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/outfile.h"

static const char css[] =
    "body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#111;padding:0 1em}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #999;margin-top:2em}"
    "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}"
    "td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}"
    "td.l,th.l{text-align:left}th{background:#eee}"
    ".bad{background:#fde0d0}.note{color:#444;font-size:0.9em}"
    "figure{margin:1em 0;overflow-x:auto}figcaption{font-size:0.9em;color:#333}"
    "pre{background:#f6f6f6;padding:0.6em;overflow-x:auto;font-size:0.8em}"
    "@media print{h2{page-break-before:auto}figure{page-break-inside:avoid}}";

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
/* A string field, "" when absent or not a string (saved reports may be
 * edited or truncated: never trust their shape). */
static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}
static const cJSON *first(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsArray(v) ? v->child : NULL;
}
static double num(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* An inline SVG: the xmlns attribute is dropped (HTML5 does not need it),
 * so the page holds no URL at all. */
static void put_svg(FILE *f, const char *svg) {
    static const char ns[] = " xmlns='http://www.w3.org/2000/svg'";
    const char *p = strstr(svg, ns);
    if (p) {
        fwrite(svg, 1, (size_t)(p - svg), f);
        fputs(p + strlen(ns), f);
    } else {
        fputs(svg, f);
    }
}

static void head(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>", f);
    esc(f, title);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
    esc(f, title);
    fputs("</h1>\n", f);
}

static void plots_section(FILE *f, const xb_plots *p) {
    if (!p || !p->n) return;
    fputs("<h2>Plots</h2>\n", f);
    for (int i = 0; i < p->n; i++) {
        fprintf(f, "<figure id=\"plot-%d\">", i);
        put_svg(f, p->p[i].svg);
        fputs("<figcaption>", f);
        esc(f, p->p[i].title);
        fputs(" (", f);
        esc(f, p->p[i].name);
        fputs(")</figcaption></figure>\n", f);
    }
}

/* Any JSON value as an indented, escaped block. */
static void json_block(FILE *f, const cJSON *v) {
    char *t = v ? cJSON_Print(v) : NULL;
    fputs("<pre>", f);
    esc(f, t ? t : "(none)");
    fputs("</pre>\n", f);
    cJSON_free(t);
}

static void summary(FILE *f, const cJSON *r) {
    fputs("<h2>Summary</h2>\n<table><tr><th class=l>item</th><th class=l>value</th></tr>\n", f);
    static const char *keys[] = {"model", "dataset", "dataset_path", "images"};
    for (int i = 0; i < 4; i++) {
        const cJSON *v = get(r, keys[i]);
        if (!v) continue;
        fprintf(f, "<tr><td class=l>%s</td><td class=l>", keys[i]);
        if (cJSON_IsString(v)) esc(f, v->valuestring);
        else fprintf(f, "%g", v->valuedouble);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    static const char *modes[] = {"float", "int8", "analog"};
    bool any = false;
    for (int i = 0; i < 3; i++) any |= get(r, modes[i]) != NULL;
    if (any) {
        fputs("<table><tr><th class=l>mode</th><th>top-1</th><th>top-5</th><th>correct</th><th>images/s</th></tr>\n", f);
        for (int i = 0; i < 3; i++) {
            const cJSON *m = get(r, modes[i]);
            if (m)
                fprintf(f, "<tr><td class=l>%s</td><td>%.2f%%</td><td>%.2f%%</td><td>%.0f/%.0f</td><td>%.1f</td></tr>\n",
                        modes[i], 100 * num(m, "accuracy"), 100 * num(m, "top5_accuracy"), num(m, "correct"),
                        num(m, "total"), num(m, "images_per_s"));
        }
        fputs("</table>\n", f);
    }
    const cJSON *t = get(r, "totals");
    if (!t) t = get(r, "cost_totals");
    if (t)
        fprintf(f, "<p>Energy per inference %.4g &micro;J (ADC share %.1f%%), latency %.4g &micro;s, %.0f crossbars, "
                   "%.3g TOPS/W, area %.3g mm&sup2;%s.</p>\n",
                num(t, "energy_pj_per_inference") * 1e-6, 100 * num(t, "adc_energy_share"),
                num(t, "latency_ns") * 1e-3, num(t, "crossbars"), num(t, "tops_per_w"), num(t, "area_mm2"),
                cJSON_IsFalse(get(t, "fits")) ? " &mdash; <b>DOES NOT FIT</b> the chip" : "");
}

static void diagnosis(FILE *f, const cJSON *d) {
    if (!d) return;
    fputs("<h2 id=\"diagnosis\">Collapse diagnosis</h2>\n", f);
    if (!cJSON_IsTrue(get(d, "triggered"))) {
        fprintf(f, "<p>Analog top-1 is %.2f points below int8: within the %.3g-point threshold, no diagnosis.</p>\n",
                num(d, "drop_points"), num(d, "threshold_points"));
        return;
    }
    fprintf(f, "<p><b>Analog top-1 is %.2f points below int8</b> (threshold %.3g). Measured on images #0..#%.0f "
               "(int8 %.2f%%, analog %.2f%%) by making one layer exact at a time (%.1f s).</p>\n",
            num(d, "drop_points"), num(d, "threshold_points"), num(d, "images") - 1, 100 * num(d, "int8_subset"),
            100 * num(d, "analog_subset"), num(d, "seconds"));
    const cJSON *resp = get(d, "responsible");
    fputs("<p>Most responsible layers: ", f);
    if (cJSON_GetArraySize(resp) == 0) fputs("none alone recovers a point (the loss is spread)", f);
    for (const cJSON *r = first(d, "responsible"); r; r = r->next) {
        fputs("<b>", f);
        esc(f, cJSON_IsString(r) ? r->valuestring : "");
        fputs(r->next ? "</b>, " : "</b>", f);
    }
    fputs("</p>\n<table><tr><th>#</th><th class=l>layer</th><th>saturated</th><th>bits needed</th>"
          "<th>bits given</th><th>top-1 if exact</th><th>recovered</th></tr>\n", f);
    for (const cJSON *l = first(d, "layers"); l; l = l->next) {
        bool bad = num(l, "recovered_points") >= 1.0;
        fprintf(f, "<tr%s><td>%.0f</td><td class=l>", bad ? " class=bad" : "", num(l, "layer"));
        esc(f, str(l, "name"));
        fprintf(f, "</td><td>%.3f%%</td><td>%.0f</td><td>%s%.0f</td><td>%.2f%%</td><td>%+.2f</td></tr>\n",
                100 * num(l, "saturation_rate"), num(l, "bits_needed"),
                cJSON_IsTrue(get(l, "lossless")) ? "lossless " : "", num(l, "bits_given"),
                100 * num(l, "accuracy_exact"), num(l, "recovered_points"));
    }
    fputs("</table>\n<p>Suggestions, each applied alone to the arch as run and measured on the same images:</p><ul>\n", f);
    for (const cJSON *s = first(d, "suggestions"); s; s = s->next) {
        fputs("<li><code>--set ", f);
        esc(f, str(s, "set"));
        fputs("</code>: ", f);
        esc(f, str(s, "why"));
        if (isfinite(num(s, "accuracy"))) fprintf(f, " &rarr; <b>%.2f%%</b>", 100 * num(s, "accuracy"));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void layer_table(FILE *f, const cJSON *layers) {
    if (!cJSON_IsArray(layers) || !layers->child) return;
    static const char *cols[] = {"name", "K", "N", "crossbars", "utilisation", "macs", "adc_conversions",
                                 "adc_bits", "bits_needed", "saturation_rate", "zero_share",
                                 "energy_pj_total", "latency_ns"};
    int nc = (int)(sizeof cols / sizeof *cols);
    fputs("<h2>Layers</h2>\n<table><tr><th>#</th>", f);
    for (int c = 0; c < nc; c++)
        if (get(layers->child, cols[c])) fprintf(f, "<th%s>%s</th>", c ? "" : " class=l", cols[c]);
    fputs("</tr>\n", f);
    int i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++) {
        fprintf(f, "<tr><td>%d</td>", i);
        for (int c = 0; c < nc; c++) {
            const cJSON *v = get(l, cols[c]);
            if (!get(layers->child, cols[c])) continue;
            if (cJSON_IsString(v)) {
                fputs("<td class=l>", f);
                esc(f, v->valuestring);
                fputs("</td>", f);
            } else if (cJSON_IsNumber(v)) {
                fprintf(f, "<td>%.6g</td>", v->valuedouble);
            } else {
                fputs("<td></td>", f);
            }
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static const cJSON *arch_of(const cJSON *r) {
    const cJSON *p = get(get(r, "provenance"), "arch");
    if (p) return p;
    if (get(r, "arch")) return get(r, "arch");
    if (get(get(r, "totals"), "arch")) return get(get(r, "totals"), "arch");
    return get(get(r, "cost_totals"), "arch");
}

xb_status xb_html_write_report(const cJSON *r, const xb_plots *plots, const char *path, xb_ctx *ctx) {
    xb_outfile o;
    XB_TRY(xb_outfile_open(&o, path, ctx));
    FILE *f = o.f;
    const cJSON *m = get(r, "model");
    char title[512];
    snprintf(title, sizeof title, "xbar report: %s", cJSON_IsString(m) ? m->valuestring : "model");
    head(f, title);
    summary(f, r);
    diagnosis(f, get(r, "diagnosis"));
    const cJSON *cost = get(r, "cost_layers");
    layer_table(f, cost ? cost : get(r, "layers"));
    plots_section(f, plots);
    fputs("<h2>Architecture as run</h2>\n", f);
    json_block(f, arch_of(r));
    fputs("<h2>Provenance</h2>\n", f);
    json_block(f, get(r, "provenance"));
    fputs("<p class=note>Written by xbar; self-contained (no scripts, no external files).</p>\n</body></html>\n", f);
    return xb_outfile_commit(&o, ctx);
}

xb_status xb_html_write_sweep(const xb_sweep_csv *t, const xb_plots *plots, const char *source,
                              const char *path, xb_ctx *ctx) {
    xb_outfile o;
    XB_TRY(xb_outfile_open(&o, path, ctx));
    FILE *f = o.f;
    char title[512];
    snprintf(title, sizeof title, "xbar sweep report: %s", source);
    head(f, title);
    fprintf(f, "<h2>Summary</h2><p>%d configurations, varied: ", t->n_rows);
    for (int k = 0; k < t->n_keys; k++) {
        esc(f, t->head[k]);
        fputs(k + 1 < t->n_keys ? ", " : "", f);
    }
    fputs(".</p>\n", f);
    plots_section(f, plots);
    fputs("<h2>Configurations</h2>\n<table><tr>", f);
    for (int c = 0; c < t->n_cols; c++) {
        fputs("<th>", f);
        esc(f, t->head[c]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int r = 0; r < t->n_rows; r++) {
        fputs("<tr>", f);
        for (int c = 0; c < t->n_cols; c++) {
            fputs("<td>", f);
            esc(f, t->cell[r * t->n_cols + c]);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<h2>Provenance</h2>\n<pre>", f);
    for (int i = 0; i < t->n_comments; i++) {
        esc(f, t->comments[i]);
        fputc('\n', f);
    }
    if (!t->n_comments) fputs("(the CSV has no provenance lines)", f);
    fputs("</pre>\n</body></html>\n", f);
    return xb_outfile_commit(&o, ctx);
}
