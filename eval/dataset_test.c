/* IDX and CIFAR loaders, spec resolution and class matching. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/dataset.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

static const uint8_t *pixels(const xb_dataset *d, int64_t i) { return xb_test_pixels(d, i); }

/* An IDX file image: header for `ndims` dims, then `data`. */
static size_t make_idx(unsigned char *buf, int ndims, const uint32_t *dims, const unsigned char *data,
                       size_t n) {
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = 8;
    buf[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) {
        buf[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        buf[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        buf[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        buf[7 + 4 * i] = (unsigned char)dims[i];
    }
    memcpy(buf + 4 + 4 * ndims, data, n);
    return 4 + 4 * (size_t)ndims + n;
}

/* 3 images of 2x3 pixels, pixel value = 10*image + position, labels 7,0,9. */
static void write_small_idx(const char *stem, int gz_images, int gz_labels) {
    unsigned char px[18], buf[64], lab[3] = {7, 0, 9};
    for (int i = 0; i < 18; i++) px[i] = (unsigned char)(10 * (i / 6) + i % 6);
    uint32_t idims[3] = {3, 2, 3}, ldims[1] = {3};
    char p[256];
    size_t n = make_idx(buf, 3, idims, px, 18);
    snprintf(p, sizeof p, "%s-images-idx3-ubyte%s", stem, gz_images ? ".gz" : "");
    (gz_images ? xb_write_gz : xb_write_bytes)(xb_tmp(p), buf, n);
    n = make_idx(buf, 1, ldims, lab, 3);
    snprintf(p, sizeof p, "%s-labels-idx1-ubyte%s", stem, gz_labels ? ".gz" : "");
    (gz_labels ? xb_write_gz : xb_write_bytes)(xb_tmp(p), buf, n);
}

static void check_small(const xb_dataset *d) {
    cr_assert_eq(d->n, 3);
    cr_assert_eq(d->c, 1);
    cr_assert_eq(d->h, 2);
    cr_assert_eq(d->w, 3);
    for (int i = 0; i < 18; i++) cr_assert_eq(pixels(d, i / 6)[i % 6], 10 * (i / 6) + i % 6);
    cr_assert_eq(d->labels[0], 7);
    cr_assert_eq(d->labels[1], 0);
    cr_assert_eq(d->labels[2], 9);
    cr_assert_eq(pixels(d, 2)[0], 20);
}

Test(dataset_idx, plain_files, .fini = fini) {
    write_small_idx("a", 0, 0);
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_load_idx(xb_tmp("a-images-idx3-ubyte"), &d, &ctx), XB_OK, "%s", ctx.msg);
    check_small(d);
    cr_assert_null(d->class_names);
    xb_dataset_free(d);
}

Test(dataset_idx, gzip_and_mixed_compression, .fini = fini) {
    write_small_idx("b", 1, 1);
    write_small_idx("c", 1, 0); /* gz images, plain labels: found by dropping .gz */
    write_small_idx("d", 0, 1); /* plain images, gz labels */
    const char *names[] = {"b-images-idx3-ubyte.gz", "c-images-idx3-ubyte.gz", "d-images-idx3-ubyte"};
    for (int k = 0; k < 3; k++) {
        xb_ctx ctx = {0};
        xb_dataset *d;
        cr_assert_eq(xb_dataset_load_idx(xb_tmp(names[k]), &d, &ctx), XB_OK, "%s", ctx.msg);
        check_small(d);
        xb_dataset_free(d);
    }
}

/* Load `images` (written by the caller) and expect failure mentioning
 * every string in `want`. */
static void expect_fail(const char *images, const char *w1, const char *w2) {
    xb_ctx ctx = {0};
    xb_dataset *d = (xb_dataset *)1;
    xb_status st = xb_dataset_open(images, &d, &ctx);
    cr_assert_neq(st, XB_OK, "loading %s should fail", images);
    cr_assert_null(d);
    cr_assert(strstr(ctx.msg, w1) != NULL, "message '%s' lacks '%s'", ctx.msg, w1);
    if (w2) cr_assert(strstr(ctx.msg, w2) != NULL, "message '%s' lacks '%s'", ctx.msg, w2);
}

Test(dataset_idx, malformed_files, .fini = fini) {
    write_small_idx("ok", 0, 0);
    unsigned char buf[64], px[18] = {0}, lab[4] = {1, 2, 3, 4};
    uint32_t idims[3] = {3, 2, 3}, ldims[1] = {4};
    size_t n = make_idx(buf, 3, idims, px, 18);
    FILE *f;

    /* wrong magic */
    buf[0] = 0x1f;
    xb_write_bytes(xb_tmp("m-images-idx3-ubyte"), buf, n);
    buf[0] = 0;
    expect_fail(xb_tmp("m-images-idx3-ubyte"), "m-images-idx3-ubyte", "not an IDX file");
    /* wrong element type */
    buf[2] = 0x0D;
    xb_write_bytes(xb_tmp("t-images-idx3-ubyte"), buf, n);
    buf[2] = 8;
    expect_fail(xb_tmp("t-images-idx3-ubyte"), "t-images-idx3-ubyte", "element type 0x0d");
    /* wrong rank */
    buf[3] = 2;
    xb_write_bytes(xb_tmp("r-images-idx3-ubyte"), buf, n);
    buf[3] = 3;
    expect_fail(xb_tmp("r-images-idx3-ubyte"), "r-images-idx3-ubyte", "2 dimensions, expected 3");
    /* truncated data, truncated header, empty file */
    xb_write_bytes(xb_tmp("tr-images-idx3-ubyte"), buf, n - 1);
    expect_fail(xb_tmp("tr-images-idx3-ubyte"), "tr-images-idx3-ubyte", "truncated");
    xb_write_bytes(xb_tmp("th-images-idx3-ubyte"), buf, 9);
    expect_fail(xb_tmp("th-images-idx3-ubyte"), "th-images-idx3-ubyte", "truncated IDX header");
    xb_write_bytes(xb_tmp("e-images-idx3-ubyte"), buf, 0);
    expect_fail(xb_tmp("e-images-idx3-ubyte"), "e-images-idx3-ubyte", "truncated");
    /* bytes beyond the dims: dims inconsistent with size */
    unsigned char big[80];
    memcpy(big, buf, n);
    memset(big + n, 0, 5);
    xb_write_bytes(xb_tmp("x-images-idx3-ubyte"), big, n + 5);
    expect_fail(xb_tmp("x-images-idx3-ubyte"), "x-images-idx3-ubyte", "inconsistent");
    /* a count far beyond what the file holds and beyond the limit */
    uint32_t huge[3] = {0xFFFFFFFFu, 28, 28};
    n = make_idx(buf, 3, huge, px, 18);
    xb_write_bytes(xb_tmp("h-images-idx3-ubyte"), buf, n);
    expect_fail(xb_tmp("h-images-idx3-ubyte"), "h-images-idx3-ubyte", "claim more than");
    uint32_t many[3] = {20000000u, 1, 1};
    n = make_idx(buf, 3, many, px, 18);
    xb_write_bytes(xb_tmp("k-images-idx3-ubyte"), buf, n);
    expect_fail(xb_tmp("k-images-idx3-ubyte"), "k-images-idx3-ubyte", "exceeds the limit");
    uint32_t wide[3] = {1, 1, 100000};
    n = make_idx(buf, 3, wide, px, 18);
    xb_write_bytes(xb_tmp("w-images-idx3-ubyte"), buf, n);
    expect_fail(xb_tmp("w-images-idx3-ubyte"), "w-images-idx3-ubyte", "out of range");
    uint32_t none[3] = {0, 28, 28};
    n = make_idx(buf, 3, none, px, 0);
    xb_write_bytes(xb_tmp("z-images-idx3-ubyte"), buf, n);
    expect_fail(xb_tmp("z-images-idx3-ubyte"), "z-images-idx3-ubyte", "0 images");
    expect_fail("/dev/null", "/dev/null", "not a regular file");
    /* label count mismatch: 4 labels for 3 images */
    n = make_idx(buf, 3, idims, px, 18);
    xb_write_bytes(xb_tmp("l-images-idx3-ubyte"), buf, n);
    n = make_idx(buf, 1, ldims, lab, 4);
    xb_write_bytes(xb_tmp("l-labels-idx1-ubyte"), buf, n);
    expect_fail(xb_tmp("l-images-idx3-ubyte"), "l-labels-idx1-ubyte", "4 labels for 3 images");
    /* labels file missing */
    n = make_idx(buf, 3, idims, px, 18);
    xb_write_bytes(xb_tmp("nolab-images-idx3-ubyte"), buf, n);
    expect_fail(xb_tmp("nolab-images-idx3-ubyte"), "nolab-labels-idx1-ubyte", "not found");
    /* a name without the images pattern */
    xb_write_bytes(xb_tmp("pictures.idx"), buf, n);
    expect_fail(xb_tmp("pictures.idx"), "pictures.idx", "-images-idx3-ubyte");
    /* truncated gzip stream */
    write_small_idx("g", 1, 0);
    unsigned char gz[256];
    f = fopen(xb_tmp("g-images-idx3-ubyte.gz"), "rb");
    size_t gl = fread(gz, 1, sizeof gz, f);
    fclose(f);
    xb_write_bytes(xb_tmp("g-images-idx3-ubyte.gz"), gz, gl - 12);
    expect_fail(xb_tmp("g-images-idx3-ubyte.gz"), "g-images-idx3-ubyte.gz", "gzip");
    /* missing file */
    expect_fail(xb_tmp("none-images-idx3-ubyte"), "none-images-idx3-ubyte", "No such file");
}

/* A gzipped IDX file is decompressed straight into the dataset; with a
 * head (the training split's calibration images) only the first images
 * are kept, but the whole stream is still read: a stream cut short, one
 * with more data than the header declares and a bad CRC still fail. */
Test(dataset_idx, gzip_read_whole_head_kept, .fini = fini) {
    write_small_idx("hd", 1, 1);
    static const int labels[3] = {7, 0, 9};
    xb_ctx ctx = {0};
    xb_dataset *d;
    for (int64_t keep = 0; keep <= 4; keep++) {
        cr_assert_eq(xb_dataset_load_idx_head(xb_tmp("hd-images-idx3-ubyte.gz"), keep, &d, &ctx),
                     XB_OK, "%s", ctx.msg);
        cr_assert_eq(d->n, keep < 3 ? keep : 3);
        for (int64_t i = 0; i < d->n; i++) {
            for (int k = 0; k < 6; k++) cr_assert_eq(pixels(d, i)[k], 10 * i + k);
            cr_assert_eq(d->labels[i], labels[i]);
        }
        xb_dataset_free(d);
    }
    unsigned char buf[64], px[24];
    for (int i = 0; i < 24; i++) px[i] = (unsigned char)i;
    uint32_t three[3] = {3, 2, 3}, four[3] = {4, 2, 3};
    /* 4 images' pixels under a header of 3: more data than declared */
    size_t n = make_idx(buf, 3, three, px, 24);
    xb_write_gz(xb_tmp("hx-images-idx3-ubyte.gz"), buf, n);
    uint32_t l3[1] = {3}, l4[1] = {4};
    n = make_idx(buf, 1, l3, px, 3);
    xb_write_gz(xb_tmp("hx-labels-idx1-ubyte.gz"), buf, n);
    /* 3 images' pixels under a header of 4: truncated */
    n = make_idx(buf, 3, four, px, 18);
    xb_write_gz(xb_tmp("ht-images-idx3-ubyte.gz"), buf, n);
    n = make_idx(buf, 1, l4, px, 4);
    xb_write_gz(xb_tmp("ht-labels-idx1-ubyte.gz"), buf, n);
    /* a flipped bit in the gzip trailer's CRC */
    unsigned char gz[256];
    FILE *f = fopen(xb_tmp("hd-images-idx3-ubyte.gz"), "rb");
    size_t gl = fread(gz, 1, sizeof gz, f);
    fclose(f);
    gz[gl - 8] ^= 1;
    write_small_idx("hc", 0, 0); /* its labels; the images file is the bad one */
    xb_write_bytes(xb_tmp("hc-images-idx3-ubyte.gz"), gz, gl);
    const char *bad[][2] = {{"hx-images-idx3-ubyte.gz", "more data than the header"},
                            {"ht-images-idx3-ubyte.gz", "truncated"},
                            {"hc-images-idx3-ubyte.gz", "gzip"}};
    for (int b = 0; b < 3; b++)
        for (int64_t keep = 1; keep >= -1; keep -= 2) {
            xb_ctx c2 = {0};
            d = (xb_dataset *)1;
            cr_assert_neq(xb_dataset_load_idx_head(xb_tmp(bad[b][0]), keep, &d, &c2), XB_OK,
                          "%s (keep %lld) loaded", bad[b][0], (long long)keep);
            cr_assert_null(d);
            cr_assert(strstr(c2.msg, bad[b][0]) && strstr(c2.msg, bad[b][1]), "%s", c2.msg);
        }
}

/* --- CIFAR ------------------------------------------------------------------ */

static void write_cifar(const char *name, int n, const char *meta) {
    size_t len = (size_t)n * 3073;
    unsigned char *b = malloc(len);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * 3073] = (unsigned char)(i % 10);
        for (int p = 0; p < 3072; p++) b[(size_t)i * 3073 + 1 + p] = (unsigned char)((p + i) & 255);
    }
    xb_write_bytes(xb_tmp(name), b, len);
    free(b);
    if (meta) xb_write_bytes(xb_tmp("batches.meta.txt"), meta, strlen(meta));
}

Test(dataset_cifar, records_and_meta, .fini = fini) {
    write_cifar("test_batch.bin", 12, "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(xb_tmp("test_batch.bin"), &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->n, 12);
    cr_assert_eq(d->c, 3);
    cr_assert_eq(d->h, 32);
    cr_assert_eq(d->w, 32);
    cr_assert_eq(d->labels[11], 1);
    /* planar: red plane then green then blue, as stored */
    const uint8_t *im = pixels(d, 5);
    cr_assert_eq(im[0], 5);
    cr_assert_eq(im[1024], (1024 + 5) & 255);
    cr_assert_eq(im[3071], (3071 + 5) & 255);
    cr_assert_eq(d->n_classes, 10);
    cr_assert_str_eq(d->class_names[3], "cat");
    cr_assert_str_eq(d->class_names[9], "truck");
    xb_dataset_free(d);
}

Test(dataset_cifar, without_meta_and_malformed, .fini = fini) {
    write_cifar("x.bin", 2, NULL);
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(xb_tmp("x.bin"), &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->n_classes, 0);
    cr_assert_null(d->class_names);
    xb_dataset_free(d);
    /* truncated record */
    unsigned char b[3073 * 2];
    memset(b, 0, sizeof b);
    xb_write_bytes(xb_tmp("t.bin"), b, sizeof b - 1);
    expect_fail(xb_tmp("t.bin"), "t.bin", "not a whole number of 3073-byte");
    xb_write_bytes(xb_tmp("e.bin"), b, 0);
    expect_fail(xb_tmp("e.bin"), "e.bin", "3073");
    /* a label beyond the classes the meta file names */
    b[3073] = 4;
    xb_write_bytes(xb_tmp("l.bin"), b, sizeof b);
    xb_write_bytes(xb_tmp("batches.meta.txt"), "a\nb\nc\n", 6);
    expect_fail(xb_tmp("l.bin"), "l.bin", "label 4");
}

/* --- spec resolution -------------------------------------------------------- */

Test(dataset_open, named_dataset_missing_says_where_and_how, .fini = fini) {
    setenv("XBAR_DATA", xb_tmpdir(), 1);
    expect_fail("mnist", "fetch.sh mnist", xb_tmp("mnist/t10k-images-idx3-ubyte.gz"));
    expect_fail("cifar10", "fetch.sh cifar10", "datasets/samples/cifar10/test_batch.bin");
    expect_fail("fashion-mnist", "fetch.sh fashion-mnist", "XBAR_DATA");
    expect_fail(xb_tmp("nothing-here"), "nothing-here", "No such file");
}

Test(dataset_open, named_dataset_found_through_xbar_data, .fini = fini) {
    setenv("XBAR_DATA", xb_tmpdir(), 1);
    xb_mkdir(xb_tmp("fashion-mnist"));
    write_small_idx("fashion-mnist/t10k", 1, 1);
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open("fashion-mnist", &d, &ctx), XB_OK, "%s", ctx.msg);
    check_small(d);
    cr_assert_str_eq(d->name, "fashion-mnist");
    xb_dataset_free(d);
    char buf[512];
    cr_assert_str_eq(xb_data_dir("cifar10", buf, sizeof buf), xb_tmp("cifar10"));
    unsetenv("XBAR_DATA");
    cr_assert_str_eq(xb_data_dir("cifar10", buf, sizeof buf), XBAR_SOURCE_DIR "/datasets/data/cifar10");
}

Test(dataset_open, training_split_beside_test_files, .fini = fini) {
    char buf[512];
    write_small_idx("t10k", 1, 1);
    cr_assert_null(xb_dataset_train_split(xb_tmp("t10k-images-idx3-ubyte.gz"), buf, sizeof buf));
    write_small_idx("train", 1, 1);
    cr_assert_str_eq(xb_dataset_train_split(xb_tmp("t10k-images-idx3-ubyte.gz"), buf, sizeof buf),
                     xb_tmp("train-images-idx3-ubyte.gz"));
    xb_write_bytes(xb_tmp("test_batch.bin"), "x", 1);
    cr_assert_null(xb_dataset_train_split(xb_tmp("test_batch.bin"), buf, sizeof buf));
    xb_write_bytes(xb_tmp("data_batch_1.bin"), "x", 1);
    cr_assert_str_eq(xb_dataset_train_split(xb_tmp("test_batch.bin"), buf, sizeof buf),
                     xb_tmp("data_batch_1.bin"));
    cr_assert_null(xb_dataset_train_split(xb_tmp("other.bin"), buf, sizeof buf));
}

/* --- class matching --------------------------------------------------------- */

static xb_dataset *fake(int n_names, const char **names, int n, const int *labels) {
    xb_ctx ctx = {0};
    xb_dataset *d = calloc(1, sizeof *d);
    d->n = n;
    d->labels = calloc((size_t)n, sizeof(int32_t));
    for (int i = 0; i < n; i++) d->labels[i] = labels[i];
    if (n_names) {
        d->class_names = calloc((size_t)n_names, sizeof(char *));
        for (int i = 0; i < n_names; i++) d->class_names[i] = xb_strdup(&ctx, names[i]);
        d->n_classes = n_names;
    }
    d->path = xb_strdup(&ctx, "fake");
    return d;
}

Test(dataset_classes, matched_by_name) {
    const char *folder[] = {"cat", "dog", "ship"}; /* sorted folder order */
    char *model[] = {"airplane", "ship", "cat", "dog"};
    int labels[] = {0, 1, 2, 2};
    xb_dataset *d = fake(3, folder, 4, labels);
    xb_ctx ctx = {0};
    char note[256];
    cr_assert_eq(xb_dataset_match_classes(d, model, 4, note, sizeof note, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->labels[0], 2);
    cr_assert_eq(d->labels[1], 3);
    cr_assert_eq(d->labels[2], 1);
    cr_assert_eq(d->n_classes, 4);
    cr_assert_str_eq(d->class_names[1], "ship");
    cr_assert_str_eq(note, "");
    xb_dataset_free(d);
}

Test(dataset_classes, no_match_keeps_order_with_note_partial_fails) {
    const char *folder[] = {"a", "b"};
    char *model[] = {"x", "y", "z"};
    int labels[] = {1, 0};
    xb_dataset *d = fake(2, folder, 2, labels);
    xb_ctx ctx = {0};
    char note[256];
    cr_assert_eq(xb_dataset_match_classes(d, model, 3, note, sizeof note, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->labels[0], 1);
    cr_assert(strstr(note, "own label order") != NULL, "%s", note);
    xb_dataset_free(d);

    const char *half[] = {"x", "q"};
    d = fake(2, half, 2, labels);
    cr_assert_neq(xb_dataset_match_classes(d, model, 3, note, sizeof note, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "'q'") != NULL, "%s", ctx.msg);
    xb_dataset_free(d);

    int big[] = {0, 5};
    d = fake(0, NULL, 2, big);
    xb_ctx_clear(&ctx);
    cr_assert_neq(xb_dataset_match_classes(d, model, 3, NULL, 0, &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "label 5") != NULL, "%s", ctx.msg);
    xb_dataset_free(d);
}

Test(dataset_classes, split_list_trims) {
    xb_ctx ctx = {0};
    int n;
    char **l = xb_split_list(" a, b ,c,,d ", &n, &ctx);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(l[0], "a");
    cr_assert_str_eq(l[1], "b");
    cr_assert_str_eq(l[2], "c");
    cr_assert_str_eq(l[3], "");
    cr_assert_str_eq(l[4], "d");
    xb_free_list(l, n);
}

/* --- bundled samples (present once datasets/samples/ is committed) ---------- */

Test(dataset_samples, mnist_and_cifar_samples) {
    const char *m = XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz";
    const char *c = XBAR_SOURCE_DIR "/datasets/samples/cifar10/test_batch.bin";
    struct stat sb;
    if (stat(m, &sb) != 0 || stat(c, &sb) != 0) cr_skip_test("bundled samples not in this tree yet");
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(m, &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->n, 1000);
    cr_assert_eq(d->h, 28);
    /* The first MNIST test image is a 7, the second a 2 (the well-known
     * start of t10k-labels). */
    cr_assert_eq(d->labels[0], 7);
    cr_assert_eq(d->labels[1], 2);
    xb_dataset_free(d);
    cr_assert_eq(xb_dataset_open(c, &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(d->n, 1000);
    cr_assert_eq(d->n_classes, 10);
    cr_assert_str_eq(d->class_names[0], "airplane");
    xb_dataset_free(d);
}

/* Uncompressed IDX and CIFAR files are read image by image from the open
 * file: a file cut after it was opened fails the read naming the file and
 * the image, instead of returning stale or partial pixels. */
Test(dataset_open, plain_file_cut_after_open_fails_the_read, .fini = fini) {
    unsigned char rec[3 * 3073];
    for (size_t i = 0; i < sizeof rec; i++) rec[i] = (unsigned char)(i % 3073 ? i * 3 : 1);
    xb_write_bytes(xb_tmp("cut_batch.bin"), rec, sizeof rec);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    cr_assert_eq(xb_dataset_load_cifar(xb_tmp("cut_batch.bin"), &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_null(d->images, "held in memory");
    cr_assert_eq(pixels(d, 2)[0], (unsigned char)((2 * 3073 + 1) * 3));
    xb_write_bytes(xb_tmp("cut_batch.bin"), rec, 3073 + 100);
    uint8_t buf[3072];
    cr_assert_null(xb_dataset_pixels(d, 2, buf, &ctx));
    cr_assert(strstr(ctx.msg, "cut_batch.bin: image 2") && strstr(ctx.msg, "shorter"), "%s",
              ctx.msg);
    cr_assert_null(xb_dataset_pixels(d, 3, buf, &ctx), "past the end");
    xb_dataset_free(d);
}
