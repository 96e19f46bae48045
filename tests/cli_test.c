/* The xbar executable end to end: run, info, classify on a small model and
 * dataset written here; JSON field names; exit codes (0 ok, 1 job failed,
 * 2 usage). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/onnx_builder.h"
#include "tests/cli_util.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

/* input [N,1,2,3] -> Flatten -> Gemm: score of class k = pixel k (k < 4).
 * Classes a, b, c, d; no mean/std (defaults). */
static void write_model_sm(const char *path, bool softmax) {
    ob_model m;
    ob_begin(&m, 13);
    int64_t in_dims[4] = {-1, 1, 2, 3};
    ob_input(&m, "input", OB_FLOAT, 4, in_dims);
    float w[4 * 6] = {0}, b[4] = {0};
    for (int k = 0; k < 4; k++) w[k * 6 + k] = 1.0f;
    int64_t wd[2] = {4, 6}, bd[1] = {4};
    ob_init_f32(&m, "W", 2, wd, w);
    ob_init_f32(&m, "B", 1, bd, b);
    const char *fi[] = {"input", NULL}, *fo[] = {"flat", NULL};
    Onnx__NodeProto *f = ob_node(&m, "Flatten", "flatten", fi, fo);
    ob_attr_int(&m, f, "axis", 1);
    const char *gi[] = {"flat", "W", "B", NULL}, *go[] = {softmax ? "scores" : "logits", NULL};
    Onnx__NodeProto *g = ob_node(&m, "Gemm", "fc", gi, go);
    ob_attr_int(&m, g, "transB", 1);
    if (softmax) {
        const char *si[] = {"scores", NULL}, *so[] = {"logits", NULL};
        ob_attr_int(&m, ob_node(&m, "Softmax", "sm", si, so), "axis", 1);
    }
    ob_output(&m, "logits");
    ob_meta(&m, "xbar.classes", "a,b,c,d");
    ob_meta(&m, "xbar.dataset", "tiny");
    size_t len;
    const uint8_t *buf = ob_pack(&m, &len);
    xb_write_bytes(path, buf, len);
    ob_end(&m);
}

static void write_model(const char *path) { write_model_sm(path, false); }

/* 10 images; image i lights pixel i % 4.  Labels agree for images 0..6 and
 * are off by one for 7..9, so top-1 is 7/10 and (4 classes) top-5 10/10. */
static void write_idx(const char *stem) {
    unsigned char img[16 + 60], lab[8 + 10];
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(img, hdr, 16);
    for (int i = 0; i < 10; i++) {
        for (int p = 0; p < 6; p++) img[16 + i * 6 + p] = (unsigned char)(10 * (p + 1));
        img[16 + i * 6 + i % 4] = 250;
        lab[8 + i] = (unsigned char)(i < 7 ? i % 4 : (i + 1) % 4);
    }
    unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, 10};
    memcpy(lab, lh, 8);
    char p[256];
    snprintf(p, sizeof p, "%s-images-idx3-ubyte", stem);
    xb_write_bytes(xb_tmp(p), img, sizeof img);
    snprintf(p, sizeof p, "%s-labels-idx1-ubyte", stem);
    xb_write_bytes(xb_tmp(p), lab, sizeof lab);
}

Test(cli, run_float_json_report, .fini = fini) {
    write_model(xb_tmp("m.onnx"));
    write_idx("d");
    char args[2048];
    snprintf(args, sizeof args, "run '%s' --data '%s' --mode float --json '%s'", xb_tmp("m.onnx"),
             xb_tmp("d-images-idx3-ubyte"), xb_tmp("r.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "70.00%") && strstr(xb_cli_out, "7/10"), "%s", xb_cli_out);
    cr_assert(strstr(xb_cli_out, "fc") && strstr(xb_cli_out, "Gemm"), "per-layer table: %s", xb_cli_out);
    cr_assert(strstr(xb_cli_err, "mean 0, std 1") != NULL, "defaults not announced: %s", xb_cli_err);
    cJSON *j = xb_cli_json(xb_tmp("r.json"));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, xb_tmp("m.onnx"));
    cr_assert_str_eq(cJSON_GetObjectItem(j, "dataset")->valuestring, xb_tmp("d-images-idx3-ubyte"));
    cr_assert_eq(xb_cli_num(j, "images"), 10);
    cJSON *f = cJSON_GetObjectItem(j, "float");
    cr_assert_eq(xb_cli_num(f, "correct"), 7);
    cr_assert_eq(xb_cli_num(f, "total"), 10);
    cr_assert_float_eq(xb_cli_num(f, "accuracy"), 0.7, 1e-12);
    cr_assert_eq(xb_cli_num(f, "top5_correct"), 10);
    cr_assert(xb_cli_num(f, "images_per_s") > 0);
    cr_assert_null(cJSON_GetObjectItem(j, "int8"));
    cJSON_Delete(j);

    snprintf(args, sizeof args, "run '%s' --data='%s' --mode float --limit 3 --json -",
             xb_tmp("m.onnx"), xb_tmp("d-images-idx3-ubyte"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "\"images\":\t3") != NULL, "%s", xb_cli_out);
    /* stdout is exactly the JSON report (the text went to stderr), with provenance */
    cJSON *pj = cJSON_Parse(xb_cli_out);
    cr_assert_not_null(pj, "stdout is not pure JSON: %s", xb_cli_out);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(pj, "provenance")));
    cr_assert(strstr(xb_cli_err, "float ") != NULL, "%s", xb_cli_err);
    cJSON_Delete(pj);
}

Test(cli, run_int8, .fini = fini) {
    write_model(xb_tmp("m.onnx"));
    write_idx("d");
    char args[2048];
    snprintf(args, sizeof args, "run '%s' --data '%s' --calib 4 --limit 6 --json '%s'",
             xb_tmp("m.onnx"), xb_tmp("d-images-idx3-ubyte"), xb_tmp("r.json"));
    int rc = xb_cli_run(args);
    cr_assert_eq(rc, 0, "%s", xb_cli_err);
    cJSON *j = xb_cli_json(xb_tmp("r.json"));
    cJSON *f = cJSON_GetObjectItem(j, "float"), *q = cJSON_GetObjectItem(j, "int8");
    cr_assert_not_null(q);
    /* Scores are single pixels: 8-bit activations represent them exactly
     * enough to keep every decision; 6 images, all labelled right. */
    cr_assert_eq(xb_cli_num(f, "correct"), 6);
    cr_assert_eq(xb_cli_num(q, "correct"), 6);
    cr_assert_eq(xb_cli_num(q, "total"), 6);
    cr_assert_eq(xb_cli_num(q, "calib_images"), 4);
    cr_assert_eq(xb_cli_num(q, "calib_first"), 6); /* after the evaluated images */
    cr_assert(strstr(xb_cli_out, "disjoint") != NULL, "%s", xb_cli_out);
    cJSON_Delete(j);
    /* not enough images after the evaluated ones: the first ones, said so */
    snprintf(args, sizeof args, "run '%s' --data '%s' --calib 4 --json '%s'", xb_tmp("m.onnx"),
             xb_tmp("d-images-idx3-ubyte"), xb_tmp("r.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "overlap") != NULL, "%s", xb_cli_out);
    j = xb_cli_json(xb_tmp("r.json"));
    cr_assert_eq(xb_cli_num(cJSON_GetObjectItem(j, "int8"), "calib_first"), 0);
    cJSON_Delete(j);
    /* a training split beside a t10k file is preferred to overlapping */
    write_idx("t10k");
    write_idx("train");
    snprintf(args, sizeof args, "run '%s' --data '%s' --calib 4 --json '%s'", xb_tmp("m.onnx"),
             xb_tmp("t10k-images-idx3-ubyte"), xb_tmp("r.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "training split") != NULL, "%s", xb_cli_out);
    j = xb_cli_json(xb_tmp("r.json"));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "int8"), "calib_source")->valuestring,
                     xb_tmp("train-images-idx3-ubyte"));
    cJSON_Delete(j);
}

Test(cli, exit_codes, .fini = fini) {
    write_model(xb_tmp("m.onnx"));
    write_idx("d");
    char args[2048];
    cr_assert_eq(xb_cli_run(""), 2);
    cr_assert_eq(xb_cli_run("nosuchcommand"), 2);
    cr_assert_eq(xb_cli_run("--help"), 0);
    const char *cmds[] = {"info", "run", "classify"};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        cr_assert_eq(xb_cli_run(args), 0, "%s --help", cmds[i]);
        cr_assert(strstr(xb_cli_out, "usage: xbar") != NULL, "%s", xb_cli_out);
        snprintf(args, sizeof args, "%s --bogus", cmds[i]);
        cr_assert_eq(xb_cli_run(args), 2, "%s --bogus", cmds[i]);
        cr_assert(strstr(xb_cli_err, "unknown option '--bogus'") != NULL, "%s", xb_cli_err);
    }
    cr_assert_eq(xb_cli_run("run x.onnx --limit 0"), 2);
    cr_assert_eq(xb_cli_run("run x.onnx --mode fast"), 2);
    cr_assert(strstr(xb_cli_err, "float, int8, all") != NULL, "%s", xb_cli_err);
    cr_assert_eq(xb_cli_run("run x.onnx --w-bits 9"), 2);
    cr_assert_eq(xb_cli_run("run x.onnx --data"), 2);
    cr_assert_eq(xb_cli_run("run x.onnx --arch nosuch-arch"), 2);
    cr_assert(strstr(xb_cli_err, "nosuch-arch") != NULL, "bad arch not explained: %s", xb_cli_err);
    cr_assert_eq(xb_cli_run("info"), 2);
    cr_assert_eq(xb_cli_run("classify m.onnx"), 2);
    /* job failures: 1, one "xbar: " line naming the cause */
    snprintf(args, sizeof args, "run '%s' --data '%s'", xb_tmp("m.onnx"), xb_tmp("none.bin"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(!strncmp(xb_cli_err, "xbar: ", 6) && strstr(xb_cli_err, "none.bin"), "%s", xb_cli_err);
    snprintf(args, sizeof args, "run '%s' --data '%s'", xb_tmp("none.onnx"), xb_tmp("d-images-idx3-ubyte"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "xbar: ") && strstr(xb_cli_err, "none.onnx"), "%s", xb_cli_err);
    setenv("XBAR_DATA", xb_tmpdir(), 1);
    snprintf(args, sizeof args, "run '%s' --data mnist", xb_tmp("m.onnx"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "fetch.sh mnist") != NULL, "%s", xb_cli_err);
}

Test(cli, info_lists_layers_and_totals, .fini = fini) {
    write_model(xb_tmp("m.onnx"));
    char args[1024];
    snprintf(args, sizeof args, "info '%s'", xb_tmp("m.onnx"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "[1,1,2,3]") != NULL, "%s", xb_cli_out);
    cr_assert(strstr(xb_cli_out, "6 x 4") != NULL, "K x N: %s", xb_cli_out);
    /* 24 weights + 4 biases, 24 MACs */
    cr_assert(strstr(xb_cli_out, "28 parameters, 24 MACs") != NULL, "%s", xb_cli_out);
    cr_assert(strstr(xb_cli_out, "classes  4: a, b, c, d") != NULL, "%s", xb_cli_out);
}

static void write_rgb_png(const char *path, const unsigned char *planar) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, 3, 2, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, 0, 0);
    png_write_info(png, info);
    unsigned char rows[2][9];
    png_bytep rp[2] = {rows[0], rows[1]};
    for (int p = 0; p < 6; p++)
        for (int c = 0; c < 3; c++) rows[p / 3][(p % 3) * 3 + c] = planar[c * 6 + p];
    png_write_image(png, rp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

Test(cli, classify_png_top_classes, .fini = fini) {
    write_model(xb_tmp("m.onnx"));
    /* An RGB image for a grey model: converted with BT.601 luma.  Pixel 2
     * is bright in all channels, pixel 1 only in green (luma 0.587). */
    unsigned char px[18] = {0};
    px[0 * 6 + 2] = px[1 * 6 + 2] = px[2 * 6 + 2] = 255;
    px[1 * 6 + 1] = 255;
    write_rgb_png(xb_tmp("x.png"), px);
    char args[1024];
    snprintf(args, sizeof args, "classify '%s' '%s'", xb_tmp("m.onnx"), xb_tmp("x.png"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    /* scores: c = 1, b = 0.587, a = d = 0; softmax of those */
    double e1 = exp(1.0), e2 = exp(0.587), z = e1 + e2 + 2;
    char want1[64], want2[64];
    snprintf(want1, sizeof want1, "1. c%*s%7.4f", 16, "", e1 / z);
    snprintf(want2, sizeof want2, "2. b%*s%7.4f", 16, "", e2 / z);
    cr_assert(strstr(xb_cli_out, want1) && strstr(xb_cli_out, want2), "%s\nwant '%s' and '%s'", xb_cli_out,
              want1, want2);
    cr_assert(strstr(xb_cli_out, "4. d") != NULL, "%s", xb_cli_out); /* a before d on ties */
    cr_assert(strstr(xb_cli_out, "5.") == NULL, "only 4 classes: %s", xb_cli_out);
    /* one bad image: others still classified, exit 1 */
    xb_write_bytes(xb_tmp("bad.png"), "nope", 4);
    snprintf(args, sizeof args, "classify '%s' '%s' '%s'", xb_tmp("m.onnx"), xb_tmp("bad.png"),
             xb_tmp("x.png"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "bad.png: not a PNG") != NULL, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "1. c") != NULL, "%s", xb_cli_out);
}

Test(cli, classify_model_ending_in_softmax, .fini = fini) {
    write_model_sm(xb_tmp("s.onnx"), true);
    unsigned char px[18] = {0};
    for (int c = 0; c < 3; c++) px[c * 6 + 3] = 255; /* class d: score 1 */
    write_rgb_png(xb_tmp("y.png"), px);
    char args[1024];
    snprintf(args, sizeof args, "classify '%s' '%s'", xb_tmp("s.onnx"), xb_tmp("y.png"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    /* the model's own softmax, not a second one: e/(e+3) */
    char want[64];
    snprintf(want, sizeof want, "1. d%*s%7.4f", 16, "", exp(1.0) / (exp(1.0) + 3));
    cr_assert(strstr(xb_cli_out, want) != NULL, "%s\nwant '%s'", xb_cli_out, want);
}
