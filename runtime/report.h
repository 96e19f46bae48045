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

#include "ir.h"
#include "runner.h"

struct cJSON;

/* --- messages ---------------------------------------------------------------- */
/* "xbar: <ctx message>" on stderr. */
void xb_report_error(const xb_ctx *ctx);
/* "xbar: note: ..." on stderr. */
void xb_report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- tables ------------------------------------------------------------------ */
#define XB_TABLE_MAX_COLS 16

typedef struct {
    int n_cols;
    const char *head[XB_TABLE_MAX_COLS];
    bool right[XB_TABLE_MAX_COLS];  /* right-align (numbers) */
    int n_rows, cap_rows;
    char **cells;                   /* n_rows * n_cols strings, owned */
} xb_table;

/* Columns: a header name; a leading '>' right-aligns it ("<" or nothing:
 * left).  The header pointers must outlive the table. */
void xb_table_init(xb_table *t, int n_cols, const char *const *heads);
/* Append a row; cells are printf'd one by one with xb_table_cell. */
void xb_table_row(xb_table *t);
void xb_table_cell(xb_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xb_table_print(const xb_table *t, FILE *f, const char *indent);
void xb_table_free(xb_table *t);

/* 1234567 -> "1.23M"; keeps small numbers exact. */
char *xb_fmt_count(double v, char *buf, size_t n);

/* --- per-layer statistics ----------------------------------------------------- */
typedef struct {
    int node;            /* index in g->nodes */
    const char *name;
    const char *op;
    int64_t params;      /* weight and bias elements (quantization scales not counted) */
    int64_t macs;        /* multiply-accumulates per image (matrix layers) */
    bool matrix;         /* Conv, Gemm, MatMul, XbarQConv, XbarQGemm */
    bool quantized;      /* XbarQConv / XbarQGemm */
    int64_t K, N;        /* weight matrix per group: K rows (Cin/group*kh*kw), N columns */
    int64_t groups;
    int x_bits, w_bits;  /* quantized layers */
    float x_scale;
    int x_zero_point;
    float w_scale_min, w_scale_max;
} xb_layer_stat;

/* One entry per node of a prepared graph (caller frees *out). */
xb_status xb_layer_stats(const xb_graph *g, xb_layer_stat **out, int *n, xb_ctx *ctx);
int xb_graph_count_quantized(const xb_graph *g);

/* --- JSON ---------------------------------------------------------------------- */
/* {"correct", "total", "accuracy", "top5_correct", "top5_accuracy",
 *  "images_per_s", "seconds", "threads"}: the names other tools read. */
struct cJSON *xb_json_run_result(const xb_run_result *r);
/* Pretty-print `root` into `path` ("-" = stdout). */
xb_status xb_json_write(const struct cJSON *root, const char *path, xb_ctx *ctx);

/* --- models ------------------------------------------------------------------- */
#include "preprocess.h"
/* Load an ONNX model prepared for batch 1 and read its preprocessing;
 * prints the preprocessing notes (defaults used...) on stderr. */
xb_status xb_model_load(const char *path, xb_graph **g, xb_preproc *pp, xb_ctx *ctx);

#endif
