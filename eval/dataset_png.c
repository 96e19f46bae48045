/* PNG images through libpng: single files (xbar classify) and folders of
 * class-named subfolders (xbar run --data DIR).
 *
 * A folder's images are dealt out class by class, round robin: the first
 * file of every class (classes and files in byte order of their names),
 * then the second of every class, and so on.  Read class after class,
 * "--limit 100" of a 10-class folder would evaluate one or two classes and
 * report a meaningless accuracy; interleaved, any prefix is as balanced as
 * the folder allows, and the order is still fixed by the names alone.
 *
 * libpng reports errors by longjmp from inside its calls.  Everything that
 * must be released after such a jump (the FILE, the png structs, the pixel
 * and row buffers) is either created before setjmp and never reassigned
 * after it, or lives in a heap-allocated state block reached through such a
 * pointer, so its value after the jump is well defined (C11 7.13.2.1p3 only
 * makes modified *automatic* variables indeterminate). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

typedef struct {
    char err[256];
    int want_h, want_w;  /* 0: any size */
    const xb_image_opts *io; /* resize/crop applied after decoding (NULL: none) */
    int mismatch;        /* the size was not the wanted one (err says so) */
    int header_only;     /* stop after the size check (xb_image_probe) */
    unsigned char *raw;  /* interleaved 8-bit pixels, h * rowbytes */
    png_bytep *rows;
} png_state;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_state *s = png_get_error_ptr(png);
    /* libpng's stdio reader says only "Read Error" at end of file */
    snprintf(s->err, sizeof s->err, "%s", strcmp(msg, "Read Error") ? msg : "unexpected end of file (truncated)");
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunk CRCs, unknown chunks) do not stop decoding
 * and would only clutter the output. */
static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Everything between png_read_info and png_read_end.  Called under the
 * caller's setjmp; results go to *s and the out parameters. */
static void decode(png_structp png, png_infop info, png_state *s, int *out_c, int *out_h,
                   int *out_w, int *out_ch) {
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    /* Checked on the header, before any pixel is decoded or allocated. */
    /* (libpng's user limits already refused sides beyond XB_DATASET_MAX_SIDE) */
    if (!xb_image_fits(s->io, (int)h, (int)w, s->want_h, s->want_w)) {
        s->mismatch = 1;
        xb_image_size_error(s->err, sizeof s->err, s->io, (int)h, (int)w, s->want_h, s->want_w);
        png_longjmp(png, 1);
    }
    if (s->header_only) { /* what decoding would give: colour or grey */
        *out_c = ctype == PNG_COLOR_TYPE_PALETTE || (ctype & PNG_COLOR_MASK_COLOR) ? 3 : 1;
        *out_h = (int)h;
        *out_w = (int)w;
        return;
    }
    /* Normalise every colour type and depth to 8-bit grey, grey+alpha, RGB
     * or RGBA (PNG spec, section 11.2.2: the five colour types). */
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || ch < 1 || ch > 4 || rowbytes != (size_t)w * (size_t)ch)
        png_error(png, "unexpected pixel layout after conversion");
    s->raw = malloc((size_t)h * rowbytes);
    s->rows = malloc((size_t)h * sizeof(png_bytep));
    if (!s->raw || !s->rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) s->rows[y] = s->raw + (size_t)y * rowbytes;
    png_read_image(png, s->rows);
    png_read_end(png, NULL);
    *out_c = (ch >= 3) ? 3 : 1;
    *out_h = (int)h;
    *out_w = (int)w;
    *out_ch = ch;
}

xb_status xb_png_load(const char *path, uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx) {
    return xb_png_load_sized(path, 0, 0, pixels, c, h, w, ctx);
}

/* Open for reading only a regular file: a FIFO would block the open (so it
 * is opened non-blocking, then checked), a device might never end. */
FILE *xb_open_regular(const char *path, xb_ctx *ctx) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        xb_fail(ctx, XB_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        xb_fail(ctx, XB_ERR_IO, "%s: not a regular file", path);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        xb_fail(ctx, XB_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

xb_status xb_png_load_sized(const char *path, int want_h, int want_w, uint8_t **pixels, int *c,
                            int *h, int *w, xb_ctx *ctx) {
    return xb_png_load_opts(path, want_h, want_w, NULL, pixels, c, h, w, ctx);
}

xb_status xb_png_load_opts(const char *path, int want_h, int want_w, const xb_image_opts *io,
                           uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx) {
    if (pixels) *pixels = NULL;
    FILE *f = xb_open_regular(path, ctx);
    if (!f) return ctx->status;
    unsigned char sig[8];
    size_t got = fread(sig, 1, 8, f);
    if (got < 8 || png_sig_cmp(sig, 0, 8)) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_PARSE, "%s: not a PNG file (bad signature)", path);
    }
    png_state *s = calloc(1, sizeof *s);
    if (!s) {
        fclose(f);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    }
    s->want_h = want_h;
    s->want_w = want_w;
    s->io = io;
    s->header_only = pixels == NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        free(s);
        fclose(f);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: cannot create a PNG decoder", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        if (s->mismatch)
            xb_fail(ctx, XB_ERR_INVALID, "%s: %s", path, s->err);
        else
            xb_fail(ctx, XB_ERR_PARSE, "%s: corrupt PNG: %s", path, s->err);
        png_destroy_read_struct(&png, &info, NULL);
        free(s->raw);
        free(s->rows);
        free(s);
        fclose(f);
        return ctx->status;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, XB_DATASET_MAX_SIDE, XB_DATASET_MAX_SIDE);
    int oc = 0, oh = 0, ow = 0, ch = 0;
    decode(png, info, s, &oc, &oh, &ow, &ch);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    if (!pixels) { /* header only: the size after io (checked to fit) */
        free(s);
        *c = oc;
        xb_image_geometry(io, oh, ow, h, w);
        return XB_OK;
    }
    size_t plane = (size_t)oh * (size_t)ow;
    uint8_t *out = malloc(plane * (size_t)oc);
    if (!out) {
        free(s->raw);
        free(s->rows);
        free(s);
        return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", path);
    }
    /* Interleaved -> planar, compositing alpha onto black (see dataset.h). */
    const unsigned char *raw = s->raw;
    int has_alpha = (ch == 2 || ch == 4);
    for (size_t p = 0; p < plane; p++) {
        const unsigned char *px = raw + p * (size_t)ch;
        unsigned a = has_alpha ? px[ch - 1] : 255u;
        for (int k = 0; k < oc; k++) {
            unsigned v = px[k];
            out[(size_t)k * plane + p] = (uint8_t)(has_alpha ? (v * a + 127u) / 255u : v);
        }
    }
    free(s->raw);
    free(s->rows);
    free(s);
    if (xb_image_transform(io, &out, oc, &oh, &ow, path, ctx) != XB_OK) {
        free(out);
        return ctx->status;
    }
    *pixels = out;
    *c = oc;
    *h = oh;
    *w = ow;
    return XB_OK;
}

/* --- folders ---------------------------------------------------------------- */

typedef struct {
    char **v;
    int n, cap;
} strvec;

static int strvec_push(strvec *sv, const char *s) {
    if (sv->n == sv->cap) {
        int ncap = sv->cap ? sv->cap * 2 : 16;
        char **nv = realloc(sv->v, (size_t)ncap * sizeof(char *));
        if (!nv) return -1;
        sv->v = nv;
        sv->cap = ncap;
    }
    sv->v[sv->n] = strdup(s);
    if (!sv->v[sv->n]) return -1;
    sv->n++;
    return 0;
}

static void strvec_free(strvec *sv) {
    for (int i = 0; i < sv->n; i++) free(sv->v[i]);
    free(sv->v);
    memset(sv, 0, sizeof *sv);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_ci(const char *s, const char *ext) {
    size_t n = strlen(s), k = strlen(ext);
    if (n <= k) return 0;
    for (size_t i = 0; i < k; i++)
        if (tolower((unsigned char)s[n - k + i]) != ext[i]) return 0;
    return 1;
}

static int is_jpeg_name(const char *s) { return ends_with_ci(s, ".jpg") || ends_with_ci(s, ".jpeg"); }
static int is_image_name(const char *s) { return ends_with_ci(s, ".png") || is_jpeg_name(s); }

xb_status xb_image_load(const char *path, int want_h, int want_w, const xb_image_opts *io,
                        uint8_t **pixels, int *c, int *h, int *w, xb_ctx *ctx) {
    /* by name: a folder holds what its extensions say; a wrong one fails
     * with the decoder's "not a PNG"/"not a JPEG" message */
    if (is_jpeg_name(path)) return xb_jpeg_load_opts(path, want_h, want_w, io, pixels, c, h, w, ctx);
    return xb_png_load_opts(path, want_h, want_w, io, pixels, c, h, w, ctx);
}

/* Sorted entries of `dir`: subdirectories (want_dirs) or image files
 * (regular files only). */
static xb_status list_dir(const char *dir, int want_dirs, strvec *out, xb_ctx *ctx) {
    DIR *dp = opendir(dir);
    if (!dp) return xb_fail(ctx, XB_ERR_IO, "%s: %s", dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char full[4096];
        if (snprintf(full, sizeof full, "%s/%s", dir, de->d_name) >= (int)sizeof full) continue;
        struct stat sb;
        if (stat(full, &sb) != 0) continue;
        int ok = want_dirs ? S_ISDIR(sb.st_mode) : (S_ISREG(sb.st_mode) && is_image_name(de->d_name));
        if (ok && strvec_push(out, de->d_name) != 0) {
            closedir(dp);
            return xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory listing the folder", dir);
        }
    }
    closedir(dp);
    if (out->n) qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
    return XB_OK;
}

/* Reorders paths/labels, listed class after class (labels ascending), into
 * the round-robin order described at the top of this file. */
static xb_status interleave_classes(strvec *paths, int32_t *labels, int n_classes, xb_ctx *ctx) {
    int n = paths->n;
    int *start = xb_calloc(ctx, (size_t)n_classes + 1, sizeof(int));
    int *taken = xb_calloc(ctx, (size_t)n_classes, sizeof(int));
    char **v = xb_calloc(ctx, (size_t)n, sizeof(char *));
    int32_t *lab = xb_calloc(ctx, (size_t)n, sizeof(int32_t));
    if (!start || !taken || !v || !lab) {
        free(start);
        free(taken);
        free(v);
        free(lab);
        return ctx->status;
    }
    for (int i = 0; i < n; i++) start[labels[i] + 1]++;
    for (int k = 0; k < n_classes; k++) start[k + 1] += start[k];
    for (int out = 0; out < n;)
        for (int k = 0; k < n_classes; k++) {
            int i = start[k] + taken[k];
            if (i >= start[k + 1]) continue;
            taken[k]++;
            v[out] = paths->v[i];
            lab[out++] = labels[i];
        }
    memcpy(paths->v, v, (size_t)n * sizeof(char *));
    memcpy(labels, lab, (size_t)n * sizeof(int32_t));
    free(start);
    free(taken);
    free(v);
    free(lab);
    return XB_OK;
}

xb_status xb_dataset_load_png_dir(const char *dir, xb_dataset **out, xb_ctx *ctx) {
    return xb_dataset_load_png_dir_sized(dir, 0, 0, out, ctx);
}

xb_status xb_dataset_load_png_dir_sized(const char *dir, int want_h, int want_w, xb_dataset **out,
                                        xb_ctx *ctx) {
    return xb_dataset_load_image_dir(dir, want_h, want_w, NULL, out, ctx);
}

xb_status xb_dataset_load_image_dir(const char *dir, int want_h, int want_w, const xb_image_opts *io,
                                    xb_dataset **out, xb_ctx *ctx) {
    *out = NULL;
    strvec classes = {0}, files = {0};
    strvec paths = {0};
    int32_t *labels = NULL;
    xb_dataset *d = NULL;
    xb_status st = list_dir(dir, 1, &classes, ctx);
    if (st != XB_OK) goto done;
    if (classes.n == 0) {
        st = xb_fail(ctx, XB_ERR_INVALID,
                     "%s: no class subfolders; an image dataset is a folder with one subfolder of "
                     "PNG or JPEG files per class (e.g. %s/cat/0001.png)",
                     dir, dir);
        goto done;
    }
    for (int k = 0; k < classes.n && st == XB_OK; k++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, classes.v[k]);
        strvec_free(&files);
        st = list_dir(sub, 0, &files, ctx);
        for (int i = 0; i < files.n && st == XB_OK; i++) {
            char full[8192];
            snprintf(full, sizeof full, "%s/%s", sub, files.v[i]);
            if (paths.n >= XB_DATASET_MAX_IMAGES) {
                st = xb_fail(ctx, XB_ERR_INVALID, "%s: more than %d images", dir,
                             XB_DATASET_MAX_IMAGES);
                break;
            }
            if (strvec_push(&paths, full) != 0) {
                st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            int32_t *nl = realloc(labels, (size_t)paths.n * sizeof(int32_t));
            if (!nl) {
                st = xb_fail(ctx, XB_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            labels = nl;
            labels[paths.n - 1] = k;
        }
    }
    if (st != XB_OK) goto done;
    if (paths.n == 0) {
        st = xb_fail(ctx, XB_ERR_INVALID, "%s: no .png or .jpg/.jpeg files in its %d class subfolders", dir,
                     classes.n);
        goto done;
    }
    st = interleave_classes(&paths, labels, classes.n, ctx);
    if (st != XB_OK) goto done;
    /* Headers only (size, grey or colour): the pixels are decoded when a
     * run reads them (xb_dataset_pixels), so the folder's size costs no
     * memory.  A damaged body is reported then, naming the file. */
    int c = 1, h0 = 0, w0 = 0;
    for (int i = 0; i < paths.n && st == XB_OK; i++) {
        int h, w, ci;
        st = xb_image_load(paths.v[i], want_h, want_w, io, NULL, &ci, &h, &w, ctx);
        if (st != XB_OK) break;
        if (i == 0) {
            h0 = h;
            w0 = w;
        } else if (h != h0 || w != w0) {
            st = xb_fail(ctx, XB_ERR_INVALID, "%s: image is %dx%d but %s is %dx%d (all images of a "
                         "dataset must have the same size)",
                         paths.v[i], w, h, paths.v[0], w0, h0);
            break;
        }
        if (ci == 3) c = 3;
    }
    if (st != XB_OK) goto done;
    d = xb_dataset_alloc_files(dir, paths.n, c, h0, w0, ctx);
    if (!d) {
        st = ctx->status;
        goto done;
    }
    if (io) d->io = *io;
    for (int i = 0; i < paths.n; i++) d->labels[i] = labels[i];
    d->files = xb_calloc(ctx, (size_t)paths.n, sizeof(char *));
    d->class_names = xb_calloc(ctx, (size_t)classes.n, sizeof(char *));
    if (!d->files || !d->class_names) {
        st = ctx->status;
        goto done;
    }
    /* Hand the strings over rather than copy them. */
    for (int i = 0; i < paths.n; i++) {
        d->files[i] = paths.v[i];
        paths.v[i] = NULL;
    }
    for (int k = 0; k < classes.n; k++) {
        d->class_names[k] = classes.v[k];
        classes.v[k] = NULL;
    }
    d->n_classes = classes.n;
done:
    free(labels);
    strvec_free(&classes);
    strvec_free(&files);
    strvec_free(&paths);
    if (st != XB_OK) {
        xb_dataset_free(d);
        return st;
    }
    *out = d;
    return XB_OK;
}
