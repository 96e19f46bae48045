/* Dataset plumbing common to every format: spec resolution, data-dir rule,
 * file reading (gzip or plain), class-name matching, freeing. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

#ifndef XBAR_SOURCE_DIR
#define XBAR_SOURCE_DIR "."
#endif

void xb_dataset_free(xb_dataset *d) {
    if (!d) return;
    free(d->name);
    free(d->path);
    free(d->images);
    free(d->labels);
    xb_free_list(d->class_names, d->n_classes);
    if (d->files)
        for (int64_t i = 0; i < d->n; i++) free(d->files[i]);
    free(d->files);
    if (d->file) fclose(d->file);
    free(d);
}

/* A dataset of n images of c x h x w bytes, with the pixels in memory
 * (in_memory) or read file by file (image folders). */
static xb_dataset *dataset_new(const char *path, int64_t n, int c, int h, int w, bool in_memory,
                               xb_ctx *ctx) {
    if (n < 0 || n > XB_DATASET_MAX_IMAGES) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: %lld images is more than the limit of %d", path,
                (long long)n, XB_DATASET_MAX_IMAGES);
        return NULL;
    }
    size_t per = (size_t)c * (size_t)h * (size_t)w, bytes;
    if (in_memory && (xb_mul_overflow(per, (size_t)n, &bytes) || bytes > XB_DATASET_MAX_BYTES)) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: %lld images of %dx%dx%d bytes exceed the %zu-byte limit",
                path, (long long)n, c, h, w, XB_DATASET_MAX_BYTES);
        return NULL;
    }
    xb_dataset *d = xb_calloc(ctx, 1, sizeof *d);
    if (!d) return NULL;
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->name = xb_strdup(ctx, path);
    d->path = xb_strdup(ctx, path);
    d->images = in_memory ? xb_malloc(ctx, bytes ? bytes : 1) : NULL;
    d->labels = xb_calloc(ctx, (size_t)(n ? n : 1), sizeof(int32_t));
    if (!d->name || !d->path || (in_memory && !d->images) || !d->labels) {
        xb_dataset_free(d);
        return NULL;
    }
    return d;
}

xb_dataset *xb_dataset_alloc(const char *path, int64_t n, int c, int h, int w, xb_ctx *ctx) {
    return dataset_new(path, n, c, h, w, true, ctx);
}

xb_dataset *xb_dataset_alloc_files(const char *path, int64_t n, int c, int h, int w,
                                   xb_ctx *ctx) {
    return dataset_new(path, n, c, h, w, false, ctx);
}

/* Image i of an open uncompressed file: one pread (safe from several
 * threads: no shared file position). */
static const uint8_t *file_pixels(const xb_dataset *d, int64_t i, uint8_t *buf, xb_ctx *ctx) {
    size_t want = xb_dataset_image_bytes(d), got = 0;
    off_t off = (off_t)(d->file_off + i * d->file_stride);
    int fd = fileno(d->file);
    while (got < want) {
        ssize_t r = pread(fd, buf + got, want - got, off + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            xb_fail(ctx, XB_ERR_IO, "%s: image %lld: %s", d->path, (long long)i,
                    r < 0 ? strerror(errno) : "the file is shorter than when it was opened");
            return NULL;
        }
        got += (size_t)r;
    }
    return buf;
}

const uint8_t *xb_dataset_pixels(const xb_dataset *d, int64_t i, uint8_t *buf, xb_ctx *ctx) {
    if (i < 0 || i >= d->n) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: no image %lld (it has %lld)", d->path, (long long)i,
                (long long)d->n);
        return NULL;
    }
    if (d->images) return xb_dataset_image(d, i);
    if (d->file) return file_pixels(d, i, buf, ctx);
    if (!d->files || !d->files[i]) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: image %lld has neither pixels nor a file", d->path,
                (long long)i);
        return NULL;
    }
    uint8_t *pix = NULL;
    int c = 0, h = 0, w = 0;
    if (xb_image_load(d->files[i], d->h, d->w, &d->io, &pix, &c, &h, &w, ctx) != XB_OK)
        return NULL;
    /* The header was read when the folder was listed; a file replaced
     * since then by one of another kind is an error, not a silent resize. */
    if (h != d->h || w != d->w || (c != 1 && c != d->c)) {
        xb_fail(ctx, XB_ERR_INVALID, "%s: is now %dx%d with %d channel(s), not the %dx%dx%d it "
                "had when the folder was listed", d->files[i], w, h, c, d->w, d->h, d->c);
        free(pix);
        return NULL;
    }
    size_t plane = (size_t)h * (size_t)w;
    /* A grey image in a colour folder is replicated to R, G and B. */
    for (int k = 0; k < d->c; k++)
        memcpy(buf + (size_t)k * plane, pix + (c == 1 ? 0 : (size_t)k * plane), plane);
    free(pix);
    return buf;
}

bool xb_file_is_gzip(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char m[2] = {0};
    bool gz = fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
    fclose(f);
    return gz;
}

void xb_dirname(const char *path, char *buf, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, n, ".");
    } else if (slash == path) {
        snprintf(buf, n, "/");
    } else {
        int len = (int)(slash - path);
        snprintf(buf, n, "%.*s", len, path);
    }
}

xb_status xb_read_file_gz(const char *path, size_t max, unsigned char **data, size_t *len,
                          xb_ctx *ctx) {
    return xb_read_file_gz_upto(path, max, data, len, NULL, ctx);
}

/* n bytes of f into dst (NULL: into a scratch buffer, dropped); the bytes
 * read in *got (fewer at the end of the stream); < 0 on a zlib error. */
static int gz_take(gzFile f, uint8_t *dst, size_t n, size_t *got) {
    static _Thread_local uint8_t sink[1 << 16];
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        if (!dst && want > sizeof sink) want = sizeof sink;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(f, dst ? dst + *got : sink, (unsigned)want);
        if (r < 0) return r;
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

xb_status xb_read_gz_into(const char *path, size_t skip, uint8_t *dst, size_t keep, size_t total,
                          xb_ctx *ctx) {
    gzFile f = gzopen(path, "rb");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t a = 0, b = 0, c = 0, extra = 0;
    uint8_t one;
    int bad = gz_take(f, NULL, skip, &a);
    if (!bad && a == skip) bad = gz_take(f, dst, keep, &b);
    if (!bad && b == keep) bad = gz_take(f, NULL, total - keep, &c);
    if (!bad && c == total - keep) bad = gz_take(f, &one, 1, &extra);
    int errnum = 0;
    const char *msg = gzerror(f, &errnum);
    xb_status st = XB_OK;
    if (bad || (errnum != Z_OK && errnum != Z_STREAM_END))
        st = xb_fail(ctx, XB_ERR_PARSE, "%s: corrupt or truncated gzip data (%s)", path,
                     errnum == Z_ERRNO ? strerror(errno) : msg);
    else if (a + b + c < skip + total)
        st = xb_fail(ctx, XB_ERR_PARSE, "%s: truncated: header promises %zu data bytes, file has %zu",
                     path, total, a < skip ? (size_t)0 : b + c);
    else if (extra)
        st = xb_fail(ctx, XB_ERR_PARSE,
                     "%s: more data than the header's dimensions describe (%zu data bytes): "
                     "dimensions inconsistent with the file size",
                     path, total);
    gzclose(f);
    return st;
}

xb_status xb_read_file_gz_upto(const char *path, size_t max, unsigned char **data, size_t *len,
                               bool *more, xb_ctx *ctx) {
    *data = NULL;
    *len = 0;
    if (more) *more = false;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return xb_fail(ctx, XB_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return xb_fail(ctx, XB_ERR_IO, "%s: is a directory, expected a file", path);
    /* Devices and pipes have no size to check against and may never end. */
    if (!S_ISREG(sb.st_mode)) return xb_fail(ctx, XB_ERR_IO, "%s: not a regular file", path);
    /* zlib reads plain files unchanged ("transparent" mode), so one path
     * serves both .gz and uncompressed copies. */
    gzFile f = gzopen(path, "rb");
    if (!f) return xb_fail(ctx, XB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* A plain file's size is known: refuse an oversized one before reading
     * (and allocating) up to `max` bytes of it. */
    if (!more && gzdirect(f) && (uintmax_t)sb.st_size > (uintmax_t)max) {
        gzclose(f);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: larger than the %zu-byte limit", path, max);
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    if (cap < 4096) cap = 4096;
    if (cap > max + 1) cap = max + 1;
    unsigned char *buf = xb_malloc(ctx, cap);
    if (!buf) {
        gzclose(f);
        xb_ctx_prefix(ctx, "%s", path);
        return ctx->status;
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) break;
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                gzclose(f);
                return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - n;
        if (more && n + want > max + 1) want = max + 1 - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            int errnum = 0;
            const char *msg = gzerror(f, &errnum);
            xb_fail(ctx, XB_ERR_PARSE, "%s: corrupt gzip data (%s)", path,
                    errnum == Z_ERRNO ? strerror(errno) : msg);
            free(buf);
            gzclose(f);
            return ctx->status;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (more && n > max) break; /* one byte past the declared size: enough to know */
    }
    /* gzread reports a stream cut short as end of file; gzerror tells. */
    int errnum = 0;
    const char *msg = gzerror(f, &errnum);
    if (errnum != Z_OK && errnum != Z_STREAM_END) {
        xb_fail(ctx, XB_ERR_PARSE, "%s: corrupt or truncated gzip data (%s)", path, msg);
        free(buf);
        gzclose(f);
        return ctx->status;
    }
    gzclose(f);
    if (n > max && more) {
        *more = true;
        n = max;
    } else if (n > max) {
        free(buf);
        return xb_fail(ctx, XB_ERR_INVALID, "%s: larger than the %zu-byte limit", path, max);
    }
    *data = buf;
    *len = n;
    return XB_OK;
}

const char *xb_data_dir(const char *name, char *buf, size_t n) {
    const char *root = getenv("XBAR_DATA");
    if (root && root[0])
        snprintf(buf, n, "%s/%s", root, name);
    else
        snprintf(buf, n, "%s/datasets/data/%s", XBAR_SOURCE_DIR, name);
    return buf;
}

const char *xb_dataset_train_split(const char *test_path, char *buf, size_t n) {
    static const char *pairs[][2] = {{"t10k-images", "train-images"},
                                     {"test_batch.bin", "data_batch_1.bin"}};
    const char *base = strrchr(test_path, '/');
    base = base ? base + 1 : test_path;
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const char *hit = strstr(base, pairs[k][0]);
        if (!hit) continue;
        int len = snprintf(buf, n, "%.*s%s%s", (int)(hit - test_path), test_path, pairs[k][1],
                           hit + strlen(pairs[k][0]));
        struct stat sb;
        if (len > 0 && (size_t)len < n && stat(buf, &sb) == 0 && S_ISREG(sb.st_mode)) return buf;
    }
    return NULL;
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool xb_dataset_is_cifar_name(const char *path) {
    return ends_with(path, ".bin") || ends_with(path, ".bin.gz");
}

/* The test file of a built-in name, or NULL for any other spec. */
static const char *named_file(const char *spec) {
    if (!strcmp(spec, "mnist") || !strcmp(spec, "fashion-mnist")) return "t10k-images-idx3-ubyte.gz";
    return !strcmp(spec, "cifar10") ? "test_batch.bin" : NULL;
}

const char *xb_dataset_path(const char *spec, char *buf, size_t n) {
    const char *file = spec ? named_file(spec) : NULL;
    char dir[2048];
    if (file)
        snprintf(buf, n, "%s/%s", xb_data_dir(spec, dir, sizeof dir), file);
    else
        snprintf(buf, n, "%s", spec ? spec : "");
    return buf;
}

static xb_status open_named(const char *spec, int cifar, xb_dataset **out, xb_ctx *ctx) {
    char path[4096];
    xb_dataset_path(spec, path, sizeof path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        /* Fashion-MNIST has no bundled sample; the other two do. */
        const char *sample = !strcmp(spec, "cifar10") ? "datasets/samples/cifar10/test_batch.bin"
                             : !strcmp(spec, "mnist") ? "datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
                                                      : NULL;
        return xb_fail(ctx, XB_ERR_IO,
                       "dataset '%s' not found: looked for %s (data dir: $XBAR_DATA/%s if XBAR_DATA "
                       "is set, else %s/datasets/data/%s). Fetch it with `datasets/fetch.sh %s`%s%s",
                       spec, path, spec, XBAR_SOURCE_DIR, spec, spec,
                       sample ? ", or use the bundled sample: --data " XBAR_SOURCE_DIR "/" : "",
                       sample ? sample : "");
    }
    xb_status st = cifar ? xb_dataset_load_cifar(path, out, ctx) : xb_dataset_load_idx(path, out, ctx);
    if (st != XB_OK) return st;
    free((*out)->name);
    (*out)->name = xb_strdup(ctx, spec);
    if (!(*out)->name) {
        xb_dataset_free(*out);
        *out = NULL;
        return ctx->status;
    }
    return XB_OK;
}

xb_status xb_dataset_open(const char *spec, xb_dataset **out, xb_ctx *ctx) {
    return xb_dataset_open_sized(spec, 0, 0, out, ctx);
}

xb_status xb_dataset_open_sized(const char *spec, int want_h, int want_w, xb_dataset **out,
                                xb_ctx *ctx) {
    return xb_dataset_open_opts(spec, want_h, want_w, NULL, out, ctx);
}

xb_status xb_dataset_open_head(const char *path, int want_h, int want_w, int64_t n_max,
                               xb_dataset **out, xb_ctx *ctx) {
    struct stat sb;
    if (n_max >= 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && !xb_dataset_is_cifar_name(path))
        return xb_dataset_load_idx_head(path, n_max, out, ctx);
    return xb_dataset_open_sized(path, want_h, want_w, out, ctx);
}

xb_status xb_dataset_open_opts(const char *spec, int want_h, int want_w, const xb_image_opts *io,
                               xb_dataset **out, xb_ctx *ctx) {
    *out = NULL;
    bool geom = io && (io->resize > 0 || io->crop > 0);
    if (geom && spec && !is_dir(spec))
        return xb_fail(ctx, XB_ERR_INVALID, "%s: --resize/--center-crop apply to folders of PNG/JPEG "
                       "files only (IDX and CIFAR files hold images of one fixed size)", spec);
    if (!spec || !spec[0]) return xb_fail(ctx, XB_ERR_INVALID, "empty dataset spec");
    if (named_file(spec)) return open_named(spec, !strcmp(spec, "cifar10"), out, ctx);
    struct stat sb;
    if (stat(spec, &sb) != 0)
        return xb_fail(ctx, XB_ERR_IO,
                       "%s: %s (a dataset is mnist, fashion-mnist, cifar10, an IDX images file, a "
                       "CIFAR .bin file or a folder of class-named subfolders of PNG/JPEG files)",
                       spec, strerror(errno));
    if (is_dir(spec)) return xb_dataset_load_image_dir(spec, want_h, want_w, io, out, ctx);
    if (xb_dataset_is_cifar_name(spec))
        return xb_dataset_load_cifar(spec, out, ctx);
    return xb_dataset_load_idx(spec, out, ctx);
}

void xb_free_list(char **list, int n) {
    if (!list) return;
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

char **xb_split_list(const char *s, int *n, xb_ctx *ctx) {
    *n = 0;
    int count = 1;
    for (const char *p = s; *p; p++) count += *p == ',';
    char **list = xb_calloc(ctx, (size_t)count + 1, sizeof(char *));
    if (!list) return NULL;
    const char *p = s;
    for (int i = 0; i < count; i++) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        list[i] = xb_malloc(ctx, (size_t)(b - a) + 1);
        if (!list[i]) {
            xb_free_list(list, i);
            return NULL;
        }
        memcpy(list[i], a, (size_t)(b - a));
        list[i][b - a] = '\0';
        p = *end ? end + 1 : end;
    }
    *n = count;
    return list;
}

xb_status xb_dataset_match_classes(xb_dataset *d, char *const *model_classes, int n_model_classes,
                                   char *note, size_t note_n, xb_ctx *ctx) {
    if (note && note_n) note[0] = '\0';
    int found = 0;
    int *map = NULL;
    if (d->n_classes > 0 && n_model_classes > 0) {
        map = xb_calloc(ctx, (size_t)d->n_classes, sizeof(int));
        if (!map) return ctx->status;
        for (int i = 0; i < d->n_classes; i++) {
            map[i] = -1;
            for (int j = 0; j < n_model_classes; j++)
                if (!strcmp(d->class_names[i], model_classes[j])) {
                    map[i] = j;
                    found++;
                    break;
                }
        }
    }
    if (found > 0 && found < d->n_classes) {
        char list[1024];
        size_t off = 0;
        list[0] = '\0';
        for (int i = 0; i < d->n_classes && off < sizeof list - 64; i++)
            if (map[i] < 0)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s'%s'", off ? ", " : "",
                                        d->class_names[i]);
        free(map);
        return xb_fail(ctx, XB_ERR_INVALID,
                       "%s: %d of %d class folders do not match the model's classes: %s", d->path,
                       d->n_classes - found, d->n_classes, list);
    }
    if (found == d->n_classes && found > 0) {
        for (int64_t i = 0; i < d->n; i++) d->labels[i] = map[d->labels[i]];
        /* Class names now follow the model's list. */
        char **names = xb_calloc(ctx, (size_t)n_model_classes, sizeof(char *));
        if (!names) {
            free(map);
            return ctx->status;
        }
        for (int j = 0; j < n_model_classes; j++) {
            names[j] = xb_strdup(ctx, model_classes[j]);
            if (!names[j]) {
                xb_free_list(names, j);
                free(map);
                return ctx->status;
            }
        }
        xb_free_list(d->class_names, d->n_classes);
        d->class_names = names;
        d->n_classes = n_model_classes;
    } else if (d->n_classes > 0 && n_model_classes > 0 && note && note_n) {
        snprintf(note, note_n,
                 "class names of %s (%s, ...) do not match the model's (%s, ...); using the "
                 "dataset's own label order",
                 d->path, d->class_names[0], model_classes[0]);
    }
    free(map);
    for (int64_t i = 0; i < d->n; i++)
        if (n_model_classes > 0 && d->labels[i] >= n_model_classes)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "%s: image %lld has label %d but the model has only %d classes", d->path,
                           (long long)i, d->labels[i], n_model_classes);
    return XB_OK;
}

bool xb_dataset_is_builtin(const char *name) {
    return name && (!strcmp(name, "mnist") || !strcmp(name, "fashion-mnist") ||
                    !strcmp(name, "cifar10"));
}
