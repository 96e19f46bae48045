#include "eval/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "eval/outfile.h"
#include "frontend/onnx.h"

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

void xb_report_warning(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "xbar: warning: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

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
    xb_outfile o;
    if (xb_outfile_open(&o, path, ctx) != XB_OK) {
        free(text);
        return ctx->status;
    }
    int bad = fputs(text, o.f) < 0 || fputc('\n', o.f) == EOF;
    free(text);
    if (bad) {
        int e = errno;
        xb_outfile_abort(&o);
        return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return xb_outfile_commit(&o, ctx);
}

/* --- models ------------------------------------------------------------------- */

xb_status xb_model_load(const char *path, const xb_preproc_opts *po, xb_graph **g, xb_preproc *pp,
                        xb_ctx *ctx) {
    *g = NULL;
    memset(pp, 0, sizeof *pp);
    XB_TRY(xb_onnx_load(path, 1, g, ctx));
    if (xb_preproc_init_opts(pp, *g, po, ctx) != XB_OK) {
        xb_graph_free(*g);
        *g = NULL;
        return ctx->status;
    }
    if (pp->note[0]) xb_report_note("%s: %s", path, pp->note);
    if (pp->warning[0]) xb_report_warning("%s", pp->warning);
    return XB_OK;
}
