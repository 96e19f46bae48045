/* Shared between plots.c, plots_hist.c and plots_sweep.c (not an API). */
#ifndef XBAR_PLOTS_INT_H
#define XBAR_PLOTS_INT_H

#include <stdbool.h>

#include "eval/plots.h"

/* n categories x m series bar chart, v[i * m + j]; stacked or grouped. */
typedef struct {
    const char *id, *title, *ylabel, *xlabel;
    int n, m;
    const char *const *cats, *const *series;
    const double *v;
    bool stacked, value_labels, cat_rot, color_by_cat, has_ref;
    double y_max, ref;   /* y_max: at least this top (e.g. 100 %) */
    const char *ref_label;
} xb_bar_spec;

char *xb_plot_bars(const xb_bar_spec *b);
char **xb_plot_layer_labels(const struct cJSON *layers, int *n);
void xb_plot_free_labels(char **lab, int n);
double xb_plot_num(const struct cJSON *o, const char *key, double dflt);
xb_status xb_plot_adc_histograms(const struct cJSON *layers, xb_plots *out, xb_ctx *ctx);
xb_status xb_plot_heatmap(const struct cJSON *report, xb_plots *out, xb_ctx *ctx);

#endif
