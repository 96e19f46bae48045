/* CIFAR-10 "binary version" (Krizhevsky, https://www.cs.toronto.edu/~kriz/cifar.html):
 * records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024
 * blue, each 32x32 row-major), no header.  That is already planar CHW, so
 * records are copied as they are.  Class names live in batches.meta.txt,
 * one a line, in label order. */
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_MAX_CLASSES 256

/* Read batches.meta.txt beside `path` if present.  A meta file that exists
 * but is unusable is an error: silently numbering classes would mislabel
 * the report. */
static xb_status read_meta(const char *path, xb_dataset *d, xb_ctx *ctx) {
    char dir[4096], meta[4200];
    xb_dirname(path, dir, sizeof dir);
    snprintf(meta, sizeof meta, "%s/batches.meta.txt", dir);
    struct stat sb;
    if (stat(meta, &sb) != 0) return XB_OK; /* (the reader refuses a FIFO without opening it) */
    unsigned char *b = NULL;
    size_t len = 0;
    XB_TRY(xb_read_file_gz(meta, 1 << 16, &b, &len, ctx));
    char **names = xb_calloc(ctx, CIFAR_MAX_CLASSES, sizeof(char *));
    int n = 0;
    xb_status st = names ? XB_OK : ctx->status;
    size_t i = 0;
    while (st == XB_OK && i < len) {
        size_t j = i;
        while (j < len && b[j] != '\n') j++;
        size_t a = i, e = j;
        while (a < e && (b[a] == ' ' || b[a] == '\t' || b[a] == '\r')) a++;
        while (e > a && (b[e - 1] == ' ' || b[e - 1] == '\t' || b[e - 1] == '\r')) e--;
        if (e > a) {
            if (n == CIFAR_MAX_CLASSES) {
                st = xb_fail(ctx, XB_ERR_PARSE, "%s: more than %d class names", meta,
                             CIFAR_MAX_CLASSES);
                break;
            }
            for (size_t k = a; k < e; k++)
                if (b[k] < 0x20 && b[k] != '\t') {
                    st = xb_fail(ctx, XB_ERR_PARSE, "%s: control byte 0x%02x in a class name", meta,
                                 b[k]);
                    break;
                }
            if (st != XB_OK) break;
            names[n] = xb_malloc(ctx, e - a + 1);
            if (!names[n]) {
                st = ctx->status;
                break;
            }
            memcpy(names[n], b + a, e - a);
            names[n][e - a] = '\0';
            n++;
        }
        i = j + 1;
    }
    free(b);
    if (st == XB_OK) {
        for (int64_t k = 0; k < d->n; k++)
            if (d->labels[k] >= n) {
                st = xb_fail(ctx, XB_ERR_INVALID,
                             "%s: record %lld has label %d but %s names only %d classes", path,
                             (long long)k, d->labels[k], meta, n);
                break;
            }
    }
    if (st != XB_OK) {
        xb_free_list(names, n);
        return st;
    }
    d->class_names = names;
    d->n_classes = n;
    return XB_OK;
}

/* A gzipped file declares its uncompressed size (mod 2^32) in its last 4
 * bytes (RFC 1952, ISIZE): *declared receives it, or SIZE_MAX for a plain
 * file.  CIFAR has no header, so this is what is checked before inflating. */
static void gzip_declared_size(const char *path, size_t *declared) {
    *declared = SIZE_MAX;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    unsigned char m[2], t[4];
    if (fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b && fseek(f, -4, SEEK_END) == 0 &&
        fread(t, 1, 4, f) == 4)
        *declared = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    fclose(f);
}

/* An uncompressed file: its size says how many records it holds; the
 * labels are read in one pass, the pixels stay in the file (read image by
 * image: xb_dataset_pixels). */
static xb_status load_plain(const char *path, uint64_t size, xb_dataset **out, xb_ctx *ctx) {
    if (size == 0 || size % CIFAR_RECORD != 0)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: %llu bytes is not a whole number of %d-byte CIFAR records (truncated "
                       "or not a CIFAR-10 binary file)",
                       path, (unsigned long long)size, CIFAR_RECORD);
    FILE *f = xb_open_regular(path, ctx);
    if (!f) return ctx->status;
    int64_t n = (int64_t)(size / CIFAR_RECORD);
    xb_dataset *d = xb_dataset_alloc_files(path, n, 3, CIFAR_SIDE, CIFAR_SIDE, ctx);
    enum { CHUNK = 256 };
    /* at most 256 records at a time, fewer for a smaller file */
    unsigned char *buf = d ? xb_malloc(ctx, (size_t)(n < CHUNK ? n : CHUNK) * CIFAR_RECORD) : NULL;
    if (!d || !buf) {
        free(buf);
        fclose(f);
        xb_dataset_free(d);
        return ctx->status;
    }
    d->file = f;
    d->file_off = 1;
    d->file_stride = CIFAR_RECORD;
    for (int64_t i = 0; i < n; i += CHUNK) {
        size_t k = (size_t)(n - i < CHUNK ? n - i : CHUNK);
        if (fread(buf, CIFAR_RECORD, k, f) != k) {
            xb_fail(ctx, XB_ERR_IO, "%s: %s at record %lld", path,
                    ferror(f) ? "read error" : "shorter than its size said", (long long)i);
            free(buf);
            xb_dataset_free(d);
            return ctx->status;
        }
        for (size_t r = 0; r < k; r++) d->labels[i + (int64_t)r] = buf[r * CIFAR_RECORD];
    }
    free(buf);
    *out = d;
    return XB_OK;
}

xb_status xb_dataset_load_cifar(const char *path, xb_dataset **out, xb_ctx *ctx) {
    *out = NULL;
    unsigned char *b = NULL;
    size_t len = 0;
    /* No more records than xb_dataset_alloc accepts: a larger cap only lets
     * a small .bin.gz inflate to tens of gigabytes before failing. */
    int64_t max_n = XB_DATASET_MAX_BYTES / CIFAR_PIXELS;
    if (max_n > XB_DATASET_MAX_IMAGES) max_n = XB_DATASET_MAX_IMAGES;
    size_t max = (size_t)max_n * CIFAR_RECORD, declared = SIZE_MAX;
    struct stat sb;
    /* (non-regular files are refused by the reader, without opening them) */
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) gzip_declared_size(path, &declared);
    if (declared != SIZE_MAX && (declared == 0 || declared % CIFAR_RECORD || declared > max))
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: the gzip trailer declares %zu bytes, not a whole number of %d-byte "
                       "CIFAR records (at most %zu bytes)",
                       path, declared, CIFAR_RECORD, max);
    if (declared == SIZE_MAX && S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > (uintmax_t)max)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: larger than the %zu-byte limit", path, max);
    if (declared == SIZE_MAX && S_ISREG(sb.st_mode)) {
        xb_dataset *d = NULL;
        XB_TRY(load_plain(path, (uint64_t)sb.st_size, &d, ctx));
        if (read_meta(path, d, ctx) != XB_OK) {
            xb_dataset_free(d);
            return ctx->status;
        }
        *out = d;
        return XB_OK;
    }
    bool more = false;
    if (declared != SIZE_MAX) max = declared;
    XB_TRY(xb_read_file_gz_upto(path, max, &b, &len, &more, ctx));
    if (more) {
        free(b);
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: more data than the %s (%zu bytes; multi-member gzip files are not "
                       "supported)",
                       path, declared != SIZE_MAX ? "gzip trailer declares" : "limit", max);
    }
    if (len == 0 || len % CIFAR_RECORD != 0) {
        xb_fail(ctx, XB_ERR_PARSE,
                "%s: %zu bytes is not a whole number of %d-byte CIFAR records (truncated or not a "
                "CIFAR-10 binary file)",
                path, len, CIFAR_RECORD);
        free(b);
        return ctx->status;
    }
    int64_t n = (int64_t)(len / CIFAR_RECORD);
    xb_dataset *d = xb_dataset_alloc(path, n, 3, CIFAR_SIDE, CIFAR_SIDE, ctx);
    if (!d) {
        free(b);
        return ctx->status;
    }
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *r = b + (size_t)i * CIFAR_RECORD;
        d->labels[i] = r[0];
        memcpy(d->images + (size_t)i * CIFAR_PIXELS, r + 1, CIFAR_PIXELS);
    }
    free(b);
    if (read_meta(path, d, ctx) != XB_OK) {
        xb_dataset_free(d);
        return ctx->status;
    }
    *out = d;
    return XB_OK;
}
