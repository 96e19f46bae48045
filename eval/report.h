/* Reporting pieces shared by the CLI commands: text tables, per-layer
 * statistics of a graph, JSON reports, messages.
 *
 * Commands build their output from these so that a new command or a new
 * column (the RRAM backend's analog mode adds both) reuses the same
 * formatting and the same JSON field names. */
#ifndef XBAR_REPORT_H
#define XBAR_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "eval/preprocess.h"
#include "eval/runner.h"
#include "kernels/layer_stats.h"
#include "runtime/ir.h"
#include "runtime/table.h"

struct cJSON;

/* --- messages ---------------------------------------------------------------- */
/* "xbar: <ctx message>" on stderr. */
void xb_report_error(const xb_ctx *ctx);
/* "xbar: note: ..." on stderr. */
void xb_report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "xbar: warning: ..." on stderr: something that likely makes the result
 * wrong (defaults assumed), as opposed to a note. */
void xb_report_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- JSON ---------------------------------------------------------------------- */
/* {"correct", "total", "accuracy", "top5_correct", "top5_accuracy",
 *  "images_per_s", "seconds", "threads"}: the names other tools read. */
struct cJSON *xb_json_run_result(const xb_run_result *r);
/* Pretty-print `root` into `path` ("-" = stdout). */
xb_status xb_json_write(const struct cJSON *root, const char *path, xb_ctx *ctx);

/* --- models ------------------------------------------------------------------- */
/* Load an ONNX model prepared for batch 1 and read its preprocessing (the
 * user's overrides `po`, may be NULL); prints the preprocessing notes and
 * the warning (defaults assumed) on stderr. */
xb_status xb_model_load(const char *path, const xb_preproc_opts *po, xb_graph **g, xb_preproc *pp,
                        xb_ctx *ctx);

#endif
