/* Bring your own model and data (issue 14), end to end through the xbar
 * executable:
 *   - a model stripped of its xbar.mean/xbar.std (xbar meta --unset) warns,
 *     and with --mean/--std gives exactly the predictions of the original;
 *     xbar meta --set-mean/--set-std writes them back with the same result;
 *   - PNG and quality-100 JPEG copies of the same images (written here from
 *     the bundled CIFAR-10 PNG sample) decode within a stated tolerance and
 *     give the same predictions;
 *   - --resize / --center-crop, and the size check on the header before
 *     decoding. */
#define _GNU_SOURCE /* memrchr */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

#include "eval/dataset.h"
#include "tests/cli_util.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

/* xb_tmp's buffers rotate (and xb_cli_run uses them): keep a copy. */
static const char *tmp(const char *name) {
    static char keep[16][512];
    static int next;
    char *b = keep[next++ % 16];
    snprintf(b, 512, "%s", xb_tmp(name));
    return b;
}

#define LENET "models/lenet5_mnist.onnx"
#define MNIST "datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

static char pred_a[1 << 16], pred_b[1 << 16];

/* Runs xbar run ARGS --predictions F and returns F's text in buf. */
static void run_pred(const char *args, const char *csv, char *buf, size_t n) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "run %s --predictions %s", args, csv);
    int rc = xb_cli_run(cmd);
    cr_assert_eq(rc, 0, "xbar %s: rc %d\n%s", cmd, rc, xb_cli_err);
    xb_slurp(csv, buf, n);
    cr_assert(strlen(buf) > 100, "%s", buf);
}

Test(byo, no_metadata_plus_flags_equals_metadata, .fini = fini) {
    char cmd[2048];
    const char *bare = tmp("bare.onnx"), *back = tmp("back.onnx"), *csv = tmp("p.csv");
    snprintf(cmd, sizeof cmd, "meta " LENET " --unset xbar.mean --unset xbar.std -o %s", bare);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
    snprintf(cmd, sizeof cmd, "meta %s", bare);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
    cr_assert(!strstr(xb_cli_out, "xbar.mean") && strstr(xb_cli_out, "xbar.classes="), "%s",
              xb_cli_out);

    /* float and int8 on the same images: the original... */
    run_pred(LENET " --data " MNIST " --limit 60 --calib 40", csv, pred_a, sizeof pred_a);
    cr_assert(!strstr(xb_cli_err, "warning"), "%s", xb_cli_err);
    /* ...the bare copy without flags: a warning saying what was assumed... */
    snprintf(cmd, sizeof cmd, "%s --data " MNIST " --limit 60 --calib 40", bare);
    run_pred(cmd, csv, pred_b, sizeof pred_b);
    cr_assert(strstr(xb_cli_err, "xbar: warning: ") && strstr(xb_cli_err, "assuming mean 0, std 1"),
              "%s", xb_cli_err);
    /* ...and with the metadata's values as flags: the same predictions for
     * every image and mode, not only the same count */
    snprintf(cmd, sizeof cmd, "%s --data " MNIST " --limit 60 --calib 40 --mean 0.1307 --std 0.3081",
             bare);
    run_pred(cmd, csv, pred_b, sizeof pred_b);
    cr_assert(!strstr(xb_cli_err, "warning"), "%s", xb_cli_err);
    cr_assert_str_eq(pred_a, pred_b);
    const char *head = "index,file,label,label_name,float,float_name,float_top5,int8,int8_name,"
                       "int8_top5\n";
    cr_assert(!strncmp(pred_a, head, strlen(head)), "%s", pred_a);
    /* a row: top-1 is the first of the top-5 */
    int idx, lab, f1, f5[5], q1;
    cr_assert_eq(sscanf(strchr(pred_a, '\n') + 1, "%d,,%d,%*[^,],%d,%*[^,],%d;%d;%d;%d;%d,%d", &idx,
                        &lab, &f1, &f5[0], &f5[1], &f5[2], &f5[3], &f5[4], &q1),
                 9, "%s", pred_a);
    cr_assert(idx == 0 && f1 == f5[0]);

    /* written back with xbar meta: no flags needed */
    snprintf(cmd, sizeof cmd, "meta %s --set-mean 0.1307 --set-std 0.3081 -o %s", bare, back);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
    snprintf(cmd, sizeof cmd, "%s --data " MNIST " --limit 60 --calib 40", back);
    run_pred(cmd, csv, pred_b, sizeof pred_b);
    cr_assert(!strstr(xb_cli_err, "warning"), "%s", xb_cli_err);
    cr_assert_str_eq(pred_a, pred_b);

    /* classify takes the same flags: identical probabilities */
    static char out_a[sizeof xb_cli_out];
    cr_assert_eq(xb_cli_run("classify " LENET " datasets/samples/mnist_png/3/t00018.png"), 0, "%s",
                 xb_cli_err);
    snprintf(out_a, sizeof out_a, "%s", xb_cli_out);
    snprintf(cmd, sizeof cmd,
             "classify %s datasets/samples/mnist_png/3/t00018.png --mean 0.1307 --std 0.3081", bare);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
    cr_assert_str_eq(out_a, xb_cli_out);

    /* flags override metadata: a wrong --std changes the answers */
    run_pred(LENET " --data " MNIST " --limit 60 --calib 40 --std 3", csv, pred_b, sizeof pred_b);
    cr_assert_str_neq(pred_a, pred_b);
}

Test(byo, bad_flags_and_meta_usage, .fini = fini) {
    char cmd[1024];
    cr_assert_eq(xb_cli_run("run " LENET " --data " MNIST " --limit 2 --mean 0.1,0.2"), 1);
    cr_assert(strstr(xb_cli_err, "--mean") && strstr(xb_cli_err, "2 values"), "%s", xb_cli_err);
    cr_assert_eq(xb_cli_run("run " LENET " --data " MNIST " --limit 2 --std 0"), 1);
    cr_assert(strstr(xb_cli_err, "positive"), "%s", xb_cli_err);
    cr_assert_eq(xb_cli_run("run " LENET " --data " MNIST " --limit 2 --layout nhwc"), 1);
    cr_assert(strstr(xb_cli_err, "NHWC"), "%s", xb_cli_err);
    /* --classes: one name a line, count checked against the outputs */
    const char *cls = tmp("classes.txt");
    xb_write_bytes(cls, "zero\none\ntwo\n", 13);
    snprintf(cmd, sizeof cmd, "run " LENET " --data " MNIST " --limit 2 --classes %s", cls);
    cr_assert_eq(xb_cli_run(cmd), 1);
    cr_assert(strstr(xb_cli_err, "3 class names"), "%s", xb_cli_err);
    /* meta: edits need -o, -o may not be the model, and a copy that would not
     * load (3 means for a grey model) is refused before anything is written */
    cr_assert_eq(xb_cli_run("meta " LENET " --set-mean 0.5"), 2);
    cr_assert_eq(xb_cli_run("meta " LENET " --set-mean 0.5 -o " LENET), 2);
    snprintf(cmd, sizeof cmd, "meta " LENET " --set-mean 0.1,0.2,0.3 -o %s", tmp("x.onnx"));
    cr_assert_eq(xb_cli_run(cmd), 1);
    cr_assert(strstr(xb_cli_err, "3 values"), "%s", xb_cli_err);
    cr_assert_null(fopen(tmp("x.onnx"), "rb"));
    cr_assert_eq(xb_cli_run("meta " LENET " --set novalue -o /tmp/never.onnx"), 2);
}

/* ---- PNG vs JPEG ------------------------------------------------------------ */

/* Planar RGB -> a baseline JPEG at quality 100 without chroma subsampling
 * (4:4:4): the closest libjpeg gets to lossless. */
static void write_jpeg(const char *path, const uint8_t *px, int h, int w) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    for (int k = 0; k < 3; k++) ci.comp_info[k].h_samp_factor = ci.comp_info[k].v_samp_factor = 1;
    jpeg_start_compress(&ci, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++) row[x * 3 + k] = px[((size_t)k * h + y) * w + x];
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    free(row);
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
}

#define SAMPLE "datasets/samples/cifar10_png"

/* Every sample PNG copied as JPEG into <tmp>/jpg/<class>/; returns the
 * largest pixel difference between the two decodings. */
static int make_jpeg_tree(const char *root) {
    xb_ctx ctx = {0};
    xb_mkdir(root);
    DIR *top = opendir(SAMPLE);
    cr_assert_not_null(top);
    struct dirent *c;
    int worst = 0, files = 0;
    while ((c = readdir(top))) {
        if (c->d_name[0] == '.') continue;
        char sub[512], dst[512];
        snprintf(sub, sizeof sub, SAMPLE "/%s", c->d_name);
        snprintf(dst, sizeof dst, "%s/%s", root, c->d_name);
        xb_mkdir(dst);
        DIR *d = opendir(sub);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char src[1024], out[1024];
            snprintf(src, sizeof src, "%s/%s", sub, e->d_name);
            snprintf(out, sizeof out, "%s/%.*s.jpg", dst, (int)strlen(e->d_name) - 4, e->d_name);
            uint8_t *a, *b;
            int ca, ha, wa, cb, hb, wb;
            cr_assert_eq(xb_png_load(src, &a, &ca, &ha, &wa, &ctx), XB_OK, "%s", ctx.msg);
            cr_assert_eq(ca, 3);
            write_jpeg(out, a, ha, wa);
            cr_assert_eq(xb_image_load(out, ha, wa, NULL, &b, &cb, &hb, &wb, &ctx), XB_OK, "%s",
                         ctx.msg);
            cr_assert(cb == 3 && hb == ha && wb == wa);
            for (size_t i = 0; i < (size_t)3 * ha * wa; i++) {
                int diff = abs((int)a[i] - (int)b[i]);
                if (diff > worst) worst = diff;
            }
            free(a);
            free(b);
            files++;
        }
        closedir(d);
    }
    closedir(top);
    cr_assert_eq(files, 30);
    return worst;
}

/* The predictions columns of a CSV without the file column (paths differ
 * between the trees by folder and extension) and without the last one
 * (float_top5: the order of the unlikely classes may move within the
 * JPEG's loss; top-1 is the claim). */
static void strip_files(char *csv) {
    char *out = csv;
    for (char *line = csv; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
        char *c1 = memchr(line, ',', len), *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - line)) : NULL;
        char *last = c2 ? memrchr(line, ',', len) : NULL;
        if (c1 && c2 && last > c2) {
            size_t head = (size_t)(c1 - line + 1), tail = (size_t)(last - (c2 + 1));
            memmove(out, line, head);
            memmove(out + head, c2 + 1, tail);
            out[head + tail] = '\n';
            out += head + tail + 1;
        } else if (c1 && c2) {
            size_t head = (size_t)(c1 - line + 1), tail = len - (size_t)(c2 + 1 - line);
            memmove(out, line, head);
            memmove(out + head, c2 + 1, tail);
            out += head + tail;
        }
        line += len;
    }
    *out = '\0';
}

Test(byo, png_and_jpeg_give_the_same_predictions, .fini = fini) {
    const char *jpg = tmp("jpg");
    /* Stated tolerance: quality-100 4:4:4 JPEG still rounds the DCT and the
     * colour conversion, so decoded pixels may differ from the PNG's by a
     * few levels; measured 3 on these 30 images (libjpeg-turbo 2.1.5). */
    int worst = make_jpeg_tree(jpg);
    cr_assert(worst <= 4, "JPEG pixels differ by up to %d levels", worst);
    char cmd[1024];
    const char *csv = tmp("p.csv");
    run_pred("models/resnet20_cifar10.onnx --data " SAMPLE " --mode float", csv, pred_a,
             sizeof pred_a);
    snprintf(cmd, sizeof cmd, "models/resnet20_cifar10.onnx --data %s --mode float", jpg);
    run_pred(cmd, csv, pred_b, sizeof pred_b);
    strip_files(pred_a);
    strip_files(pred_b);
    cr_assert_str_eq(pred_a, pred_b);
    /* --resize 32 is the identity on 32x32 images; --resize 40
     * --center-crop 32 goes through both steps and still classifies */
    snprintf(cmd, sizeof cmd, "models/resnet20_cifar10.onnx --data %s --mode float --resize 32", jpg);
    run_pred(cmd, csv, pred_b, sizeof pred_b);
    strip_files(pred_b);
    cr_assert_str_eq(pred_a, pred_b);
    snprintf(cmd, sizeof cmd,
             "run models/resnet20_cifar10.onnx --data %s --mode float --resize 40 --center-crop 32",
             jpg);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
    /* without --center-crop the size is refused from the header */
    snprintf(cmd, sizeof cmd, "run models/resnet20_cifar10.onnx --data %s --mode float --resize 40",
             jpg);
    cr_assert_eq(xb_cli_run(cmd), 1);
    cr_assert(strstr(xb_cli_err, "40x40 after --resize 40"), "%s", xb_cli_err);
}

Test(byo, jpeg_header_checked_before_decoding, .fini = fini) {
    /* a 64x48 JPEG cut after its header: a size mismatch is reported as
     * such (the header was read, no pixel decoded), not as corruption */
    const char *dir = tmp("cut"), *cls = tmp("cut/a"), *f = tmp("cut/a/x.jpg");
    xb_mkdir(dir);
    xb_mkdir(cls);
    uint8_t px[3 * 48 * 64];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    write_jpeg(f, px, 48, 64);
    char buf[1 << 15];
    FILE *fp = fopen(f, "rb");
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    xb_write_bytes(f, buf, n / 2 > 700 ? 700 : n / 2);
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    cr_assert_eq(xb_dataset_open_sized(dir, 32, 32, &d, &ctx), XB_ERR_INVALID, "%s", ctx.msg);
    cr_assert(strstr(ctx.msg, "64x48") && strstr(ctx.msg, "--resize"), "%s", ctx.msg);
    /* At the right size the folder opens (only headers are read at load)
     * and the image reads as corrupt when it is decoded, naming the file. */
    ctx = (xb_ctx){0};
    cr_assert_eq(xb_dataset_open_sized(dir, 48, 64, &d, &ctx), XB_OK, "%s", ctx.msg);
    uint8_t img[3 * 48 * 64];
    cr_assert_null(xb_dataset_pixels(d, 0, img, &ctx));
    cr_assert(strstr(ctx.msg, "corrupt JPEG") && strstr(ctx.msg, "x.jpg"), "%s", ctx.msg);
    xb_dataset_free(d);
}

/* A folder is decoded image by image during the run: a damaged file fails
 * the run (exit 1) with the image index and the file, and no results. */
Test(byo, damaged_image_fails_the_run_naming_it, .fini = fini) {
    const char *dir = tmp("dmg"), *cls = tmp("dmg/a"), *good = tmp("dmg/a/0.jpg"),
               *bad = tmp("dmg/a/1.jpg");
    xb_mkdir(dir);
    xb_mkdir(cls);
    uint8_t px[3 * 32 * 32];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 5);
    write_jpeg(good, px, 32, 32);
    write_jpeg(bad, px, 32, 32);
    char buf[1 << 15];
    FILE *fp = fopen(bad, "rb");
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    xb_write_bytes(bad, buf, n / 2);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "run models/resnet20_cifar10.onnx --data %s --mode float", dir);
    cr_assert_eq(xb_cli_run(cmd), 1, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "image 1 of") && strstr(xb_cli_err, "1.jpg") &&
                  strstr(xb_cli_err, "corrupt JPEG"),
              "%s", xb_cli_err);
    /* the good image alone runs */
    snprintf(cmd, sizeof cmd, "run models/resnet20_cifar10.onnx --data %s --mode float --limit 1",
             dir);
    cr_assert_eq(xb_cli_run(cmd), 0, "%s", xb_cli_err);
}

/* --offset N --limit K evaluates images N..N+K-1: the same predictions as
 * those rows of a run from image 0, indices included. */
Test(byo, offset_window_and_predictions, .fini = fini) {
    const char *csv = tmp("o.csv");
    run_pred(LENET " --data " MNIST " --limit 12 --mode float", csv, pred_a, sizeof pred_a);
    run_pred(LENET " --data " MNIST " --offset 7 --limit 5 --mode float", csv, pred_b,
             sizeof pred_b);
    cr_assert(strstr(xb_cli_out, "evaluating 5 (#7..#11)"), "%s", xb_cli_out);
    /* header + rows 7..11 of the first file */
    char *a = strchr(pred_a, '\n') + 1;
    for (int i = 0; i < 7; i++) a = strchr(a, '\n') + 1;
    char *b = strchr(pred_b, '\n') + 1;
    cr_assert(!strncmp(b, "7,,", 3), "%s", b);
    cr_assert_str_eq(a, b);
    cr_assert_eq(xb_cli_run("run " LENET " --data " MNIST " --offset 1000 --mode float"), 1);
    cr_assert(strstr(xb_cli_err, "--offset 1000") && strstr(xb_cli_err, "1000 images"), "%s",
              xb_cli_err);
}
