/* Status codes and the error context shared by every stage.
 *
 * The library never exits or aborts: every fallible function returns an
 * xb_status and, on failure, leaves one human-readable message in the
 * caller's xb_ctx naming the file (or node) and the cause.  The CLI prints
 * that message and exits non-zero. */
#ifndef XBAR_STATUS_H
#define XBAR_STATUS_H

#include <stddef.h>

typedef enum {
    XB_OK = 0,
    XB_ERR_IO,          /* file missing, unreadable, short read */
    XB_ERR_PARSE,       /* malformed file contents */
    XB_ERR_UNSUPPORTED, /* valid input we do not implement (op, opset, format) */
    XB_ERR_INVALID,     /* inconsistent model or bad argument (shapes, attrs) */
    XB_ERR_NOMEM,       /* allocation failed or a size beyond sane limits */
    XB_ERR_RUNTIME,     /* data-dependent failure while running (index out of range) */
    XB_ERR_INTERRUPTED  /* stopped on request (the caller's cancel flag was set) */
} xb_status;

#define XB_MSG_MAX 4096

typedef struct xb_ctx {
    xb_status status;
    char msg[XB_MSG_MAX];
} xb_ctx;

/* Record an error (first one wins unless the ctx is cleared) and return it,
 * so call sites read `return xb_fail(ctx, XB_ERR_IO, "%s: ...", path);`. */
xb_status xb_fail(xb_ctx *ctx, xb_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the current message with "<prefix>: " (used to add the file name or
 * node name as an error travels up). */
void xb_ctx_prefix(xb_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xb_ctx_clear(xb_ctx *ctx);
const char *xb_status_name(xb_status st);

/* Checked arithmetic and allocation: sizes come from untrusted files. */
#define XB_MAX_TENSOR_BYTES ((size_t)1 << 32) /* 4 GiB: beyond any model we run */
/* Constants the loader builds itself (ConstantOfShape, constant folding)
 * rather than reads: a few bytes of a file could otherwise ask for 4 GiB
 * before any image is run.  Real folded constants are weight-sized. */
#define XB_MAX_BUILT_CONST_BYTES ((size_t)1 << 28) /* 256 MiB */
void *xb_malloc(xb_ctx *ctx, size_t n);       /* fails cleanly on overflow/NULL */
void *xb_calloc(xb_ctx *ctx, size_t count, size_t size);
char *xb_strdup(xb_ctx *ctx, const char *s);
int xb_mul_overflow(size_t a, size_t b, size_t *out);

#define XB_TRY(expr)                                                                               \
    do {                                                                                           \
        xb_status xb_try_st_ = (expr);                                                             \
        if (xb_try_st_ != XB_OK) return xb_try_st_;                                                \
    } while (0)

#endif
