/* xbar merge --csv: the CSVs of `xbar sweep --shard K/N` joined into the
 * CSV of the whole sweep (cli/merge.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/merge.h"
#include "cli/shard.h"
#include "eval/outfile.h"

#define MAX_VARY 8
#define MAX_VALUES 64
#define MAX_LISTED 5

typedef struct {
    const char *path;
    char *text;
    size_t len;
    xb_shard sh;
    long long configs;
    const char *tag;         /* "configurations=... sweep=..." (to the line end) */
    size_t tag_len;
    char *vary, *comments;   /* the vary lines, the other '#' lines (malloc'd) */
    size_t vary_len, comments_len;
    const char *header;
    size_t header_len;       /* with its '\n' */
    const char **rows;
    size_t *row_len;         /* with '\n' */
    int64_t n_rows;
} shard_csv;

/* The sweep's grid, from the vary lines. */
typedef struct {
    int nv, columns;
    char key[MAX_VARY][128];
    int n[MAX_VARY];
    char val[MAX_VARY][MAX_VALUES][XB_ARGS_VALUE_LEN];
} grid;

static bool append(char **buf, size_t *len, const char *s, size_t n) {
    char *b = realloc(*buf, *len + n + 1);
    if (!b) return false;
    memcpy(b + *len, s, n);
    *len += n;
    b[*len] = '\0';
    *buf = b;
    return true;
}

/* "K/N configurations=C sweep=HEX" after the tag. */
static bool parse_tag(shard_csv *f, const char *s, size_t n) {
    char buf[256];
    if (n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *sp = strchr(buf, ' ');
    if (!sp) return false;
    *sp = '\0';
    if (xb_shard_parse(buf, &f->sh) != 0 || strncmp(sp + 1, "configurations=", 15)) return false;
    char *c = sp + 16, *sp2 = strchr(c, ' ');
    if (!sp2) return false;
    *sp2 = '\0';
    f->tag = s + (sp + 1 - buf);
    f->tag_len = n - (size_t)(sp + 1 - buf);
    return xb_parse_int(c, 1, 1 << 30, &f->configs) && !strncmp(sp2 + 1, "sweep=", 6);
}

/* Sort one shard's lines: tag, vary and other comment lines, header, rows. */
static xb_status classify_lines(shard_csv *f, xb_ctx *ctx) {
    size_t tl = strlen(XB_SHARD_CSV_TAG);
    size_t lines = 1;
    for (size_t i = 0; i < f->len; i++) lines += f->text[i] == '\n';
    f->rows = xb_calloc(ctx, lines, sizeof *f->rows);
    f->row_len = xb_calloc(ctx, lines, sizeof *f->row_len);
    if (!f->rows || !f->row_len) return ctx->status;
    for (size_t i = 0; i < f->len;) {
        const char *line = f->text + i, *nl = memchr(line, '\n', f->len - i);
        if (!nl)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: the last line is cut (an interrupted sweep? "
                           "finish it with xbar sweep ... --resume)", f->path);
        size_t ll = (size_t)(nl - line) + 1;
        bool ok = true;
        if (!strncmp(line, XB_SHARD_CSV_TAG, tl)) {
            if (f->tag || !parse_tag(f, line + tl, ll - 1 - tl))
                return xb_fail(ctx, XB_ERR_INVALID, "%s: malformed line '%.*s'", f->path,
                               (int)(ll - 1 > 80 ? 80 : ll - 1), line);
        } else if (!strncmp(line, XB_SHARD_CSV_VARY, strlen(XB_SHARD_CSV_VARY))) {
            ok = append(&f->vary, &f->vary_len, line, ll);
        } else if (line[0] == '#') {
            ok = append(&f->comments, &f->comments_len, line, ll);
        } else if (!f->header) {
            f->header = line;
            f->header_len = ll;
        } else {
            f->rows[f->n_rows] = line;
            f->row_len[f->n_rows++] = ll;
        }
        if (!ok) return xb_fail(ctx, XB_ERR_NOMEM, "out of memory");
        i += ll;
    }
    if (!f->tag || !f->header)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: not the CSV of an `xbar sweep --shard K/N` (%s)",
                       f->path, f->tag ? "no header line" : "no '# xbar-shard' line");
    return XB_OK;
}

static xb_status read_shard(shard_csv *f, xb_ctx *ctx) {
    FILE *in = fopen(f->path, "rb");
    if (!in) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
    size_t cap = (size_t)64 << 20;
    f->text = xb_malloc(ctx, cap);
    f->len = f->text ? fread(f->text, 1, cap - 1, in) : 0;
    bool bad = ferror(in) || f->len == cap - 1;
    fclose(in);
    if (!f->text) return ctx->status;
    f->text[f->len] = '\0';
    if (bad) return xb_fail(ctx, XB_ERR_IO, "%s: cannot read (or larger than 64 MiB)", f->path);
    if (memchr(f->text, '\0', f->len))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: not a text file", f->path);
    return classify_lines(f, ctx);
}

/* Every shard must come from the same sweep as shard files[0]. */
static xb_status same_sweep(const shard_csv *a, const shard_csv *b, xb_ctx *ctx) {
    if (a->sh.n != b->sh.n)
        return xb_fail(ctx, XB_ERR_INVALID, "%s is shard %lld/%lld but %s is shard %lld/%lld: the "
                       "shards of one sweep share N", a->path, a->sh.k, a->sh.n, b->path, b->sh.k,
                       b->sh.n);
    if (a->tag_len != b->tag_len || memcmp(a->tag, b->tag, a->tag_len))
        return xb_fail(ctx, XB_ERR_INVALID, "%s and %s are shards of different sweeps ('%.*s' vs "
                       "'%.*s': model, data, --arch/--set, --limit, --calib or --vary differ)",
                       a->path, b->path, (int)a->tag_len, a->tag, (int)b->tag_len, b->tag);
    if (a->vary_len != b->vary_len || (a->vary_len && memcmp(a->vary, b->vary, a->vary_len)))
        return xb_fail(ctx, XB_ERR_INVALID, "%s and %s vary different settings (their '# "
                       "xbar-shard-vary' lines differ)", a->path, b->path);
    if (a->header_len != b->header_len || memcmp(a->header, b->header, a->header_len))
        return xb_fail(ctx, XB_ERR_INVALID, "%s and %s have different columns (header lines "
                       "differ)", a->path, b->path);
    if (a->sh.k == b->sh.k)
        return xb_fail(ctx, XB_ERR_INVALID, "%s and %s are both shard %lld/%lld", a->path, b->path,
                       a->sh.k, a->sh.n);
    return XB_OK;
}

/* The grid from shard f's vary lines, checked against its header. */
static xb_status parse_grid(const shard_csv *f, grid *g, xb_ctx *ctx) {
    size_t vl = strlen(XB_SHARD_CSV_VARY);
    long long n = 1;
    for (const char *p = f->vary; p && *p; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n'), *eq = memchr(p + vl, '=', (size_t)(nl - p) - vl);
        size_t kl = eq ? (size_t)(eq - p) - vl : 0;
        if (!eq || g->nv == MAX_VARY || kl == 0 || kl >= sizeof g->key[0])
            return xb_fail(ctx, XB_ERR_INVALID, "%s: malformed '# xbar-shard-vary' line", f->path);
        int v = g->nv++;
        memcpy(g->key[v], p + vl, kl);
        g->key[v][kl] = '\0';
        for (const char *s = eq + 1; s <= nl;) {
            const char *c = memchr(s, ',', (size_t)(nl - s));
            size_t len = (size_t)((c ? c : nl) - s);
            if (g->n[v] == MAX_VALUES || len == 0 || len >= XB_ARGS_VALUE_LEN)
                return xb_fail(ctx, XB_ERR_INVALID, "%s: malformed '# xbar-shard-vary' line",
                               f->path);
            memcpy(g->val[v][g->n[v]], s, len);
            g->val[v][g->n[v]][len] = '\0';
            for (int k = 0; k < g->n[v]; k++)
                if (!strcmp(g->val[v][k], g->val[v][g->n[v]]))
                    return xb_fail(ctx, XB_ERR_UNSUPPORTED, "--vary %s lists '%s' twice: rows "
                                   "cannot be told apart, so the shards cannot be merged",
                                   g->key[v], g->val[v][k]);
            g->n[v]++;
            s = c ? c + 1 : nl + 1;
        }
        n *= g->n[v];
    }
    g->columns = 1;
    for (size_t i = 0; i + 1 < f->header_len; i++) g->columns += f->header[i] == ',';
    const char *h = f->header;
    for (int v = 0; v < g->nv; v++) {
        size_t kl = strlen(g->key[v]);
        if (strncmp(h, g->key[v], kl) || h[kl] != ',')
            return xb_fail(ctx, XB_ERR_INVALID, "%s: the header does not start with the varied "
                           "settings of its '# xbar-shard-vary' lines", f->path);
        h += kl + 1;
    }
    if (g->nv == 0 || n != f->configs)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: its vary lines give %lld configurations, its "
                       "'# xbar-shard' line %lld", f->path, n, f->configs);
    return XB_OK;
}

/* The configuration a row describes, or -1. */
static int64_t row_config(const grid *g, const char *row, size_t len) {
    int fields = 1;
    for (size_t i = 0; i + 1 < len; i++) fields += row[i] == ',';
    if (fields != g->columns) return -1;
    int64_t ci = 0;
    const char *p = row;
    for (int v = 0; v < g->nv; v++) {
        const char *c = strchr(p, ',');
        int k = 0;
        while (k < g->n[v] && (strlen(g->val[v][k]) != (size_t)(c - p) ||
                               memcmp(g->val[v][k], p, (size_t)(c - p))))
            k++;
        if (k == g->n[v]) return -1;
        ci = ci * g->n[v] + k;
        p = c + 1;
    }
    return ci;
}

/* "KEY=V KEY2=V2" of configuration ci. */
static void config_name(const grid *g, int64_t ci, char *out, size_t n) {
    int idx[MAX_VARY];
    for (int v = g->nv - 1; v >= 0; v--) {
        idx[v] = (int)(ci % g->n[v]);
        ci /= g->n[v];
    }
    size_t o = 0;
    out[0] = '\0';
    for (int v = 0; v < g->nv && o < n; v++)
        o += (size_t)snprintf(out + o, n - o, "%s%s=%s", v ? " " : "", g->key[v],
                              g->val[v][idx[v]]);
}

/* Every row into slot[ci]. */
static xb_status place_rows(shard_csv *fs, int nf, const grid *g, const char **slot, size_t *slen,
                            xb_ctx *ctx) {
    char name[512];
    for (int f = 0; f < nf; f++)
        for (int64_t r = 0; r < fs[f].n_rows; r++) {
            const char *row = fs[f].rows[r];
            size_t rl = fs[f].row_len[r];
            int64_t ci = row_config(g, row, rl);
            if (ci < 0)
                return xb_fail(ctx, XB_ERR_INVALID, "%s: '%.*s' is not a row of this sweep",
                               fs[f].path, (int)(rl - 1 > 80 ? 80 : rl - 1), row);
            config_name(g, ci, name, sizeof name);
            if (!xb_shard_owns(&fs[f].sh, ci))
                return xb_fail(ctx, XB_ERR_INVALID, "%s (shard %lld/%lld) has the row of %s, which "
                               "belongs to shard %lld", fs[f].path, fs[f].sh.k, fs[f].sh.n, name,
                               (long long)xb_deal(ci, fs[f].sh.n));
            if (slot[ci])
                return xb_fail(ctx, XB_ERR_INVALID, "configuration %s appears twice (in %s)", name,
                               fs[f].path);
            slot[ci] = row;
            slen[ci] = rl;
        }
    return XB_OK;
}

/* Missing shards, then missing configurations, named. */
static xb_status check_complete(const shard_csv *fs, int nf, const grid *g, const char **slot,
                                xb_ctx *ctx) {
    long long n = fs[0].sh.n;
    if (nf < n) {
        char list[256] = "";
        size_t o = 0;
        int listed = 0;
        for (long long k = 0; k < n && listed < 10; k++) {
            bool have = false;
            for (int f = 0; f < nf; f++) have = have || fs[f].sh.k == k;
            if (!have && o < sizeof list)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%lld", listed++ ? ", " : "", k);
        }
        return xb_fail(ctx, XB_ERR_INVALID, "%lld of %lld shards missing: %s%s",
                       n - nf, n, list, n - nf > 10 ? ", ..." : "");
    }
    char msg[1500] = "";
    size_t o = 0;
    int64_t missing = 0;
    for (int64_t ci = 0; ci < fs[0].configs; ci++) {
        if (slot[ci]) continue;
        if (missing++ < MAX_LISTED && o < sizeof msg) {
            char name[512];
            config_name(g, ci, name, sizeof name);
            const char *path = "";
            for (int f = 0; f < nf; f++)
                if (xb_shard_owns(&fs[f].sh, ci)) path = fs[f].path;
            o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s (shard %lld, %s)",
                                  missing > 1 ? "; " : "", name, (long long)xb_deal(ci, n),
                                  path);
        }
    }
    if (missing)
        return xb_fail(ctx, XB_ERR_INVALID, "%lld of %lld configurations are missing: %s%s (finish "
                       "those shards with xbar sweep ... --resume)", (long long)missing,
                       fs[0].configs, msg, missing > MAX_LISTED ? "; ..." : "");
    return XB_OK;
}

static xb_status write_merged(const char *out, const shard_csv *first, const char **slot,
                              const size_t *slen, xb_ctx *ctx) {
    xb_outfile o;
    XB_TRY(xb_outfile_open(&o, out, ctx));
    if (first->comments_len) fwrite(first->comments, 1, first->comments_len, o.f);
    fwrite(first->header, 1, first->header_len, o.f);
    for (int64_t ci = 0; ci < first->configs; ci++) fwrite(slot[ci], 1, slen[ci], o.f);
    return xb_outfile_commit(&o, ctx);
}

static xb_status merge_checked(shard_csv *fs, int nf, const char *out, xb_ctx *ctx) {
    for (int f = 0; f < nf; f++) XB_TRY(read_shard(&fs[f], ctx));
    for (int f = 1; f < nf; f++)
        for (int e = 0; e < f; e++) XB_TRY(same_sweep(&fs[e], &fs[f], ctx));
    grid *g = xb_calloc(ctx, 1, sizeof *g);
    if (!g) return ctx->status;
    int64_t nc = fs[0].configs;
    const char **slot = xb_calloc(ctx, (size_t)nc, sizeof *slot);
    size_t *slen = xb_calloc(ctx, (size_t)nc, sizeof *slen);
    xb_status st = !slot || !slen ? ctx->status : XB_OK;
    if (st == XB_OK) st = parse_grid(&fs[0], g, ctx);
    if (st == XB_OK) st = place_rows(fs, nf, g, slot, slen, ctx);
    if (st == XB_OK) st = check_complete(fs, nf, g, slot, ctx);
    const shard_csv *first = &fs[0];
    for (int f = 0; f < nf; f++)
        if (fs[f].sh.k == 0) first = &fs[f];
    if (st == XB_OK) st = write_merged(out, first, slot, slen, ctx);
    free(g);
    free(slot);
    free(slen);
    return st;
}

xb_status xb_merge_csv(const char *out, const char *const *files, int n, xb_ctx *ctx) {
    shard_csv *fs = xb_calloc(ctx, (size_t)n, sizeof *fs);
    if (!fs) return ctx->status;
    for (int f = 0; f < n; f++) fs[f].path = files[f];
    xb_status st = merge_checked(fs, n, out, ctx);
    for (int f = 0; f < n; f++) {
        free(fs[f].text);
        free(fs[f].vary);
        free(fs[f].comments);
        free(fs[f].rows);
        free(fs[f].row_len);
    }
    free(fs);
    return st;
}
