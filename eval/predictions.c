/* xbar run --predictions F.csv: one row per evaluated image with its label
 * and the top-1 class of every mode that ran, for finding which images a
 * mode gets wrong.  Written through eval/outfile.h (aside, then renamed). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "eval/outfile.h"
#include "eval/session.h"

/* RFC 4180: quote a field holding a comma, quote or line break. */
static void put_field(FILE *f, const char *s) {
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_class(FILE *f, const xb_preproc *pp, int k) {
    fprintf(f, ",%d,", k);
    put_field(f, xb_preproc_class(pp, k));
}

/* The five best classes (fewer with fewer outputs), in the runner's rank
 * order: higher score first, ties to the lower index (xb_score_rank). */
static void put_top5(FILE *f, const float *sc, int k) {
    int top[5], n = k < 5 ? k : 5;
    for (int r = 0; r < n; r++) {
        int best = -1;
        for (int c = 0; c < k; c++) {
            bool taken = false;
            for (int q = 0; q < r; q++) taken |= top[q] == c;
            if (!taken && (best < 0 || sc[c] > sc[best])) best = c;
        }
        top[r] = best;
        fprintf(f, "%s%d", r ? ";" : ",", best);
    }
}

xb_status xb_session_write_predictions(const xb_session *s, const char *path, xb_ctx *ctx) {
    static const char *modes[3] = {"float", "int8", "analog"};
    const xb_dataset *d = xb_session_data(s);
    const xb_preproc *pp = xb_session_preproc(s);
    if (!d) return xb_fail(ctx, XB_ERR_INVALID, "session: no data open");
    const int32_t *pred[3];
    const float *sc[3];
    for (int m = 0; m < 3; m++) {
        pred[m] = xb_session_predictions(s, m);
        sc[m] = xb_session_scores(s, m);
    }
    int k = pp->n_outputs;
    xb_outfile o;
    XB_TRY(xb_outfile_open(&o, path, ctx));
    FILE *f = o.f;
    fputs("index,file,label,label_name", f);
    for (int m = 0; m < 3; m++)
        if (pred[m]) {
            fprintf(f, ",%s,%s_name", modes[m], modes[m]);
            if (sc[m]) fprintf(f, ",%s_top5", modes[m]);
        }
    fputc('\n', f);
    int64_t first = xb_session_first(s), n = xb_session_count(s);
    for (int64_t i = 0; i < n; i++) {
        int64_t idx = first + i;
        fprintf(f, "%lld,", (long long)idx);
        put_field(f, d->files ? d->files[idx] : NULL);
        put_class(f, pp, d->labels[idx]);
        for (int m = 0; m < 3; m++) {
            if (!pred[m]) continue;
            put_class(f, pp, pred[m][i]);
            if (sc[m]) put_top5(f, sc[m] + (size_t)i * (size_t)k, k);
        }
        fputc('\n', f);
    }
    if (ferror(f)) {
        int e = errno;
        xb_outfile_abort(&o);
        return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return xb_outfile_commit(&o, ctx);
}
