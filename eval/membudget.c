/* --max-memory: estimates of what a run will hold, checked before it is
 * allocated (eval/membudget.h says what is charged and why). */
#include "eval/membudget.h"

#include <dirent.h>
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
    uint64_t w = xb_mem_model_bytes(g), nt = threads > 0 ? (uint64_t)threads : 1;
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

/* Image files in the class subfolders of `dir` (the layout
 * xb_dataset_load_image_dir reads; entries starting with '.' skipped). */
static uint64_t count_images(const char *dir) {
    uint64_t n = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    char sub[4096];
    while ((de = readdir(d))) {
        struct stat sb;
        if (de->d_name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        DIR *c = opendir(sub);
        if (!c) continue;
        struct dirent *ce;
        while ((ce = readdir(c)))
            if (ce->d_name[0] != '.' && image_name(ce->d_name)) n++;
        closedir(c);
    }
    closedir(d);
    return n;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* CIFAR: records of 3073 bytes; a gzip file's size is its trailer (ISIZE,
 * the uncompressed size mod 2^32, RFC 1952). */
static uint64_t cifar_pixels(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char m[2] = {0}, t[4] = {0};
    uint64_t size = 0;
    if (fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b) {
        if (fseek(f, -4, SEEK_END) == 0 && fread(t, 1, 4, f) == 4)
            size = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
    } else if (fseek(f, 0, SEEK_END) == 0) {
        long e = ftell(f);
        size = e > 0 ? (uint64_t)e : 0;
    }
    fclose(f);
    return size / 3073 * 3072;
}

/* IDX images: n x h x w from the 16-byte header (gzip or plain). */
static uint64_t idx_pixels(const char *path) {
    xb_ctx c = {0};
    unsigned char *h = NULL;
    size_t len = 0;
    bool more = false; /* "up to 16 bytes": the rest is not read */
    if (xb_read_file_gz_upto(path, 16, &h, &len, &more, &c) != XB_OK) return 0;
    uint64_t px = len == 16 && be32(h) == 0x803 ? mul_sat(mul_sat(be32(h + 4), be32(h + 8)), be32(h + 12))
                                                 : 0;
    free(h);
    return px;
}

uint64_t xb_mem_dataset_bytes(const char *spec, int want_h, int want_w) {
    if (!spec || !spec[0]) return 0;
    char dir[2048], path[4096];
    uint64_t px;
    if (!strcmp(spec, "mnist") || !strcmp(spec, "fashion-mnist")) {
        snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", xb_data_dir(spec, dir, sizeof dir));
        px = idx_pixels(path);
    } else if (!strcmp(spec, "cifar10")) {
        snprintf(path, sizeof path, "%s/test_batch.bin", xb_data_dir(spec, dir, sizeof dir));
        px = cifar_pixels(path);
    } else {
        struct stat sb;
        size_t n = strlen(spec);
        if (stat(spec, &sb) != 0) return 0;
        if (S_ISDIR(sb.st_mode))
            px = mul_sat(count_images(spec), mul_sat(3, mul_sat(want_h > 0 ? (uint64_t)want_h : 1,
                                                                 want_w > 0 ? (uint64_t)want_w : 1)));
        else if ((n >= 4 && !strcmp(spec + n - 4, ".bin")) || (n >= 7 && !strcmp(spec + n - 7, ".bin.gz")))
            px = cifar_pixels(spec);
        else
            px = idx_pixels(spec);
    }
    return mul_sat(px, 2);
}

xb_status xb_mem_check_dataset(const char *spec, int want_h, int want_w, uint64_t used,
                               uint64_t limit, xb_ctx *ctx) {
    if (!limit) return XB_OK;
    uint64_t d = xb_mem_dataset_bytes(spec, want_h, want_w);
    if (add_sat(used, d) <= limit) return XB_OK;
    return xb_fail(ctx, XB_ERR_INVALID,
                   "%s: loading it needs about %.1f MiB (2 x its pixels, known before decoding), on top "
                   "of %.1f MiB for the model and threads: over --max-memory %.1f MiB (the file is "
                   "decoded whole whatever --limit is: raise --max-memory or use a smaller file)",
                   spec, MIB(d), MIB(used), MIB(limit));
}
