#include "cli/sweep_dist.h"

#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "eval/report.h"

xb_status xb_sweep_dist_plan(xb_sweep_dist *p, int64_t n_configs, const bool *done, xb_ctx *ctx) {
    p->n_configs = n_configs;
    p->owner = xb_calloc(ctx, (size_t)(n_configs ? n_configs : 1), sizeof *p->owner);
    if (!p->owner) return ctx->status;
    int64_t j = 0;
    for (int64_t i = 0; i < n_configs; i++) {
        p->owner[i] = -1;
        if (!xb_shard_owns(&p->shard, i) || (done && done[i])) continue;
        p->owner[i] = (int)xb_deal(j++, p->dist.size);
        if (p->owner[i] == p->dist.rank) p->n_mine++;
    }
    if (p->dist.size > 1) {
        p->rows = open_memstream(&p->rows_text, &p->rows_len);
        if (!p->rows) return xb_fail(ctx, XB_ERR_NOMEM, "cannot buffer the rows in memory");
        /* this rank's status line comes first (written at collect) */
    }
    return XB_OK;
}

FILE *xb_sweep_dist_row(xb_sweep_dist *p, int64_t i, FILE *out) {
    if (p->dist.size == 1) return out;
    fprintf(p->rows, "%lld\t", (long long)i);
    return p->rows;
}

void xb_sweep_dist_done(xb_sweep_dist *p, int64_t i) {
    p->n_run++;
    if (p->dist.size > 1 && p->dist.rank == 0)
        xb_report_note("rank 0: configuration %lld done (%lld of its %lld; %d ranks)", (long long)i,
                       (long long)p->n_run, (long long)p->n_mine, p->dist.size);
}

/* Rank r's part "rc<TAB>message\n" then records "i<TAB>row\n": the rows
 * into rows[i], the status into *rc and msg (pointers into the text). */
static bool parse_part(char *t, size_t len, const xb_sweep_dist *p, char **rows, int *rc,
                       char **msg) {
    char *end = t + len, *nl = memchr(t, '\n', len);
    long long v;
    char *tab = nl ? memchr(t, '\t', (size_t)(nl - t)) : NULL;
    if (!tab) return false;
    *tab = *nl = '\0';
    if (!xb_parse_int(t, 0, 255, &v)) return false;
    *rc = (int)v;
    *msg = tab + 1;
    for (t = nl + 1; t < end; t = nl + 1) {
        nl = memchr(t, '\n', (size_t)(end - t));
        tab = nl ? memchr(t, '\t', (size_t)(nl - t)) : NULL;
        if (!tab) return false;
        *tab = '\0';
        if (!xb_parse_int(t, 0, p->n_configs - 1, &v) || rows[v]) return false;
        rows[v] = tab + 1; /* up to and including its '\n' */
    }
    return true;
}

/* Rank 0: every row in configuration order; the job's exit code. */
static int write_rows(xb_sweep_dist *p, char *all, const size_t *lens, int rc, FILE *out,
                      int64_t *n_written, xb_ctx *ctx) {
    char **rows = xb_calloc(ctx, (size_t)p->n_configs, sizeof *rows);
    if (!rows) return 1;
    int job_rc = rc;
    size_t off = 0;
    for (int r = 0; r < p->dist.size; off += lens[r++]) {
        int rrc;
        char *msg;
        if (!parse_part(all + off, lens[r], p, rows, &rrc, &msg)) {
            xb_fail(ctx, XB_ERR_RUNTIME, "rank %d sent malformed rows", r);
            free(rows);
            return 1;
        }
        if (rrc != 0 && r > 0) {
            if (msg[0]) fprintf(stderr, "xbar: rank %d: %s\n", r, msg);
            if (job_rc == 0) job_rc = rrc;
        }
    }
    if (rc == 0 && job_rc == 1) xb_fail(ctx, XB_ERR_RUNTIME, "a rank failed (message above)");
    for (int64_t i = 0; i < p->n_configs; i++) {
        if (!rows[i]) continue;
        const char *nl = strchr(rows[i], '\n');
        fwrite(rows[i], 1, (size_t)(nl - rows[i]) + 1, out);
        if (fflush(out) != 0 || ferror(out)) {
            xb_fail(ctx, XB_ERR_IO, "write failed");
            job_rc = 1;
            break;
        }
        (*n_written)++;
    }
    free(rows);
    return job_rc;
}

int xb_sweep_dist_collect(xb_sweep_dist *p, int rc, const char *msg, FILE *out,
                          int64_t *n_written, xb_ctx *ctx) {
    if (p->dist.size == 1) return rc;
    /* the status line goes in front of the records */
    fflush(p->rows);
    char head[600];
    char clean[512];
    snprintf(clean, sizeof clean, "%s", rc && msg ? msg : "");
    for (char *c = clean; *c; c++)
        if (*c == '\n' || *c == '\t') *c = ' ';
    int hl = snprintf(head, sizeof head, "%d\t%s\n", rc, clean);
    size_t n = (size_t)hl + p->rows_len;
    char *part = malloc(n + 1);
    if (part) {
        memcpy(part, head, (size_t)hl);
        if (p->rows_len) memcpy(part + hl, p->rows_text, p->rows_len);
    } else {
        n = (size_t)snprintf(head, sizeof head, "1\tout of memory\n"); /* rows lost, rc kept */
    }
    char *all = NULL;
    size_t *lens = NULL;
    xb_status st = xb_dist_gather(&p->dist, part ? part : head, n, &all, &lens, ctx);
    free(part);
    int job_rc = rc;
    if (st != XB_OK) job_rc = 1;
    else if (p->dist.rank == 0) job_rc = write_rows(p, all, lens, rc, out, n_written, ctx);
    free(all);
    free(lens);
    return job_rc;
}

void xb_sweep_dist_free(xb_sweep_dist *p) {
    if (p->rows) fclose(p->rows);
    free(p->rows_text);
    free(p->owner);
    p->rows = NULL;
    p->rows_text = NULL;
    p->owner = NULL;
}
