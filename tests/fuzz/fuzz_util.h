/* Shared plumbing for the libFuzzer harnesses (built with -DXBAR_FUZZ=ON).
 *
 * Loaders that take a path get the fuzz input written to a file in a
 * per-process temporary folder (under /dev/shm when it exists, so the
 * writes stay in memory).  Every harness checks the library's contract on
 * failure as well as on success: a failing call must leave a message in
 * the ctx that starts with the file name; anything else aborts,
 * which libFuzzer records as a crash. */
#ifndef XBAR_FUZZ_UTIL_H
#define XBAR_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "runtime/status.h"

static char fz_dir[256];

static inline void fz_cleanup(void) {
    if (!fz_dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
}

/* The temp folder, created on first use. */
static inline const char *fz_tmpdir(void) {
    if (fz_dir[0]) return fz_dir;
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(fz_dir, sizeof fz_dir, "%s/xbar_fuzz_XXXXXX", base);
    if (!mkdtemp(fz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fz_cleanup);
    return fz_dir;
}

/* "<tmpdir>/<name>" in a static buffer per call site's `buf`. */
static inline const char *fz_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", fz_tmpdir(), name);
    return buf;
}

static inline void fz_write(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

static inline void fz_mkdir(const char *path) {
    if (mkdir(path, 0700) != 0) {
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            perror(path);
            abort();
        }
    }
}

/* A class-folder dataset for the image loaders' harnesses: <tmp>/<kind>/a
 * holds the fuzzed file (its path goes to `file`), <tmp>/<kind>/b holds
 * fixed.<ext>, written once by write_fixed. */
static inline void fz_class_folder(char *root, size_t rn, char *file, size_t fn,
                                   const char *kind, const char *ext,
                                   void (*write_fixed)(const char *path)) {
    char buf[300];
    fz_path(root, rn, kind);
    fz_mkdir(root);
    snprintf(buf, sizeof buf, "%s/a", root);
    fz_mkdir(buf);
    snprintf(buf, sizeof buf, "%s/b", root);
    fz_mkdir(buf);
    snprintf(buf, sizeof buf, "%s/b/fixed.%s", root, ext);
    write_fixed(buf);
    snprintf(file, fn, "%s/a/x.%s", root, ext);
}

/* The error contract: status and message agree, and the message names
 * `who` (a file name or path) first. */
static inline void fz_check_fail(xb_status st, const xb_ctx *ctx, const char *who) {
    if (st == XB_OK) return;
    if (ctx->status != st || !ctx->msg[0]) {
        fprintf(stderr, "fuzz: status %s but ctx status %s, message '%s'\n", xb_status_name(st),
                xb_status_name(ctx->status), ctx->msg);
        abort();
    }
    if (who && strncmp(ctx->msg, who, strlen(who)) != 0) {
        fprintf(stderr, "fuzz: message does not start with '%s': %s\n", who, ctx->msg);
        abort();
    }
    /* Not checked: that the message is one line.  Names from the file
     * (tensor, node, class names) are echoed as they are, and the fuzzer
     * finds newlines in them at once; that is cosmetic, not a crash. */
}

/* The image class-folder harnesses (fuzz_png, fuzz_jpeg): a load that
 * succeeded holds the two 28x28 images, and the fixed one (class "b",
 * the second) is exactly 0x80 whatever the colour mode; a failed load
 * returns no dataset. */
static inline void fz_check_class_folder(xb_status st, xb_dataset *d) {
    if (st == XB_OK) {
        if (!d || d->n != 2 || (d->c != 1 && d->c != 3) || d->h != 28 || d->w != 28) abort();
        /* Folders are decoded image by image (xb_dataset_pixels): decode
         * both, so the fuzzed bytes reach the decoder.  The fuzzed image
         * (class "a", first) may fail with a message; the fixed one may
         * not. */
        static uint8_t buf[3 * 28 * 28];
        xb_ctx c0 = {0}, c1 = {0};
        const uint8_t *img0 = xb_dataset_pixels(d, 0, buf, &c0);
        if (!img0 && !c0.msg[0]) abort();
        const uint8_t *img = xb_dataset_pixels(d, 1, buf, &c1);
        if (!img) abort();
        for (int i = 0; i < d->c * 28 * 28; i++)
            if (img[i] != 0x80) abort();
        xb_dataset_free(d);
    } else if (d) {
        abort();
    }
}

/* Split the input into a length-prefixed first part (2 bytes little-endian
 * length, clamped to what is there) and the rest; for formats that come as
 * a pair of files. */
static inline void fz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *alen,
                     const uint8_t **b, size_t *blen) {
    size_t n = size >= 2 ? (size_t)data[0] | (size_t)data[1] << 8 : 0;
    size_t off = size >= 2 ? 2 : size;
    if (n > size - off) n = size - off;
    *a = data + off;
    *alen = n;
    *b = data + off + n;
    *blen = size - off - n;
}

#endif
