/* ADC histograms per layer (small multiples) and the crossbar heatmap. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/plots_int.h"
#include "eval/svg.h"

#define HCOLS 4
#define HW 230.0
#define HH 140.0

/* One panel: bars as the share of conversions per bin, the ADC range as
 * dashed lines, the out-of-range parts shaded, the clipped share written. */
static void hist_panel(xb_svg *g, const cJSON *l, int idx, double px, double py) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(l, "adc_histogram");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(h, "counts");
    double lo = xb_plot_num(h, "lo", 0), wd = xb_plot_num(h, "width", 1);
    int nb = cJSON_GetArraySize(counts);
    double total = 0, mx = 0;
    for (const cJSON *c = counts->child; c; c = c->next) {
        total += c->valuedouble;
        if (c->valuedouble > mx) mx = c->valuedouble;
    }
    double rlo = xb_plot_num(l, "adc_range_lo", NAN), rhi = xb_plot_num(l, "adc_range_hi", NAN);
    double x0 = lo, x1 = lo + wd * nb;
    if (isfinite(rlo) && rlo < x0) x0 = rlo;
    if (isfinite(rhi) && rhi + 1 > x1) x1 = rhi + 1;
    xb_svg_axes a = {.x = px + 50, .y = py + 26, .w = HW - 62, .h = HH - 70, .x0 = x0, .x1 = x1,
                     .y0 = 0, .y1 = total > 0 ? 100.0 * mx / total : 1};
    xb_svg_axes_nice(&a, true);
    char title[200], fill[64];
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l, "name");
    snprintf(title, sizeof title, "%d %s", idx, cJSON_IsString(nm) ? nm->valuestring : "?");
    xb_svg_text(g, px + HW / 2 + 10, py + 14, "middle", 10, 0, title);
    if (isfinite(rhi) && rhi < a.x1) /* clipped above: shaded */
        xb_svg_add(g, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#D55E00' fill-opacity='0.18'/>\n",
                   xb_svg_ax(&a, rhi), a.y, a.x + a.w - xb_svg_ax(&a, rhi), a.h);
    if (isfinite(rlo) && rlo > a.x0)
        xb_svg_add(g, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#D55E00' fill-opacity='0.18'/>\n",
                   a.x, a.y, xb_svg_ax(&a, rlo) - a.x, a.h);
    xb_svg_axes_draw(g, &a, NULL, NULL, true);
    xb_svg_fill(g, 0, fill, sizeof fill);
    int k = 0;
    for (const cJSON *c = counts->child; c && total > 0; c = c->next, k++) {
        if (c->valuedouble <= 0) continue;
        double xa = xb_svg_ax(&a, lo + wd * k), xb = xb_svg_ax(&a, lo + wd * (k + 1));
        double y = xb_svg_ay(&a, 100.0 * c->valuedouble / total);
        xb_svg_add(g, "<rect x='%.1f' y='%.1f' width='%.2f' height='%.1f' fill='%s'/>\n", xa, y,
                   fmax(0.8, xb - xa), a.y + a.h - y, fill);
    }
    for (int e = 0; e < 2; e++) {
        double r = e ? rhi : rlo;
        if (!isfinite(r) || r < a.x0 || r > a.x1) continue;
        double x = xb_svg_ax(&a, r);
        xb_svg_add(g, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-width='1.4' stroke-dasharray='4 3'/>\n",
                   x, a.y, x, a.y + a.h);
    }
    char sat[64];
    double sr = xb_plot_num(l, "saturation_rate", NAN);
    if (isfinite(sr)) snprintf(sat, sizeof sat, "clipped %.3g%%", 100.0 * sr);
    else snprintf(sat, sizeof sat, "lossless ADC");
    xb_svg_text(g, a.x + a.w - 3, a.y + 11, "end", 9.5, 0, sat);
}

xb_status xb_plot_adc_histograms(const cJSON *layers, xb_plots *out, xb_ctx *ctx) {
    int n = 0;
    for (const cJSON *l = layers->child; l; l = l->next)
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(l, "adc_histogram"), "counts")) > 0)
            n++;
    if (!n) return XB_OK;
    int rows = (n + HCOLS - 1) / HCOLS;
    xb_svg g;
    xb_svg_begin(&g, HCOLS * HW + 20, 40 + rows * HH + 60, "hist",
                 "Pre-ADC column sums per layer (dashed: ADC range; shaded: clipped)");
    int k = 0, idx = 0;
    for (const cJSON *l = layers->child; l; l = l->next, idx++) {
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(l, "adc_histogram"), "counts")) <= 0)
            continue;
        hist_panel(&g, l, idx, 10 + (k % HCOLS) * HW, 36 + (k / HCOLS) * HH);
        k++;
    }
    double by = 36 + rows * HH + 20;
    xb_svg_text(&g, (HCOLS * HW + 20) / 2, by, "middle", 12, 0,
                "x: column sum before the ADC (unit conductance levels x input digit); "
                "y: share of observed conversions (%)");
    return xb_plots_add(out, "adc_histograms.svg", "ADC input histograms per layer", xb_svg_end(&g), ctx);
}

/* --- crossbar heatmap ------------------------------------------------------------ */

static const cJSON *find_arch(const cJSON *r) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "arch");
    if (cJSON_IsObject(a)) return a;
    static const char *tot[] = {"totals", "cost_totals"};
    for (int i = 0; i < 2; i++) {
        a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, tot[i]), "arch");
        if (cJSON_IsObject(a)) return a;
    }
    return NULL;
}

/* One square per crossbar in mapping order, coloured and hatched by layer,
 * filled from the bottom to the layer's cell utilisation (grey: unused
 * cells); the layer number on its first crossbar; a legend of every layer. */
xb_status xb_plot_heatmap(const cJSON *r, xb_plots *out, xb_ctx *ctx) {
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(r, "layers");
    int n = cJSON_GetArraySize(layers);
    double total = 0;
    /* counts clamped at 0 so no layer can draw more squares than the total */
    for (const cJSON *l = layers ? layers->child : NULL; l; l = l->next)
        total += fmax(0, xb_plot_num(l, "crossbars", 0));
    if (n <= 0 || !(total > 0) || total > 20000) return XB_OK; /* beyond: unreadable as squares */
    const cJSON *arch = find_arch(r);
    int cols = (int)ceil(sqrt(total * 2.0));
    double s = fmin(26, fmax(3, 760.0 / cols)), gw = cols * s;
    int rows = (int)ceil(total / cols);
    int lcols = 2, lrows = (n + lcols - 1) / lcols;
    double W = fmax(gw + 40, 900), H = 60 + rows * s + 30 + lrows * 18 + 20;
    char title[200];
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(arch, "name");
    snprintf(title, sizeof title, "Crossbar occupancy: %s, %.0f crossbars of %gx%g cells",
             cJSON_IsString(an) ? an->valuestring : "arch", total, xb_plot_num(arch, "rows", 0),
             xb_plot_num(arch, "cols", 0));
    xb_svg g;
    xb_svg_begin(&g, W, H, "heat", title);
    xb_svg_text(&g, W / 2, 40, "middle", 11, 0,
                "one square per crossbar; coloured height = share of its cells holding weights; grey = unused");
    double x0 = (W - gw) / 2, y0 = 52;
    char fill[64], num[16];
    int64_t xb = 0;
    int i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++) {
        int64_t nx = (int64_t)fmax(0, xb_plot_num(l, "crossbars", 0));
        double u = fmin(1, fmax(0, xb_plot_num(l, "utilisation", 1)));
        xb_svg_fill(&g, i, fill, sizeof fill);
        for (int64_t k = 0; k < nx; k++, xb++) {
            double x = x0 + (double)(xb % cols) * s, y = y0 + (double)(xb / cols) * s;
            xb_svg_add(&g, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#e6e6e6' stroke='#fff' stroke-width='0.5'/>"
                           "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n",
                       x, y, s, s, x + 0.5, y + s * (1 - u) + 0.5, s - 1, s * u - 1 > 0 ? s * u - 1 : 0.5, fill);
            if (k == 0 && s >= 12) {
                snprintf(num, sizeof num, "%d", i);
                xb_svg_add(&g, "<rect x='%.1f' y='%.1f' width='%.1f' height='10' fill='#fff' fill-opacity='0.85'/>", x + 1, y + 1, 6.0 * (double)strlen(num) + 2);
                xb_svg_text(&g, x + 2, y + 9.5, "start", 9, 0, num);
            }
        }
    }
    double ly = y0 + rows * s + 24, lw = (W - 20) / lcols;
    i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++) {
        double lx = 10 + (i % lcols) * lw, yy = ly + (i / lcols) * 18;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l, "name");
        char lab[300];
        snprintf(lab, sizeof lab, "%d %s (%g xbars, %.0f%%)", i, cJSON_IsString(nm) ? nm->valuestring : "?",
                 xb_plot_num(l, "crossbars", 0), 100 * xb_plot_num(l, "utilisation", 0));
        xb_svg_fill(&g, i, fill, sizeof fill);
        xb_svg_add(&g, "<rect x='%.1f' y='%.1f' width='12' height='12' fill='%s' stroke='#000'/>\n", lx, yy, fill);
        xb_svg_text(&g, lx + 17, yy + 10, "start", 10, 0, lab);
    }
    return xb_plots_add(out, "crossbar_heatmap.svg", title, xb_svg_end(&g), ctx);
}
