/* IDX files (the MNIST / Fashion-MNIST format, LeCun et al.,
 * http://yann.lecun.com/exdb/mnist/): a 4-byte magic {0, 0, type, ndims},
 * ndims big-endian u32 dimensions, then the elements row-major.  We accept
 * type 0x08 (unsigned byte): images with 3 dims (n, rows, cols), labels with
 * 1 dim (n). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Check the header of an IDX u8 file with `want_dims` dimensions and return
 * the dims and the offset of the data. */
static xb_status idx_header(const char *path, const unsigned char *b, size_t len, int want_dims,
                            uint32_t *dims, size_t *data_off, size_t *data_len, xb_ctx *ctx) {
    if (len < 4) return xb_fail(ctx, XB_ERR_PARSE, "%s: truncated IDX header (%zu bytes)", path, len);
    if (b[0] != 0 || b[1] != 0)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: not an IDX file (magic %02x %02x %02x %02x, expected 00 00 08 %02x)",
                       path, b[0], b[1], b[2], b[3], want_dims);
    if (b[2] != 0x08)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "%s: IDX element type 0x%02x; only unsigned bytes (0x08) are supported", path,
                       b[2]);
    if (b[3] != want_dims)
        return xb_fail(ctx, XB_ERR_PARSE, "%s: IDX file has %d dimensions, expected %d (%s)", path,
                       b[3], want_dims, want_dims == 3 ? "images: count, rows, columns" : "labels");
    size_t hdr = 4 + 4 * (size_t)want_dims;
    if (len < hdr) return xb_fail(ctx, XB_ERR_PARSE, "%s: truncated IDX header (%zu bytes)", path, len);
    size_t expect = 1;
    for (int i = 0; i < want_dims; i++) {
        dims[i] = be32(b + 4 + 4 * i);
        if (xb_mul_overflow(expect, dims[i], &expect) || expect > XB_DATASET_MAX_BYTES)
            return xb_fail(ctx, XB_ERR_INVALID, "%s: IDX dimensions claim more than %zu bytes", path,
                           XB_DATASET_MAX_BYTES);
    }
    if (want_dims == 3 && dims[0] == 0)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: the IDX header says 0 images", path);
    if (dims[0] > XB_DATASET_MAX_IMAGES)
        return xb_fail(ctx, XB_ERR_INVALID, "%s: IDX count %u exceeds the limit of %d", path, dims[0],
                       XB_DATASET_MAX_IMAGES);
    if (want_dims == 3 && (dims[1] == 0 || dims[2] == 0 || dims[1] > XB_DATASET_MAX_SIDE ||
                           dims[2] > XB_DATASET_MAX_SIDE))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: image size %ux%u is out of range (1..%d)", path,
                       dims[1], dims[2], XB_DATASET_MAX_SIDE);
    *data_off = hdr;
    *data_len = expect;
    return XB_OK;
}

/* The header alone (a few bytes decompressed): dims, data offset and size. */
static xb_status idx_head(const char *path, int want_dims, uint32_t *dims, size_t *off,
                          size_t *expect, xb_ctx *ctx) {
    unsigned char *head;
    size_t hl;
    bool more;
    XB_TRY(xb_read_file_gz_upto(path, 4 + 4 * (size_t)want_dims, &head, &hl, &more, ctx));
    xb_status st = idx_header(path, head, hl, want_dims, dims, off, expect, ctx);
    free(head);
    return st;
}

/* The header first, then exactly the data it declares: reading stops one
 * byte past it, so a small file that inflates to far more than its header
 * says is rejected without decompressing the rest. */
static xb_status idx_read(const char *path, int want_dims, unsigned char **b, size_t *len,
                          uint32_t *dims, size_t *off, xb_ctx *ctx) {
    size_t expect = 0;
    bool more;
    XB_TRY(idx_head(path, want_dims, dims, off, &expect, ctx));
    XB_TRY(xb_read_file_gz_upto(path, *off + expect, b, len, &more, ctx));
    if (*len - *off < expect)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: truncated: header promises %zu data bytes, file has %zu", path, expect,
                       *len - *off);
    if (more)
        return xb_fail(ctx, XB_ERR_PARSE,
                       "%s: more data than the header's dimensions describe (%zu data bytes): "
                       "dimensions inconsistent with the file size",
                       path, expect);
    return XB_OK;
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* "dir/t10k-images-idx3-ubyte.gz" -> "dir/t10k-labels-idx1-ubyte.gz"; when
 * that does not exist, the same name with or without ".gz". */
static xb_status labels_path(const char *images, char *out, size_t n, xb_ctx *ctx) {
    static const char *pairs[][2] = {{"-images-idx3-ubyte", "-labels-idx1-ubyte"},
                                     {"-images.idx3-ubyte", "-labels.idx1-ubyte"}};
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const char *hit = strstr(base, pairs[k][0]);
        if (!hit) continue;
        size_t pre = (size_t)(hit - images);
        const char *rest = hit + strlen(pairs[k][0]);
        char cand[3][4096];
        snprintf(cand[0], sizeof cand[0], "%.*s%s%s", (int)pre, images, pairs[k][1], rest);
        size_t rl = strlen(rest);
        if (rl >= 3 && !strcmp(rest + rl - 3, ".gz"))
            snprintf(cand[1], sizeof cand[1], "%.*s%s%.*s", (int)pre, images, pairs[k][1],
                     (int)(rl - 3), rest);
        else
            if (snprintf(cand[1], sizeof cand[1], "%s.gz", cand[0]) >= (int)sizeof cand[1])
                cand[1][0] = '\0';
        for (int i = 0; i < 2; i++)
            if (file_exists(cand[i])) {
                snprintf(out, n, "%s", cand[i]);
                return XB_OK;
            }
        return xb_fail(ctx, XB_ERR_IO, "%s: labels file not found: looked for %s and %s", images,
                       cand[0], cand[1]);
    }
    return xb_fail(ctx, XB_ERR_INVALID,
                   "%s: cannot locate the labels: an IDX images file name must contain "
                   "'-images-idx3-ubyte' (its labels are the '-labels-idx1-ubyte' file beside it)",
                   images);
}

/* An uncompressed images file: the header, then its size must be exactly
 * what the header declares; the pixels stay in the file, open in *f (read
 * image by image: xb_dataset_pixels). */
static xb_status idx_open_plain(const char *path, uint32_t *dims, size_t *off, FILE **f,
                                xb_ctx *ctx) {
    unsigned char head[16];
    size_t expect = 0;
    *f = xb_open_regular(path, ctx);
    if (!*f) return ctx->status;
    size_t hl = fread(head, 1, sizeof head, *f);
    struct stat sb;
    xb_status st = idx_header(path, head, hl, 3, dims, off, &expect, ctx);
    if (st == XB_OK && fstat(fileno(*f), &sb) != 0)
        st = xb_fail(ctx, XB_ERR_IO, "%s: cannot stat the open file", path);
    if (st == XB_OK && (uint64_t)sb.st_size < *off + expect)
        st = xb_fail(ctx, XB_ERR_PARSE, "%s: truncated: header promises %zu data bytes, file has %llu",
                     path, expect, (unsigned long long)((uint64_t)sb.st_size - *off));
    if (st == XB_OK && (uint64_t)sb.st_size > *off + expect)
        st = xb_fail(ctx, XB_ERR_PARSE,
                     "%s: more data than the header's dimensions describe (%zu data bytes): "
                     "dimensions inconsistent with the file size",
                     path, expect);
    if (st != XB_OK) {
        fclose(*f);
        *f = NULL;
    }
    return st;
}

/* The images a dataset of n_max (< 0: all) keeps of a file that has n. */
static int64_t kept(int64_t n_max, uint32_t n) {
    return n_max >= 0 && n_max < (int64_t)n ? n_max : (int64_t)n;
}

/* The images: a plain file stays open (read image by image), a gzipped
 * one is decompressed straight into the dataset, whose first n images are
 * kept (the whole stream is still read and checked). */
static xb_dataset *idx_images(const char *path, int64_t n_max, uint32_t *dims, xb_ctx *ctx) {
    struct stat sb;
    size_t off = 0, expect = 0;
    /* (a FIFO or device goes the gzip reader's way, which refuses it) */
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && !xb_file_is_gzip(path)) {
        FILE *f = NULL;
        if (idx_open_plain(path, dims, &off, &f, ctx) != XB_OK) return NULL;
        int64_t n = kept(n_max, dims[0]);
        xb_dataset *d = xb_dataset_alloc_files(path, n, 1, (int)dims[1], (int)dims[2], ctx);
        if (!d) {
            fclose(f);
            return NULL;
        }
        d->file = f;
        d->file_off = (int64_t)off;
        d->file_stride = (int64_t)dims[1] * dims[2];
        return d;
    }
    if (idx_head(path, 3, dims, &off, &expect, ctx) != XB_OK) return NULL;
    int64_t n = kept(n_max, dims[0]);
    xb_dataset *d = xb_dataset_alloc(path, n, 1, (int)dims[1], (int)dims[2], ctx);
    if (d && xb_read_gz_into(path, off, d->images, (size_t)n * dims[1] * dims[2], expect, ctx) != XB_OK) {
        xb_dataset_free(d);
        d = NULL;
    }
    return d;
}

xb_status xb_dataset_load_idx_head(const char *images_path, int64_t n_max, xb_dataset **out,
                                   xb_ctx *ctx) {
    *out = NULL;
    unsigned char *lb = NULL;
    size_t ll = 0, loff = 0;
    uint32_t idims[3] = {0}, ldims[1] = {0};
    char lpath[4096];
    xb_dataset *d = idx_images(images_path, n_max, idims, ctx);
    if (!d) return ctx->status;
    if (labels_path(images_path, lpath, sizeof lpath, ctx) != XB_OK) goto fail;
    if (idx_read(lpath, 1, &lb, &ll, ldims, &loff, ctx) != XB_OK) goto fail;
    if (ldims[0] != idims[0]) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: %u labels for %u images in %s", lpath, ldims[0], idims[0],
                images_path);
        goto fail;
    }
    for (int64_t i = 0; i < d->n; i++) d->labels[i] = lb[loff + (size_t)i];
    free(lb);
    *out = d;
    return XB_OK;
fail:
    free(lb);
    xb_dataset_free(d);
    return ctx->status;
}

xb_status xb_dataset_load_idx(const char *images_path, xb_dataset **out, xb_ctx *ctx) {
    return xb_dataset_load_idx_head(images_path, -1, out, ctx);
}
