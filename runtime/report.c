#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void xb_report_error(const xb_ctx *ctx) {
    fprintf(stderr, "xbar: %s\n", ctx->msg[0] ? ctx->msg : xb_status_name(ctx->status));
}

void xb_report_note(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "xbar: note: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* --- tables -------------------------------------------------------------------- */

void xb_table_init(xb_table *t, int n_cols, const char *const *heads) {
    memset(t, 0, sizeof *t);
    if (n_cols > XB_TABLE_MAX_COLS) n_cols = XB_TABLE_MAX_COLS;
    t->n_cols = n_cols;
    for (int i = 0; i < n_cols; i++) {
        const char *h = heads[i];
        t->right[i] = h[0] == '>';
        t->head[i] = (h[0] == '>' || h[0] == '<') ? h + 1 : h;
    }
}

void xb_table_row(xb_table *t) {
    if (t->n_rows == t->cap_rows) {
        int ncap = t->cap_rows ? 2 * t->cap_rows : 16;
        char **nc = realloc(t->cells, (size_t)ncap * (size_t)t->n_cols * sizeof(char *));
        if (!nc) return; /* out of memory: the row is dropped, the report continues */
        t->cells = nc;
        t->cap_rows = ncap;
    }
    memset(t->cells + (size_t)t->n_rows * (size_t)t->n_cols, 0, (size_t)t->n_cols * sizeof(char *));
    t->n_rows++;
}

void xb_table_cell(xb_table *t, const char *fmt, ...) {
    if (!t->n_rows) return;
    char **row = t->cells + (size_t)(t->n_rows - 1) * (size_t)t->n_cols;
    int k = 0;
    while (k < t->n_cols && row[k]) k++;
    if (k == t->n_cols) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    row[k] = strdup(buf);
}

void xb_table_print(const xb_table *t, FILE *f, const char *indent) {
    int width[XB_TABLE_MAX_COLS];
    for (int c = 0; c < t->n_cols; c++) {
        width[c] = (int)strlen(t->head[c]);
        for (int r = 0; r < t->n_rows; r++) {
            const char *s = t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
            int l = s ? (int)strlen(s) : 0;
            if (l > width[c]) width[c] = l;
        }
    }
    char line[4096];
    for (int r = -1; r < t->n_rows; r++) {
        size_t off = 0;
        for (int c = 0; c < t->n_cols && off < sizeof line; c++) {
            const char *s = r < 0 ? t->head[c] : t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
            if (!s) s = "";
            int k = t->right[c] ? snprintf(line + off, sizeof line - off, "%*s", width[c], s)
                                : snprintf(line + off, sizeof line - off, "%-*s", width[c], s);
            off += k > 0 ? (size_t)k : 0;
            if (c < t->n_cols - 1 && off + 2 < sizeof line) off += (size_t)snprintf(line + off, sizeof line - off, "  ");
        }
        if (off >= sizeof line) off = sizeof line - 1;
        while (off > 0 && line[off - 1] == ' ') off--; /* no trailing blanks */
        line[off] = '\0';
        fprintf(f, "%s%s\n", indent ? indent : "", line);
    }
}

void xb_table_free(xb_table *t) {
    for (size_t i = 0; i < (size_t)t->n_rows * (size_t)t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

char *xb_fmt_count(double v, char *buf, size_t n) {
    if (v < 10000)
        snprintf(buf, n, "%.0f", v);
    else if (v < 1e6)
        snprintf(buf, n, "%.1fK", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else
        snprintf(buf, n, "%.2fG", v / 1e9);
    return buf;
}

/* --- layer statistics ----------------------------------------------------------- */

static const xb_tensor *in_t(const xb_graph *g, const xb_node *n, int i) {
    return (i < n->n_in && n->in[i] >= 0) ? &g->tensors[n->in[i]] : NULL;
}

int xb_graph_count_quantized(const xb_graph *g) {
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].domain, "xbar") && !strncmp(g->nodes[i].op_type, "XbarQ", 5)) k++;
    return k;
}

xb_status xb_layer_stats(const xb_graph *g, xb_layer_stat **out, int *n_out, xb_ctx *ctx) {
    *out = NULL;
    *n_out = 0;
    xb_layer_stat *s = xb_calloc(ctx, (size_t)g->n_nodes + 1, sizeof *s);
    if (!s) return ctx->status;
    for (int i = 0; i < g->n_nodes; i++) {
        const xb_node *n = &g->nodes[i];
        xb_layer_stat *L = &s[i];
        L->node = i;
        L->name = n->name;
        L->op = n->op_type;
        bool qconv = !strcmp(n->op_type, "XbarQConv"), qgemm = !strcmp(n->op_type, "XbarQGemm");
        L->quantized = qconv || qgemm;
        bool qdq = !strcmp(n->op_type, "QuantizeLinear") || !strcmp(n->op_type, "DequantizeLinear");
        for (int j = 0; j < n->n_in; j++) {
            const xb_tensor *t = in_t(g, n, j);
            if (!t || !t->is_const) continue;
            /* scales and zero points are not parameters of the network */
            if (L->quantized && j == 2) continue;
            if (qdq && j >= 1) continue;
            if (t->dtype == XB_F32 || t->dtype == XB_I8 || t->dtype == XB_U8)
                L->params += xb_shape_numel(&t->shape);
        }
        const xb_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
        const xb_tensor *x = in_t(g, n, 0), *w = in_t(g, n, 1);
        if (!y || !x || !w) continue;
        int64_t ynumel = xb_shape_numel(&y->shape);
        if ((!strcmp(n->op_type, "Conv") || qconv) && w->shape.rank >= 3) {
            int64_t k = 1;
            for (int d = 1; d < w->shape.rank; d++) k *= w->shape.d[d];
            L->matrix = true;
            L->groups = xb_attr_int(n, "group", 1);
            if (L->groups < 1) L->groups = 1;
            L->K = k;
            L->N = w->shape.d[0] / L->groups;
            L->macs = ynumel * k;
        } else if ((!strcmp(n->op_type, "Gemm") && n->n_in >= 2) && w->shape.rank == 2 &&
                   y->shape.rank == 2) {
            int64_t N = y->shape.d[1], M = y->shape.d[0];
            L->matrix = true;
            L->groups = 1;
            L->N = N;
            L->K = M ? xb_shape_numel(&x->shape) / M : 0;
            L->macs = M * N * L->K;
        } else if ((!strcmp(n->op_type, "MatMul") || qgemm) && x->shape.rank >= 1 &&
                   w->shape.rank == 2) {
            L->matrix = true;
            L->groups = 1;
            L->K = x->shape.d[x->shape.rank - 1];
            L->N = qgemm ? w->shape.d[0] : w->shape.d[1];
            L->macs = ynumel * L->K;
        }
        if (L->quantized) {
            L->x_bits = (int)xb_attr_int(n, "x_bits", 8);
            L->w_bits = (int)xb_attr_int(n, "w_bits", 8);
            L->x_scale = xb_attr_float(n, "x_scale", 0.0f);
            L->x_zero_point = (int)xb_attr_int(n, "x_zero_point", 0);
            const xb_tensor *ws = in_t(g, n, 2);
            if (ws && ws->is_const && ws->dtype == XB_F32 && ws->data) {
                const float *v = ws->data;
                int64_t m = xb_shape_numel(&ws->shape);
                L->w_scale_min = L->w_scale_max = m ? v[0] : 0.0f;
                for (int64_t k = 1; k < m; k++) {
                    if (v[k] < L->w_scale_min) L->w_scale_min = v[k];
                    if (v[k] > L->w_scale_max) L->w_scale_max = v[k];
                }
            }
        }
    }
    *out = s;
    *n_out = g->n_nodes;
    return XB_OK;
}

/* --- JSON --------------------------------------------------------------------- */

cJSON *xb_json_run_result(const xb_run_result *r) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "correct", (double)r->correct1);
    cJSON_AddNumberToObject(o, "total", (double)r->total);
    cJSON_AddNumberToObject(o, "accuracy", r->total ? (double)r->correct1 / (double)r->total : 0.0);
    cJSON_AddNumberToObject(o, "top5_correct", (double)r->correct5);
    cJSON_AddNumberToObject(o, "top5_accuracy",
                            r->total ? (double)r->correct5 / (double)r->total : 0.0);
    cJSON_AddNumberToObject(o, "images_per_s", r->images_per_s);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    return o;
}

xb_status xb_json_write(const cJSON *root, const char *path, xb_ctx *ctx) {
    char *text = cJSON_Print(root);
    if (!text) return xb_fail(ctx, XB_ERR_NOMEM, "%s: cannot format the JSON report", path);
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        free(text);
        return xb_fail(ctx, XB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
    if (f != stdout)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    free(text);
    if (bad) return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return XB_OK;
}

/* --- models ------------------------------------------------------------------- */

#include "../frontend/onnx.h"

xb_status xb_model_load(const char *path, xb_graph **g, xb_preproc *pp, xb_ctx *ctx) {
    *g = NULL;
    memset(pp, 0, sizeof *pp);
    XB_TRY(xb_onnx_load(path, 1, g, ctx));
    if (xb_preproc_init(pp, *g, ctx) != XB_OK) {
        xb_graph_free(*g);
        *g = NULL;
        return ctx->status;
    }
    if (pp->note[0]) xb_report_note("%s: %s", path, pp->note);
    return XB_OK;
}
