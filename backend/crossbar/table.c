/* Measured noise tables (nonideal.table), after NeuroSim V1.5's circuit
 * mode: instead of the parametric device model, the value the ADC reads
 * for an ideal column sum S is drawn from N(mean(S), sigma(S)^2), both
 * given per S by a CSV file:
 *
 *     # comments and blank lines are skipped
 *     sum,mean,sigma
 *     0,0.05,0.30
 *     1,1.02,0.31
 *     ...
 *
 * sum: integer, strictly increasing; mean: unit levels; sigma >= 0.  Sums
 * between two rows take the linear interpolation of both columns; sums
 * outside keep the nearest row's sigma and its error mean - sum.  Any other
 * content is an error naming the file and line. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/crossbar.h"
#include "runtime/num.h"

#define TABLE_MAX_SPAN (1 << 22)

void xb_noise_table_free(xb_noise_table *t) {
    if (!t) return;
    free(t->mean);
    free(t->sigma);
    free(t);
}

static xb_noise_table *table_new(int64_t lo, int64_t n, xb_ctx *ctx) {
    xb_noise_table *t = xb_calloc(ctx, 1, sizeof *t);
    if (!t) return NULL;
    t->lo = lo;
    t->n = n;
    t->mean = xb_malloc(ctx, (size_t)n * sizeof(float));
    t->sigma = xb_malloc(ctx, (size_t)n * sizeof(float));
    if (!t->mean || !t->sigma) {
        xb_noise_table_free(t);
        return NULL;
    }
    return t;
}

xb_noise_table *xb_noise_table_copy(const xb_noise_table *t, xb_ctx *ctx) {
    xb_noise_table *c = table_new(t->lo, t->n, ctx);
    if (!c) return NULL;
    memcpy(c->mean, t->mean, (size_t)t->n * sizeof(float));
    memcpy(c->sigma, t->sigma, (size_t)t->n * sizeof(float));
    return c;
}

void xb_noise_table_at(const xb_noise_table *t, int64_t s, float *mean, float *sigma) {
    int64_t i = s - t->lo;
    if (i >= 0 && i < t->n) {
        *mean = t->mean[i];
        *sigma = t->sigma[i];
        return;
    }
    int64_t e = i < 0 ? 0 : t->n - 1;
    *mean = (float)((double)s + (double)t->mean[e] - (double)(t->lo + e));
    *sigma = t->sigma[e];
}

typedef struct {
    int64_t sum;
    double mean, sigma;
} table_row;

/* Field k of a comma-separated line, trimmed of spaces and tabs (and a
 * final \r), in place; NULL when there are fewer fields. */
static char *field_at(char *s, int k) {
    for (int i = 0; i < k; i++) {
        s = strchr(s, ',');
        if (!s) return NULL;
        s++;
    }
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strcspn(s, ",");
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    *e = '\0';
    return s;
}

/* One data line "sum,mean,sigma" (spaces allowed around fields); numbers
 * through runtime/num.h like every other number read. */
static const char *parse_row(const char *p, const char *end, table_row *r) {
    char buf[256], f[3][256];
    size_t n = (size_t)(end - p);
    if (n >= sizeof buf) return "line too long";
    memcpy(buf, p, n);
    buf[n] = '\0';
    int commas = 0;
    for (size_t i = 0; i < n; i++) commas += buf[i] == ',';
    if (commas != 2) return "expected 3 comma-separated fields: sum,mean,sigma";
    for (int k = 0; k < 3; k++) {
        memcpy(f[k], buf, n + 1);
        char *v = field_at(f[k], k);
        memmove(f[k], v, strlen(v) + 1);
    }
    long long v;
    if (!xb_parse_int(f[0], -(1LL << 30), 1LL << 30, &v)) return "sum is not an integer in range";
    r->sum = v;
    if (!xb_parse_real(f[1], &r->mean)) return "mean is not a number";
    if (!xb_parse_real(f[2], &r->sigma)) return "sigma is not a number";
    if (r->sigma < 0) return "sigma is negative";
    return NULL;
}

static bool blank_or_comment(const char *p, const char *end) {
    while (p < end && isspace((unsigned char)*p)) p++;
    return p == end || *p == '#';
}

/* The rows of the text, checked; *nrows. */
static table_row *parse_rows(const char *text, const char *origin, int64_t *nrows, xb_ctx *ctx) {
    int64_t cap = 64, n = 0, line = 0;
    table_row *rows = xb_malloc(ctx, (size_t)cap * sizeof *rows);
    bool header = false;
    for (const char *p = text; rows && *p;) {
        const char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        line++;
        const char *err = NULL;
        if (blank_or_comment(p, end)) {
        } else if (!header) {
            char h[64] = "";
            size_t k = 0;
            for (const char *q = p; q < end && k + 1 < sizeof h; q++)
                if (!isspace((unsigned char)*q)) h[k++] = *q;
            if (strcmp(h, "sum,mean,sigma")) err = "expected the header 'sum,mean,sigma'";
            header = true;
        } else {
            if (n == cap) {
                table_row *nr = realloc(rows, (size_t)(cap *= 2) * sizeof *rows);
                if (!nr) {
                    free(rows);
                    xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", origin);
                    return NULL;
                }
                rows = nr;
            }
            err = parse_row(p, end, &rows[n]);
            if (!err && n > 0 && rows[n].sum <= rows[n - 1].sum) err = "sums must increase";
            if (!err && n > 0 && rows[n].sum - rows[0].sum >= TABLE_MAX_SPAN)
                err = "sums span more than 2^22 values";
            n++;
        }
        if (err) {
            free(rows);
            xb_fail(ctx, XB_ERR_PARSE, "%s:%lld: %s", origin, (long long)line, err);
            return NULL;
        }
        p = *end ? end + 1 : end;
    }
    if (rows && n == 0) {
        free(rows);
        xb_fail(ctx, XB_ERR_PARSE, "%s: no data rows (expected 'sum,mean,sigma' and rows)", origin);
        return NULL;
    }
    *nrows = n;
    return rows;
}

xb_noise_table *xb_noise_table_parse(const char *text, const char *origin, xb_ctx *ctx) {
    int64_t n = 0;
    table_row *r = parse_rows(text, origin, &n, ctx);
    if (!r) return NULL;
    xb_noise_table *t = table_new(r[0].sum, r[n - 1].sum - r[0].sum + 1, ctx);
    for (int64_t i = 0; t && i < n; i++) {
        int64_t a = r[i].sum - t->lo, b = i + 1 < n ? r[i + 1].sum - t->lo : a + 1;
        for (int64_t s = a; s < b; s++) {
            double f = i + 1 < n ? (double)(s - a) / (double)(b - a) : 0;
            double m = r[i].mean, sg = r[i].sigma;
            if (i + 1 < n) m += f * (r[i + 1].mean - m), sg += f * (r[i + 1].sigma - sg);
            t->mean[s] = (float)m;
            t->sigma[s] = (float)sg;
        }
    }
    free(r);
    return t;
}

xb_noise_table *xb_noise_table_load(const char *path, xb_ctx *ctx) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        xb_fail(ctx, XB_ERR_IO, "nonideal.table: cannot open '%s'", path);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *nt = cap < (1u << 28) ? realloc(text, cap = cap * 2 + 8192) : NULL;
            if (!nt) {
                free(text);
                fclose(f);
                xb_fail(ctx, XB_ERR_IO, "nonideal.table: '%s' is too large", path);
                return NULL;
            }
            text = nt;
        }
        size_t got = fread(text + len, 1, 4096, f);
        len += got;
        if (got < 4096) break;
    }
    bool bad = ferror(f);
    fclose(f);
    text[len] = '\0';
    if (bad || strlen(text) != len) {
        free(text);
        xb_fail(ctx, XB_ERR_IO, "nonideal.table: '%s' is not a readable text file", path);
        return NULL;
    }
    xb_noise_table *t = xb_noise_table_parse(text, path, ctx);
    free(text);
    return t;
}
