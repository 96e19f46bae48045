/* Paper-ready plots as SVG (eval/svg.h), drawn from the reports xbar writes:
 * the run / compile JSON (in memory or read back from a file) and a sweep's
 * CSV, so `xbar run --plot DIR` and `xbar plot FILE -o DIR` give the same
 * figures.
 *
 * From a run or compile report: accuracy per mode (accuracy.svg), energy
 * per layer stacked by component (energy_layers.svg), pre-ADC column-sum
 * histograms per layer with the ADC range and the clipped share
 * (adc_histograms.svg), saturation per layer (saturation.svg), ADC bits
 * needed against bits given (adc_bits.svg), crossbar occupancy with legend
 * and layer labels (crossbar_heatmap.svg), and, when the report has a
 * collapse diagnosis, the accuracy with each layer made exact
 * (diagnosis_layers.svg).  Each plot is made only when its data is present.
 * From a sweep CSV: analog accuracy against energy with the Pareto front and
 * each point labelled by its varied values (sweep_pareto.svg). */
#ifndef XBAR_PLOTS_H
#define XBAR_PLOTS_H

#include "runtime/status.h"

struct cJSON;

typedef struct {
    char name[48];    /* file name, e.g. "accuracy.svg" */
    char title[128];
    char *svg;        /* owned */
} xb_plot;

typedef struct {
    xb_plot *p;
    int n, cap;
} xb_plots;

/* Append every plot the report supports. */
xb_status xb_plots_from_report(const struct cJSON *report, xb_plots *out, xb_ctx *ctx);

/* A sweep CSV read into memory: header names, rows of cells; '#' lines
 * (provenance) are kept apart.  `n_keys` leading columns are the varied
 * fields (those before "images"). */
typedef struct {
    int n_cols, n_rows, n_keys;
    char **head;       /* [n_cols] */
    char **cell;       /* [n_rows * n_cols] */
    char **comments;   /* [n_comments] without the "# " */
    int n_comments;
} xb_sweep_csv;
xb_status xb_sweep_csv_read(const char *path, xb_sweep_csv *t, xb_ctx *ctx);
void xb_sweep_csv_free(xb_sweep_csv *t);
/* Index of column `name`, or -1. */
int xb_sweep_csv_col(const xb_sweep_csv *t, const char *name);
xb_status xb_plots_from_sweep(const xb_sweep_csv *t, xb_plots *out, xb_ctx *ctx);

/* A saved report: a JSON object (run / compile --json) into *json, or a
 * sweep CSV into *csv (*json stays NULL).  Files over 256 MiB are refused. */
xb_status xb_report_file_load(const char *path, struct cJSON **json, xb_sweep_csv *csv, xb_ctx *ctx);

/* Write each plot as DIR/NAME (created if missing; atomic, eval/outfile.h). */
xb_status xb_plots_write_dir(const xb_plots *p, const char *dir, xb_ctx *ctx);
void xb_plots_free(xb_plots *p);

/* Internal to plots*.c: take ownership of `svg` (NULL: out of memory). */
xb_status xb_plots_add(xb_plots *p, const char *name, const char *title, char *svg, xb_ctx *ctx);

#endif
