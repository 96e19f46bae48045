/* xbar optimize end to end on the shipped LeNet-5 (small and fast: few
 * validation images, one candidate width each).  The validation images
 * here are the bundled PNG sample, which happens to be test images: this
 * test checks the mechanics, not the accuracy claim (docs/REPRODUCTION.md,
 * "LRMP", has that with training images). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/cli_util.h"
#include "tests/test_tmp.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define DATA XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
#define PNGS XBAR_SOURCE_DIR "/datasets/samples/mnist_png"

static void fini(void) { xb_tmp_cleanup(); }

static double totals(const char *json, const char *key) {
    cJSON *j = xb_cli_json(json);
    double v = xb_cli_num(cJSON_GetObjectItem(j, "totals"), key);
    cJSON_Delete(j);
    return v;
}

Test(optimize_cli, writes_an_arch_that_run_and_compile_read, .fini = fini, .timeout = 300) {
    if (access(MODEL, R_OK)) cr_skip_test("no %s", MODEL);
    char args[2048];
    /* the test file has no training split beside it: refused, not used */
    snprintf(args, sizeof args, "optimize '%s' --data '%s' --out '%s'", MODEL, DATA,
             xb_tmp("x.json"));
    cr_assert_eq(xb_cli_run(args), 1, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "no training split"), "%s", xb_cli_err);
    cr_assert_neq(access(xb_tmp("x.json"), F_OK), 0, "nothing written on failure");
    snprintf(args, sizeof args, "optimize '%s' --method nope --val-data '%s' --out '%s'", MODEL,
             PNGS, xb_tmp("x.json"));
    cr_assert_eq(xb_cli_run(args), 2, "%s", xb_cli_err); /* a usage error, before any data */
    cr_assert(strstr(xb_cli_err, "--method nope: unknown"), "%s", xb_cli_err);
    snprintf(args, sizeof args,
             "optimize '%s' --val-data '%s' --val-images 60 --calib 20 --w-choices 4 "
             "--x-choices 4 --max-loss 2 --threads 1 --out '%s'",
             MODEL, PNGS, xb_tmp("tuned.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_err, "optimize: sensitivity 10/10"), "%s", xb_cli_err);
    /* the tuned arch: milp replication in the unreplicated mapping's tiles,
     * a shorter interval, and xbar run evaluates it */
    snprintf(args, sizeof args, "compile '%s' --arch isaac --json '%s'", MODEL, xb_tmp("a.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    snprintf(args, sizeof args, "compile '%s' --arch '%s' --json '%s'", MODEL,
             xb_tmp("tuned.json"), xb_tmp("b.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert_eq(totals(xb_tmp("b.json"), "tiles"), totals(xb_tmp("a.json"), "tiles"));
    cr_assert_lt(totals(xb_tmp("b.json"), "pipeline_interval_ns"),
                 totals(xb_tmp("a.json"), "pipeline_interval_ns") / 8);
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 40 --arch '%s' --threads 1", MODEL,
             DATA, xb_tmp("tuned.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
}
