/* Text tables and number formatting shared by every report (eval/report.c,
 * backend/profile.c, the CLI). */
#include "runtime/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
