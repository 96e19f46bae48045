/* A sweep CSV: reading it, and its accuracy-vs-energy plot with the
 * Pareto front (no other configuration has both higher accuracy and lower
 * energy). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/plots_int.h"
#include "eval/svg.h"

void xb_sweep_csv_free(xb_sweep_csv *t) {
    for (int i = 0; i < t->n_cols; i++) free(t->head[i]);
    for (int i = 0; i < t->n_rows * t->n_cols; i++) free(t->cell[i]);
    for (int i = 0; i < t->n_comments; i++) free(t->comments[i]);
    free(t->head);
    free(t->cell);
    free(t->comments);
    *t = (xb_sweep_csv){0};
}

int xb_sweep_csv_col(const xb_sweep_csv *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->head[i], name)) return i;
    return -1;
}

/* Split one line at commas (double quotes around a cell are removed). */
static int split(char *line, char **out, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        char *start = p;
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"') p++;
            if (*p) *p++ = 0;
        }
        while (*p && *p != ',') p++;
        int end = *p == ',';
        *p = 0;
        out[n++] = start;
        if (!end) break;
        p++;
    }
    return n;
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

#define CSV_MAX_COLS 256

static xb_status add_row(xb_sweep_csv *t, char **f, int n, const char *path, int lineno, xb_ctx *ctx) {
    if (!t->head) {
        t->head = calloc((size_t)n, sizeof *t->head);
        if (!t->head) return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
        t->n_cols = n;
        for (int i = 0; i < n; i++) t->head[i] = dup(f[i]);
        t->n_keys = xb_sweep_csv_col(t, "images");
        if (t->n_keys < 0 || xb_sweep_csv_col(t, "analog_accuracy") < 0 ||
            xb_sweep_csv_col(t, "energy_pj_per_inference") < 0)
            return xb_fail(ctx, XB_ERR_PARSE,
                           "%s: not a sweep CSV (no images / analog_accuracy / "
                           "energy_pj_per_inference columns)", path);
        return XB_OK;
    }
    if (n != t->n_cols)
        return xb_fail(ctx, XB_ERR_PARSE, "%s:%d: %d cells, the header has %d", path, lineno, n,
                       t->n_cols);
    char **c = realloc(t->cell, (size_t)(t->n_rows + 1) * (size_t)n * sizeof *c);
    if (!c) return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    t->cell = c;
    for (int i = 0; i < n; i++) c[t->n_rows * n + i] = dup(f[i]);
    t->n_rows++;
    return XB_OK;
}

xb_status xb_sweep_csv_read(const char *path, xb_sweep_csv *t, xb_ctx *ctx) {
    *t = (xb_sweep_csv){0};
    FILE *f = fopen(path, "r");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    char *line = NULL, *fields[CSV_MAX_COLS];
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    xb_status st = XB_OK;
    while (st == XB_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (line[0] == '#') {
            char **c = realloc(t->comments, (size_t)(t->n_comments + 1) * sizeof *c);
            if (!c) st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
            else (t->comments = c)[t->n_comments++] = dup(line + (line[1] == ' ' ? 2 : 1));
            continue;
        }
        st = add_row(t, fields, split(line, fields, CSV_MAX_COLS), path, lineno, ctx);
    }
    free(line);
    fclose(f);
    if (st == XB_OK && !t->head) st = xb_fail(ctx, XB_ERR_PARSE, "%s: empty CSV", path);
    if (st != XB_OK) xb_sweep_csv_free(t);
    return st;
}

/* --- accuracy vs energy ---------------------------------------------------------- */

static double cell_num(const xb_sweep_csv *t, int r, int c) {
    char *end;
    const char *s = t->cell[r * t->n_cols + c];
    double v = strtod(s, &end);
    return end != s ? v : NAN;
}

xb_status xb_plots_from_sweep(const xb_sweep_csv *t, xb_plots *out, xb_ctx *ctx) {
    int ca = xb_sweep_csv_col(t, "analog_accuracy"), ce = xb_sweep_csv_col(t, "energy_pj_per_inference");
    int ci = xb_sweep_csv_col(t, "int8_accuracy");
    if (t->n_rows == 0) return XB_OK;
    double *x = calloc((size_t)t->n_rows, sizeof *x), *y = calloc((size_t)t->n_rows, sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return xb_fail(ctx, XB_ERR_NOMEM, "sweep plot: out of memory");
    }
    xb_svg_axes a = {.x = 90, .y = 50, .w = 560, .h = 360, .x0 = INFINITY, .x1 = -INFINITY, .y0 = 0, .y1 = 100};
    for (int r = 0; r < t->n_rows; r++) {
        x[r] = cell_num(t, r, ce) * 1e-3;
        y[r] = 100.0 * cell_num(t, r, ca);
        if (isfinite(x[r])) a.x0 = fmin(a.x0, x[r]), a.x1 = fmax(a.x1, x[r]);
    }
    a.x0 *= 0.95;
    a.x1 *= 1.05;
    xb_svg_axes_nice(&a, true);
    xb_svg g;
    xb_svg_begin(&g, 900, 500, "pareto", "Sweep: analog accuracy vs energy (Pareto front)");
    xb_svg_axes_draw(&g, &a, "energy per inference (nJ)", "analog top-1 accuracy (%)", true);
    if (ci >= 0 && isfinite(cell_num(t, 0, ci))) {
        double yi = xb_svg_ay(&a, 100.0 * cell_num(t, 0, ci));
        xb_svg_add(&g, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#000' stroke-dasharray='6 4'/>\n",
                   a.x, yi, a.x + a.w, yi);
        xb_svg_text(&g, a.x + 4, yi - 5, "start", 11, 0, "int8 reference");
    }
    /* the front: sorted by energy, each point beating every cheaper one */
    int *ord = calloc((size_t)t->n_rows, sizeof *ord), nf = 0;
    for (int r = 0; ord && r < t->n_rows; r++) {
        bool dominated = false;
        for (int q = 0; q < t->n_rows && !dominated; q++)
            dominated = q != r && x[q] <= x[r] && y[q] >= y[r] && (x[q] < x[r] || y[q] > y[r]);
        if (!dominated && isfinite(x[r]) && isfinite(y[r])) ord[nf++] = r;
    }
    for (int i = 1; i < nf; i++)
        for (int j = i; j > 0 && x[ord[j]] < x[ord[j - 1]]; j--) {
            int tmp = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = tmp;
        }
    xb_svg_add(&g, "<polyline fill='none' stroke='#D55E00' stroke-width='2' points='");
    for (int i = 0; i < nf; i++) xb_svg_add(&g, "%.1f,%.1f ", xb_svg_ax(&a, x[ord[i]]), xb_svg_ay(&a, y[ord[i]]));
    xb_svg_add(&g, "'/>\n");
    for (int r = 0; r < t->n_rows; r++) {
        if (!isfinite(x[r]) || !isfinite(y[r])) continue;
        bool front = false;
        for (int i = 0; i < nf; i++) front |= ord[i] == r;
        xb_svg_marker(&g, front ? 1 : 0, xb_svg_ax(&a, x[r]), xb_svg_ay(&a, y[r]), 5,
                      front ? xb_svg_color(1) : xb_svg_color(0));
        char lab[256] = "";
        for (int k = 0; k < t->n_keys; k++)
            snprintf(lab + strlen(lab), sizeof lab - strlen(lab), "%s%s", k ? "," : "", t->cell[r * t->n_cols + k]);
        xb_svg_text(&g, xb_svg_ax(&a, x[r]) + 7, xb_svg_ay(&a, y[r]) - 6, "start", 9, 0, lab);
    }
    static const char *leg[] = {"configuration", "on the Pareto front"};
    xb_svg_legend(&g, a.x + a.w + 20, a.y, 2, leg, true);
    char keys[256] = "labels: ";
    for (int k = 0; k < t->n_keys; k++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? "," : "", t->head[k]);
    xb_svg_text(&g, a.x + a.w + 20, a.y + 60, "start", 10, 0, keys);
    free(ord);
    free(x);
    free(y);
    return xb_plots_add(out, "sweep_pareto.svg", "Analog accuracy vs energy", xb_svg_end(&g), ctx);
}

/* --- saved reports --------------------------------------------------------------- */

#define REPORT_MAX_BYTES (256u << 20)

xb_status xb_report_file_load(const char *path, cJSON **json, xb_sweep_csv *csv, xb_ctx *ctx) {
    *json = NULL;
    *csv = (xb_sweep_csv){0};
    FILE *f = fopen(path, "rb");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {}
    if (c != '{') {
        fclose(f);
        return xb_sweep_csv_read(path, csv, ctx);
    }
    size_t cap = 1 << 16, len = 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    }
    buf[0] = '{';
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *b = cap >= REPORT_MAX_BYTES ? NULL : realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                fclose(f);
                return xb_fail(ctx, XB_ERR_NOMEM, "%s: too large for a report", path);
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    buf[len] = 0;
    if (!bad) *json = cJSON_Parse(buf);
    free(buf);
    if (bad) return xb_fail(ctx, XB_ERR_IO, "%s: read failed", path);
    if (!cJSON_IsObject(*json)) {
        cJSON_Delete(*json);
        *json = NULL;
        return xb_fail(ctx, XB_ERR_PARSE, "%s: not a JSON report (malformed JSON)", path);
    }
    return XB_OK;
}
