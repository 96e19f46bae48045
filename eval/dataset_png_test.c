/* PNG decoding: every colour type, bit depth, tRNS and interlacing, written
 * here with libpng's writer and read back; corrupt files; folders. */
#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "eval/dataset.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

static const uint8_t *pixels(const xb_dataset *d, int64_t i) { return xb_test_pixels(d, i); }

#define W 5
#define H 3

typedef struct {
    int ctype, depth, interlace;
    int trns; /* add a tRNS chunk (grey/RGB: one colour; palette: per entry) */
} png_kind;

static int n_samples(int ctype) {
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette index */
    }
}

/* Source sample s of pixel p at bit depth d: spreads over the whole range
 * and, for 16 bits, hits values that round down and up when scaled. */
static unsigned src_sample(int p, int s, int depth) {
    unsigned max = (1u << depth) - 1;
    if (depth == 16) {
        static const unsigned v[] = {0, 257 * 10 + 100, 257 * 10 + 200, 65535, 257 * 128 + 128, 1234, 40000};
        return v[(p * 3 + s * 5) % 7];
    }
    return (unsigned)(p * 7 + s * 3 + 1) % (max + 1);
}

/* Palette entry i: colour and alpha. */
static void pal_entry(int i, unsigned char rgb[3], unsigned char *a) {
    rgb[0] = (unsigned char)(i * 16 + 3);
    rgb[1] = (unsigned char)(255 - i * 9);
    rgb[2] = (unsigned char)(i * 31);
    *a = (unsigned char)(i % 3 == 0 ? 0 : i % 3 == 1 ? 128 : 255);
}

static void write_png(const char *path, png_kind k) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    png_init_io(png, f);
    png_set_IHDR(png, info, W, H, k.depth, k.ctype,
                 k.interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    int ns = n_samples(k.ctype);
    if (k.ctype == PNG_COLOR_TYPE_PALETTE) {
        int np = 1 << k.depth;
        png_color pal[256];
        unsigned char alpha[256];
        for (int i = 0; i < np; i++) {
            unsigned char rgb[3];
            pal_entry(i, rgb, &alpha[i]);
            pal[i].red = rgb[0];
            pal[i].green = rgb[1];
            pal[i].blue = rgb[2];
        }
        png_set_PLTE(png, info, pal, np);
        if (k.trns) png_set_tRNS(png, info, alpha, np, NULL);
    } else if (k.trns) {
        /* make the colour of pixel 0 transparent */
        png_color_16 c = {0};
        c.gray = (png_uint_16)src_sample(0, 0, k.depth);
        c.red = (png_uint_16)src_sample(0, 0, k.depth);
        c.green = (png_uint_16)src_sample(0, 1, k.depth);
        c.blue = (png_uint_16)src_sample(0, 2, k.depth);
        png_set_tRNS(png, info, NULL, 0, &c);
    }
    png_write_info(png, info);
    if (k.depth < 8) png_set_packing(png); /* we hand over one byte per pixel */
    int bps = k.depth == 16 ? 2 : 1;
    unsigned char rows[H][W * 4 * 2];
    png_bytep rp[H];
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++)
            for (int s = 0; s < ns; s++) {
                unsigned v = src_sample(y * W + x, s, k.depth);
                unsigned char *o = &rows[y][(x * ns + s) * bps];
                if (bps == 2) {
                    o[0] = (unsigned char)(v >> 8);
                    o[1] = (unsigned char)v;
                } else {
                    o[0] = (unsigned char)v;
                }
            }
        rp[y] = rows[y];
    }
    png_write_image(png, rp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* What the decoder must return, computed from the definitions in
 * eval/dataset.h: scale to 8 bits (v*255/max, rounded), then composite
 * onto black with round(v*a/255). */
static unsigned to8(unsigned v, int depth) {
    if (depth == 16) return (unsigned)lround(v / 257.0);
    return (unsigned)lround(v * 255.0 / ((1u << depth) - 1));
}

static void expected(png_kind k, int p, int *c, unsigned out[3]) {
    unsigned col[3], a = 255;
    if (k.ctype == PNG_COLOR_TYPE_PALETTE) {
        unsigned char rgb[3], al;
        pal_entry((int)src_sample(p, 0, k.depth), rgb, &al);
        for (int i = 0; i < 3; i++) col[i] = rgb[i];
        if (k.trns) a = al;
        *c = 3;
    } else {
        int ns = n_samples(k.ctype);
        int colour = ns >= 3;
        *c = colour ? 3 : 1;
        for (int i = 0; i < *c; i++) col[i] = to8(src_sample(p, i, k.depth), k.depth);
        if (ns == 2 || ns == 4) a = to8(src_sample(p, ns - 1, k.depth), k.depth);
        if (k.trns) {
            int same = 1;
            for (int i = 0; i < *c; i++)
                if (src_sample(p, i, k.depth) != src_sample(0, i, k.depth)) same = 0;
            a = same ? 0 : 255;
        }
    }
    for (int i = 0; i < *c; i++) out[i] = (unsigned)lround(col[i] * (double)a / 255.0);
}

static void roundtrip(png_kind k) {
    char name[64];
    snprintf(name, sizeof name, "t%d_%d_%d_%d.png", k.ctype, k.depth, k.interlace, k.trns);
    write_png(xb_tmp(name), k);
    xb_ctx ctx = {0};
    uint8_t *px;
    int c, h, w;
    cr_assert_eq(xb_png_load(xb_tmp(name), &px, &c, &h, &w, &ctx), XB_OK, "%s: %s", name, ctx.msg);
    cr_assert_eq(h, H);
    cr_assert_eq(w, W);
    for (int p = 0; p < W * H; p++) {
        int ec;
        unsigned want[3];
        expected(k, p, &ec, want);
        cr_assert_eq(c, ec, "%s: channels", name);
        for (int i = 0; i < c; i++)
            cr_assert_eq(px[i * W * H + p], want[i], "%s: pixel %d channel %d = %u, want %u", name, p,
                         i, px[i * W * H + p], want[i]);
    }
    free(px);
}

Test(png, every_colour_type_depth_and_interlace, .fini = fini) {
    static const struct {
        int ctype, depths[5], nd;
    } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}, 5},  {PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}, 2},
        {PNG_COLOR_TYPE_RGB, {8, 16}, 2},            {PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}, 2},
        {PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}, 4},
    };
    int count = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (int d = 0; d < kinds[i].nd; d++)
            for (int il = 0; il < 2; il++)
                for (int trns = 0; trns < 2; trns++) {
                    int ct = kinds[i].ctype;
                    /* tRNS is forbidden with an alpha channel (PNG spec 11.3.2.1) */
                    if (trns && (ct == PNG_COLOR_TYPE_GRAY_ALPHA || ct == PNG_COLOR_TYPE_RGB_ALPHA))
                        continue;
                    roundtrip((png_kind){ct, kinds[i].depths[d], il, trns});
                    count++;
                }
    cr_assert_eq(count, 4 * (5 + 2 + 4) + 2 * (2 + 2));
}

/* A valid 8-bit grey PNG in memory, for corrupting. */
static size_t valid_png(unsigned char *buf, size_t cap) {
    png_kind k = {PNG_COLOR_TYPE_GRAY, 8, 0, 0};
    write_png(xb_tmp("base.png"), k);
    FILE *f = fopen(xb_tmp("base.png"), "rb");
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void expect_png_fail(const char *file, const char *want) {
    xb_ctx ctx = {0};
    uint8_t *px = (uint8_t *)1;
    int c, h, w;
    cr_assert_neq(xb_png_load(xb_tmp(file), &px, &c, &h, &w, &ctx), XB_OK, "%s should fail", file);
    cr_assert_null(px);
    cr_assert(strstr(ctx.msg, file) != NULL, "message '%s' lacks the file name", ctx.msg);
    cr_assert(strstr(ctx.msg, want) != NULL, "message '%s' lacks '%s'", ctx.msg, want);
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

Test(png, corrupt_files_fail_cleanly, .fini = fini) {
    unsigned char b[4096], c2[4096];
    size_t n = valid_png(b, sizeof b);
    cr_assert(n > 60 && n < sizeof b);
    /* truncated in the middle of the image data */
    xb_write_bytes(xb_tmp("trunc.png"), b, n - 20);
    expect_png_fail("trunc.png", "corrupt PNG");
    xb_write_bytes(xb_tmp("half.png"), b, n / 2);
    expect_png_fail("half.png", "truncated");
    xb_write_bytes(xb_tmp("short.png"), b, 20);
    expect_png_fail("short.png", "corrupt PNG");
    /* signature damaged */
    memcpy(c2, b, n);
    c2[1] = 'X';
    xb_write_bytes(xb_tmp("sig.png"), c2, n);
    expect_png_fail("sig.png", "not a PNG");
    xb_write_bytes(xb_tmp("tiny.png"), b, 4);
    expect_png_fail("tiny.png", "not a PNG");
    /* a flipped byte in IHDR: CRC mismatch in a critical chunk */
    memcpy(c2, b, n);
    c2[8 + 8 + 9] ^= 0x40;
    xb_write_bytes(xb_tmp("crc.png"), c2, n);
    expect_png_fail("crc.png", "corrupt PNG");
    /* IHDR claiming a width beyond our limit (CRC recomputed so only the
     * size is wrong) */
    memcpy(c2, b, n);
    put_be32(c2 + 16, 100000);
    put_be32(c2 + 29, (uint32_t)crc32(0, c2 + 12, 17));
    xb_write_bytes(xb_tmp("wide.png"), c2, n);
    expect_png_fail("wide.png", "corrupt PNG");
    /* a zero height */
    memcpy(c2, b, n);
    put_be32(c2 + 20, 0);
    put_be32(c2 + 29, (uint32_t)crc32(0, c2 + 12, 17));
    xb_write_bytes(xb_tmp("zero.png"), c2, n);
    expect_png_fail("zero.png", "corrupt PNG");
    /* garbage after the signature */
    memcpy(c2, b, 8);
    for (int i = 8; i < 200; i++) c2[i] = (unsigned char)(i * 37);
    xb_write_bytes(xb_tmp("junk.png"), c2, 200);
    expect_png_fail("junk.png", "corrupt PNG");
    expect_png_fail("missing.png", "No such file");
}

/* --- folders ---------------------------------------------------------------- */

static void write_grey(const char *path, int w, int h, unsigned char v) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY, 0, 0, 0);
    png_write_info(png, info);
    unsigned char row[64];
    memset(row, v, sizeof row);
    for (int y = 0; y < h; y++) png_write_row(png, row);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

Test(png_dir, sorted_classes_and_files, .fini = fini) {
    xb_mkdir(xb_tmp("ds"));
    xb_mkdir(xb_tmp("ds/dog"));
    xb_mkdir(xb_tmp("ds/cat"));
    xb_mkdir(xb_tmp("ds/ant"));
    xb_mkdir(xb_tmp("ds/.hidden"));
    write_grey(xb_tmp("ds/dog/b.png"), 4, 2, 40);
    write_grey(xb_tmp("ds/dog/a.PNG"), 4, 2, 30);
    write_grey(xb_tmp("ds/cat/z.png"), 4, 2, 20);
    write_grey(xb_tmp("ds/ant/m.png"), 4, 2, 10);
    write_grey(xb_tmp("ds/.hidden/m.png"), 4, 2, 99);
    xb_write_bytes(xb_tmp("ds/cat/notes.txt"), "hello", 5);
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(xb_tmp("ds"), &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->n, 4);
    cr_assert_eq(d->c, 1);
    cr_assert_eq(d->h, 2);
    cr_assert_eq(d->w, 4);
    cr_assert_eq(d->n_classes, 3);
    cr_assert_str_eq(d->class_names[0], "ant");
    cr_assert_str_eq(d->class_names[2], "dog");
    /* Round robin over classes: ant, cat, dog, then dog's second file. */
    int want_label[] = {0, 1, 2, 2};
    int want_pix[] = {10, 20, 30, 40}; /* a.PNG before b.png */
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(d->labels[i], want_label[i]);
        cr_assert_eq(pixels(d, i)[7], want_pix[i]);
    }
    cr_assert(strstr(d->files[2], "dog/a.PNG") != NULL);
    xb_dataset_free(d);

    /* A second file in the first class: it comes after one of every class. */
    write_grey(xb_tmp("ds/ant/n.png"), 4, 2, 11);
    cr_assert_eq(xb_dataset_open(xb_tmp("ds"), &d, &ctx), XB_OK, "%s", ctx.msg);
    int want_label2[] = {0, 1, 2, 0, 2};
    int want_pix2[] = {10, 20, 30, 11, 40};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(d->labels[i], want_label2[i], "image %d", i);
        cr_assert_eq(pixels(d, i)[7], want_pix2[i], "image %d", i);
    }
    xb_dataset_free(d);
}

Test(png_dir, mixed_grey_and_colour_becomes_rgb, .fini = fini) {
    xb_mkdir(xb_tmp("mx"));
    xb_mkdir(xb_tmp("mx/a"));
    write_grey(xb_tmp("mx/a/1.png"), W, H, 77);
    char *src = strdup(xb_tmp("mx/a/2.png"));
    write_png(src, (png_kind){PNG_COLOR_TYPE_RGB, 8, 0, 0});
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(xb_tmp("mx"), &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->c, 3);
    const uint8_t *g = pixels(d, 0);
    for (int k = 0; k < 3; k++) cr_assert_eq(g[k * W * H + 4], 77);
    const uint8_t *rgb = pixels(d, 1);
    cr_assert_eq(rgb[2 * W * H + 1], src_sample(1, 2, 8));
    free(src);
    xb_dataset_free(d);
}

Test(png_dir, malformed_folders, .fini = fini) {
    xb_mkdir(xb_tmp("empty"));
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_neq(xb_dataset_open(xb_tmp("empty"), &d, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "no class subfolders") != NULL, "%s", ctx.msg);

    xb_mkdir(xb_tmp("nofiles"));
    xb_mkdir(xb_tmp("nofiles/a"));
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_dataset_open(xb_tmp("nofiles"), &d, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "no .png or .jpg/.jpeg files") != NULL, "%s", ctx.msg);

    xb_mkdir(xb_tmp("sizes"));
    xb_mkdir(xb_tmp("sizes/a"));
    write_grey(xb_tmp("sizes/a/1.png"), 4, 4, 1);
    write_grey(xb_tmp("sizes/a/2.png"), 5, 4, 1);
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_dataset_open(xb_tmp("sizes"), &d, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "sizes/a/2.png") != NULL && strstr(ctx.msg, "same size"), "%s", ctx.msg);

    xb_mkdir(xb_tmp("bad"));
    xb_mkdir(xb_tmp("bad/a"));
    write_grey(xb_tmp("bad/a/1.png"), 4, 4, 1);
    xb_write_bytes(xb_tmp("bad/a/2.png"), "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_dataset_open(xb_tmp("bad"), &d, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "bad/a/2.png: corrupt PNG") != NULL, "%s", ctx.msg);
}

Test(png_dir, bundled_png_samples) {
    const char *m = XBAR_SOURCE_DIR "/datasets/samples/mnist_png";
    FILE *probe = fopen(m, "r");
    if (!probe) cr_skip_test("bundled PNG samples not in this tree yet");
    fclose(probe);
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(m, &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->h, 28);
    cr_assert_eq(d->w, 28);
    cr_assert_eq(d->n_classes, 10);
    cr_assert_str_eq(d->class_names[0], "0");
    xb_dataset_free(d);
}
