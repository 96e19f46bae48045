/* Text tables and number formatting shared by every report. */
#ifndef XBAR_TABLE_H
#define XBAR_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

#endif
