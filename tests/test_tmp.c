#define _XOPEN_SOURCE 700
#include "tests/test_tmp.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <criterion/criterion.h>

#include "eval/dataset.h"

static char dir[512];

const char *xb_tmpdir(void) {
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/xbar-test-XXXXXX", t && t[0] ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return dir;
}

const char *xb_tmp(const char *name) {
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 1024, "%s/%s", xb_tmpdir(), name);
    return b;
}

void xb_write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        abort();
    }
    fclose(f);
}

void xb_write_gz(const char *path, const void *data, size_t n) {
    gzFile f = gzopen(path, "wb");
    if (!f || (n && gzwrite(f, data, (unsigned)n) != (int)n)) {
        perror(path);
        abort();
    }
    gzclose(f);
}

void xb_mkdir(const char *path) {
    if (mkdir(path, 0755) != 0) {
        perror(path);
        abort();
    }
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void xb_tmp_cleanup(void) {
    if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

const unsigned char *xb_test_pixels(const struct xb_dataset *d, long long i) {
    static unsigned char *buf;
    static size_t cap;
    size_t n = xb_dataset_image_bytes(d);
    if (n > cap) {
        unsigned char *nb = realloc(buf, n);
        cr_assert_not_null(nb);
        buf = nb;
        cap = n;
    }
    xb_ctx ctx = {0};
    const uint8_t *p = xb_dataset_pixels(d, i, buf, &ctx);
    cr_assert_not_null(p, "%s", ctx.msg);
    return p;
}
