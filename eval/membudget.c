/* --max-memory: estimates of what a run will hold, checked before it is
 * allocated (eval/membudget.h says what is charged and why). */
#include "eval/membudget.h"

#include <dirent.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"
#include "runtime/exec.h"

#define MIB(b) ((double)(b) / 1048576.0)

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t mul_sat(uint64_t a, uint64_t b) {
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

uint64_t xb_mem_model_bytes(const xb_graph *g) {
    uint64_t total = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const xb_tensor *x = &g->tensors[t];
        if (x->is_const && x->data)
            total = add_sat(total, mul_sat((uint64_t)xb_shape_numel(&x->shape), xb_dtype_size(x->dtype)));
    }
    return total;
}

xb_status xb_mem_check_model(const xb_graph *g, const char *model, int threads, uint64_t limit,
                             uint64_t *used, xb_ctx *ctx) {
    size_t per = 0;
    XB_TRY(xb_exec_plan_bytes(g, &per, ctx));
    /* threads <= 0: as many as the runner will start (eval/runner.c) */
    uint64_t w = xb_mem_model_bytes(g),
             nt = (uint64_t)(threads > 0 ? threads : omp_get_max_threads());
    *used = add_sat(w, mul_sat(nt, per));
    if (!limit || *used <= limit) return XB_OK;
    return xb_fail(ctx, XB_ERR_INVALID,
                   "%s: a run needs about %.1f MiB (weights %.1f MiB + %llu thread%s x %.1f MiB of "
                   "activations and scratch), over --max-memory %.1f MiB",
                   model, MIB(*used), MIB(w), (unsigned long long)nt, nt == 1 ? "" : "s",
                   MIB(per), MIB(limit));
}

static bool image_name(const char *s) {
    static const char *ext[] = {".png", ".jpg", ".jpeg"};
    size_t n = strlen(s);
    for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
        size_t e = strlen(ext[k]);
        if (n > e && !strcasecmp(s + n - e, ext[k])) return true;
    }
    return false;
}

/* What a folder's listing holds: per image file in the class subfolders
 * of `dir` (the layout xb_dataset_load_image_dir reads; entries starting
 * with '.' skipped), its path string (dir/class/name and a NUL), the
 * pointer to it and its label, and the path again while the list is
 * sorted.  The pixels are decoded one image at a time (xb_dataset_pixels). */
static uint64_t folder_bytes(const char *dir) {
    uint64_t bytes = 0, dl = strlen(dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    char sub[4096];
    while ((de = readdir(d))) {
        struct stat sb;
        if (de->d_name[0] == '.') continue;
        /* a path too long to name is skipped, as the loader's listing does */
        if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub) continue;
        if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        DIR *c = opendir(sub);
        if (!c) continue;
        uint64_t cl = strlen(de->d_name);
        struct dirent *ce;
        while ((ce = readdir(c)))
            if (ce->d_name[0] != '.' && image_name(ce->d_name))
                bytes = add_sat(bytes, 2 * (dl + cl + strlen(ce->d_name) + 3) + sizeof(char *) +
                                           sizeof(int32_t));
        closedir(c);
    }
    closedir(d);
    return bytes;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A gzipped CIFAR file is decoded whole: 2 x its pixels (the reader's
 * growing buffer plus the dataset it is copied into).  A plain one stays open and
 * is read image by image: its labels (4 bytes an image) plus, for IDX, the
 * labels file read whole (1 byte an image). */
static uint64_t held(uint64_t n, uint64_t pixels, bool gz, uint64_t read_whole) {
    return gz ? mul_sat(pixels, 2) : add_sat(mul_sat(n, 4), read_whole);
}

/* CIFAR: records of 3073 bytes; a gzip file's size is its trailer (ISIZE,
 * the uncompressed size mod 2^32, RFC 1952).  A plain file's labels are
 * read through a 256-record buffer. */
static uint64_t cifar_bytes(const char *path) {
    bool gz = xb_file_is_gzip(path);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char t[4] = {0};
    uint64_t size = 0;
    if (gz) {
        if (fseek(f, -4, SEEK_END) == 0 && fread(t, 1, 4, f) == 4)
            size = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
    } else if (fseek(f, 0, SEEK_END) == 0) {
        long e = ftell(f);
        size = e > 0 ? (uint64_t)e : 0;
    }
    fclose(f);
    uint64_t n = size / 3073;
    return held(n, n * 3072, gz, 256 * 3073);
}

/* IDX images: n x h x w from the 16-byte header (gzip or plain), of which
 * the first `keep` are held (< 0: all).  A gzipped file is decompressed
 * straight into the dataset (eval/dataset_idx.c): the kept pixels, their
 * labels (4 bytes each) and the labels file read whole (1 byte an image);
 * a plain one stays open: labels only. */
static uint64_t idx_bytes(const char *path, int64_t keep) {
    xb_ctx c = {0};
    unsigned char *h = NULL;
    size_t len = 0;
    bool more = false; /* "up to 16 bytes": the rest is not read */
    if (xb_read_file_gz_upto(path, 16, &h, &len, &more, &c) != XB_OK) return 0;
    bool ok = len == 16 && be32(h) == 0x803;
    uint64_t n = ok ? be32(h + 4) : 0, k = keep >= 0 && (uint64_t)keep < n ? (uint64_t)keep : n;
    uint64_t px = ok ? mul_sat(mul_sat(k, be32(h + 8)), be32(h + 12)) : 0;
    free(h);
    return add_sat(add_sat(xb_file_is_gzip(path) ? px : 0, mul_sat(k, 4)), n);
}

uint64_t xb_mem_dataset_bytes(const char *spec) { return xb_mem_dataset_bytes_head(spec, -1); }

uint64_t xb_mem_dataset_bytes_head(const char *spec, int64_t keep) {
    if (!spec || !spec[0]) return 0;
    char path[4096];
    xb_dataset_path(spec, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    /* A folder: plus one image's pixels per thread while it is decoded, a
     * quarter of the float input tensor each executor holds, not charged
     * separately. */
    if (S_ISDIR(sb.st_mode)) return folder_bytes(path);
    return xb_dataset_is_cifar_name(path) ? cifar_bytes(path) : idx_bytes(path, keep);
}

xb_status xb_mem_check_dataset(const char *spec, uint64_t used, uint64_t limit, xb_ctx *ctx) {
    return xb_mem_check_dataset_head(spec, -1, used, limit, ctx);
}

xb_status xb_mem_check_dataset_head(const char *spec, int64_t keep, uint64_t used, uint64_t limit,
                                    xb_ctx *ctx) {
    if (!limit) return XB_OK;
    uint64_t d = xb_mem_dataset_bytes_head(spec, keep);
    if (add_sat(used, d) <= limit) return XB_OK;
    char path[4096];
    xb_dataset_path(spec, path, sizeof path);
    struct stat sb;
    bool found = stat(path, &sb) == 0, gz = found && S_ISREG(sb.st_mode) && xb_file_is_gzip(path);
    const char *what = found && S_ISDIR(sb.st_mode) ? "its image files' names and labels; images are decoded "
                                             "one at a time"
                       : gz && xb_dataset_is_cifar_name(path)
                           ? "2 x its pixels, known before decoding: a gzipped file is decoded "
                             "whole whatever --limit is"
                       : gz ? "its pixels, known before decoding: a gzipped file is decoded whole "
                              "whatever --limit is"
                            : "its labels; images are read from the file one at a time";
    return xb_fail(ctx, XB_ERR_INVALID,
                   "%s: loading it needs about %.1f MiB (%s), on top of %.1f MiB for the model and "
                   "threads: over --max-memory %.1f MiB",
                   spec, MIB(d), what, MIB(used), MIB(limit));
}
