/* The HTML report: one self-contained file (inline CSS and SVG, no script,
 * no external reference of any kind) that a browser opens offline.
 *
 * From a run / compile report (JSON): summary, accuracy table, collapse
 * diagnosis, per-layer table, the plots (eval/plots.h), the architecture
 * as run and the provenance.  From a sweep CSV: the table, the Pareto plot
 * and the provenance comment lines. */
#ifndef XBAR_HTML_H
#define XBAR_HTML_H

#include "eval/plots.h"
#include "runtime/status.h"

struct cJSON;

xb_status xb_html_write_report(const struct cJSON *report, const xb_plots *plots, const char *path,
                               xb_ctx *ctx);
xb_status xb_html_write_sweep(const xb_sweep_csv *t, const xb_plots *plots, const char *source,
                              const char *path, xb_ctx *ctx);

#endif
