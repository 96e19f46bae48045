#include "runtime/status.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages quote names and paths read from untrusted files.  A control
 * byte there (an ESC sequence, a carriage return) would reach the user's
 * terminal verbatim, so every one but the newline we use to list several
 * problems is shown as '?'. */
static void scrub(char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\n') || c == 0x7f) *s = '?';
    }
}

xb_status xb_fail(xb_ctx *ctx, xb_status st, const char *fmt, ...) {
    if (ctx && ctx->status == XB_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
        va_end(ap);
        scrub(ctx->msg);
        ctx->status = st;
    }
    return st;
}

void xb_ctx_prefix(xb_ctx *ctx, const char *fmt, ...) {
    if (!ctx) return;
    char pre[512], old[XB_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, ctx->msg, sizeof old);
    /* Truncation of an over-long message is acceptable; say so to gcc. */
    size_t np = strlen(pre);
    if (np > sizeof ctx->msg - 3) np = sizeof ctx->msg - 3;
    memcpy(ctx->msg, pre, np);
    memcpy(ctx->msg + np, ": ", 2);
    size_t room = sizeof ctx->msg - np - 3, no = strlen(old);
    if (no > room) no = room;
    memcpy(ctx->msg + np + 2, old, no);
    ctx->msg[np + 2 + no] = '\0';
    scrub(ctx->msg);
}

void xb_ctx_clear(xb_ctx *ctx) {
    ctx->status = XB_OK;
    ctx->msg[0] = '\0';
}

const char *xb_status_name(xb_status st) {
    switch (st) {
    case XB_OK: return "ok";
    case XB_ERR_IO: return "I/O error";
    case XB_ERR_PARSE: return "parse error";
    case XB_ERR_UNSUPPORTED: return "unsupported";
    case XB_ERR_INVALID: return "invalid";
    case XB_ERR_NOMEM: return "out of memory";
    case XB_ERR_RUNTIME: return "runtime error";
    case XB_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}

int xb_mul_overflow(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
}

void *xb_malloc(xb_ctx *ctx, size_t n) {
    if (n > XB_MAX_TENSOR_BYTES) {
        xb_fail(ctx, XB_ERR_NOMEM, "refusing to allocate %zu bytes (limit %zu)", n,
                (size_t)XB_MAX_TENSOR_BYTES);
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (!p) xb_fail(ctx, XB_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *xb_calloc(xb_ctx *ctx, size_t count, size_t size) {
    size_t n;
    if (xb_mul_overflow(count, size, &n) || n > XB_MAX_TENSOR_BYTES) {
        xb_fail(ctx, XB_ERR_NOMEM, "refusing to allocate %zu x %zu bytes", count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) xb_fail(ctx, XB_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

char *xb_strdup(xb_ctx *ctx, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = xb_malloc(ctx, n);
    if (p) memcpy(p, s, n);
    return p;
}
