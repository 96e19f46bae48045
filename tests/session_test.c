/* One pipeline (eval/session.h): the calibration-image policy, and xbar run
 * and xbar sweep agreeing on the same model, data, --limit and --set:
 * same calibration images, same int8 and analog accuracy, same energy and
 * ADC saturation, including when the calibration images come from the
 * training split beside the data.
 *
 * Data: a temporary folder with the first TEST images of the bundled MNIST
 * sample as t10k-*-ubyte and, in the cases that want one, a training split
 * made of the other sample images in reverse order (so calibrating on it
 * differs from calibrating on the test images). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "eval/session.h"
#include "tests/cli_util.h"
#include "tests/test_tmp.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define SAMPLE XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
#define TEST 300

static void fini(void) { xb_tmp_cleanup(); }

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* IDX images + labels of sample images idx[0..n-1] into dir/<prefix>-*. */
static void write_idx(const xb_dataset *d, const char dir[1024], const char *prefix, const int64_t *idx,
                      int64_t n) {
    size_t per = (size_t)d->h * (size_t)d->w;
    uint8_t *img = malloc(16 + (size_t)n * per), *lab = malloc(8 + (size_t)n);
    cr_assert(img && lab);
    be32(img, 0x803);
    be32(img + 4, (uint32_t)n);
    be32(img + 8, (uint32_t)d->h);
    be32(img + 12, (uint32_t)d->w);
    be32(lab, 0x801);
    be32(lab + 4, (uint32_t)n);
    for (int64_t i = 0; i < n; i++) {
        xb_ctx pc = {0};
        const uint8_t *im = xb_dataset_pixels(d, idx[i], img + 16 + (size_t)i * per, &pc);
        cr_assert_not_null(im, "%s", pc.msg);
        if (im != img + 16 + (size_t)i * per) memcpy(img + 16 + (size_t)i * per, im, per);
        lab[8 + i] = (uint8_t)d->labels[idx[i]];
    }
    char p[2048];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", dir, prefix);
    xb_write_bytes(p, img, 16 + (size_t)n * per);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte", dir, prefix);
    xb_write_bytes(p, lab, 8 + (size_t)n);
    free(img);
    free(lab);
}

/* dir/t10k-images-idx3-ubyte (sample #0..#TEST-1), plus a training split
 * (sample #999..#TEST, reversed) when `train`; returns the test file. */
static const char *make_data(const char *name, bool train) {
    static char path[2048];
    xb_ctx ctx = {0};
    xb_dataset *d = NULL;
    cr_assert_eq(xb_dataset_load_idx(SAMPLE, &d, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_gt(d->n, TEST);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", xb_tmp(name));
    xb_mkdir(dir);
    int64_t *idx = malloc((size_t)d->n * sizeof *idx);
    cr_assert(idx);
    for (int64_t i = 0; i < TEST; i++) idx[i] = i;
    write_idx(d, dir, "t10k", idx, TEST);
    for (int64_t i = 0; i < d->n - TEST; i++) idx[i] = d->n - 1 - i;
    if (train) write_idx(d, dir, "train", idx, d->n - TEST);
    free(idx);
    xb_dataset_free(d);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    return path;
}

/* The one CSV data row of a sweep with one configuration, as fields. */
static int csv_row(char *buf, char **field, int max) {
    char *row = strchr(buf, '\n');
    cr_assert_not_null(row, "no CSV header: %s", buf);
    row++;
    char *end = strchr(row, '\n');
    cr_assert_not_null(end, "no CSV row: %s", buf);
    *end = '\0';
    cr_assert_null(strchr(end + 1, '\n'), "more than one CSV row");
    int n = 0;
    for (char *t = strtok(row, ","); t && n < max; t = strtok(NULL, ",")) field[n++] = t;
    return n;
}

static int column(const char *header, const char *name) {
    char h[2048];
    snprintf(h, sizeof h, "%.*s", (int)strcspn(header, "\n"), header);
    int i = 0;
    for (char *t = strtok(h, ","); t; t = strtok(NULL, ","), i++)
        if (!strcmp(t, name)) return i;
    cr_assert_fail("no CSV column %s", name);
    return -1;
}

/* xbar run --json and xbar sweep --csv on the same arguments; expect_source
 * is the end of the calibration file's path. */
static void run_vs_sweep(const char *data, int limit, const char *expect_source) {
    static const char *sets = "--arch isaac --set adc.bits=6 --set adc.range=calibrated";
    char args[8192], header[4096], csv[8192], *f[64];
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit %d --calib 50 %s --json '%s'", MODEL,
             data, limit, sets, xb_tmp("r.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    snprintf(args, sizeof args,
             "sweep '%s' --data '%s' --limit %d --calib 50 %s --vary adc.bits=6 --csv '%s'", MODEL,
             data, limit, sets, xb_tmp("s.csv"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert_not_null(strstr(xb_cli_err, expect_source), "sweep calibration: %s", xb_cli_err);
    xb_slurp_csv(xb_tmp("s.csv"), header, sizeof header);
    xb_slurp_csv(xb_tmp("s.csv"), csv, sizeof csv);
    int nf = csv_row(csv, f, 64);
    cJSON *j = xb_cli_json(xb_tmp("r.json"));
    const cJSON *q = cJSON_GetObjectItem(j, "int8"), *an = cJSON_GetObjectItem(j, "analog"),
                *t = cJSON_GetObjectItem(j, "totals");
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(q, "calib_source"));
    cr_assert(src && strlen(src) >= strlen(expect_source) &&
                  !strcmp(src + strlen(src) - strlen(expect_source), expect_source),
              "run calibration source %s", src ? src : "(none)");
    struct {
        const char *col;
        double run;
    } cmp[] = {
        {"images", xb_cli_num(an, "total")},
        {"analog_correct", xb_cli_num(an, "correct")},
        {"analog_accuracy", xb_cli_num(an, "accuracy")},
        {"int8_accuracy", xb_cli_num(q, "accuracy")},
        {"energy_pj_per_inference", xb_cli_num(t, "energy_pj_per_inference")},
        {"saturation_rate", xb_cli_num(t, "saturation_rate")},
        {"adc_conversions", xb_cli_num(t, "adc_conversions")},
    };
    for (size_t i = 0; i < sizeof cmp / sizeof cmp[0]; i++) {
        int c = column(header, cmp[i].col);
        cr_assert_lt(c, nf);
        double sw = strtod(f[c], NULL);
        /* the CSV has 6 decimals or 6 significant digits */
        double tol = strchr(f[c], 'e') || sw >= 1e6 ? 1e-5 * sw : 5e-7 + 1e-6 * sw;
        cr_assert(cmp[i].run - sw <= tol && sw - cmp[i].run <= tol, "%s: run %.10g, sweep %s",
                  cmp[i].col, cmp[i].run, f[c]);
    }
    cr_assert_eq(xb_cli_num(an, "total"), limit);
    cJSON_Delete(j);
}

/* --limit = the whole test set: no images after the evaluated ones, so both
 * calibrate on the training split beside the data. */
Test(session, run_and_sweep_agree_on_the_training_split, .fini = fini, .timeout = 120) {
    if (access(MODEL, R_OK) || access(SAMPLE, R_OK)) cr_skip_test("no model or sample data");
    run_vs_sweep(make_data("with_train", true), TEST, "/train-images-idx3-ubyte");
}

/* Room after the evaluated images: both take the 50 right after them. */
Test(session, run_and_sweep_agree_after_the_evaluated_images, .fini = fini, .timeout = 120) {
    if (access(MODEL, R_OK) || access(SAMPLE, R_OK)) cr_skip_test("no model or sample data");
    run_vs_sweep(make_data("with_train", true), TEST - 50, "/t10k-images-idx3-ubyte");
}

/* The policy, through the API: after the evaluated ones, else the training
 * split, else the first images of the data. */
Test(session, calibration_policy, .fini = fini) {
    if (access(MODEL, R_OK) || access(SAMPLE, R_OK)) cr_skip_test("no model or sample data");
    const char *with = make_data("with_train", true);
    char with_train[4096];
    snprintf(with_train, sizeof with_train, "%s", with);
    const char *without = make_data("without_train", false);
    struct {
        const char *data;
        int64_t limit, first, n;
        const char *source_end;
    } cases[] = {
        {with_train, 100, 100, 50, "t10k-images-idx3-ubyte"},
        {with_train, TEST - 49, 0, 50, "train-images-idx3-ubyte"},
        {without, TEST, 0, 50, "t10k-images-idx3-ubyte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xb_ctx ctx = {0};
        xb_session *s = NULL;
        cr_assert_eq(xb_session_open(MODEL, NULL, &s, &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_eq(xb_session_open_data(s, cases[i].data, cases[i].limit, &ctx), XB_OK, "%s",
                     ctx.msg);
        cr_assert_eq(xb_session_count(s), cases[i].limit);
        cr_assert_null(xb_session_calibration(s));
        cr_assert_eq(xb_session_choose_calibration(s, 50, &ctx), XB_OK, "%s", ctx.msg);
        const xb_session_calib *c = xb_session_calibration(s);
        cr_assert_eq(c->first, cases[i].first, "case %zu", i);
        cr_assert_eq(c->n, cases[i].n, "case %zu", i);
        const char *e = cases[i].source_end;
        cr_assert(!strcmp(c->source + strlen(c->source) - strlen(e), e), "case %zu: %s", i,
                  c->source);
        xb_session_free(s);
    }
}
