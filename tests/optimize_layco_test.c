/* xbar optimize --method layco end to end on the bundled LeNet-5 and MNIST
 * sample: the tuned file reads back, stays within the loss budget on the
 * validation images, costs no more than the base, and runs; usage errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/cli_util.h"
#include "tests/test_tmp.h"

static void fini(void) { xb_tmp_cleanup(); }

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define DATA XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

Test(optimize_layco, tunes_and_writes_an_arch, .fini = fini, .timeout = 300) {
    char args[4096], out[256];
    snprintf(out, sizeof out, "%s", xb_tmp("tuned.json"));
    snprintf(args, sizeof args,
             "optimize '%s' --data '%s' --method layco --val-offset 500 --val-limit 120 "
             "--v-min 0.8 --v-step 0.1 --bits-min 6 --max-loss 1 --out '%s'",
             MODEL, DATA, out);
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert(strstr(xb_cli_out, "validation: images 500..619") != NULL, "%s", xb_cli_out);
    long long base, tuned;
    double eb, et;
    const char *b = strstr(xb_cli_out, "base  layco");
    const char *t = strstr(xb_cli_out, "tuned layco-tuned");
    cr_assert(b && t, "%s", xb_cli_out);
    cr_assert_eq(sscanf(b, "base  layco top-1 %*f%% (%lld), %lf pJ", &base, &eb), 2, "%s", b);
    cr_assert_eq(sscanf(t, "tuned layco-tuned top-1 %*f%% (%lld), %lf pJ", &tuned, &et), 2, "%s", t);
    cr_assert_geq(tuned, base - 1, "1 point of 120 images is 1 image"); /* floor(1.2) */
    cr_assert_leq(et, eb);
    /* the file is an arch --arch reads back, and it runs */
    snprintf(args, sizeof args, "run '%s' --data '%s' --limit 20 --arch '%s' --json '%s'", MODEL,
             DATA, out, xb_tmp("r.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cJSON *j = xb_cli_json(xb_tmp("r.json"));
    cJSON *en = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "endurance");
    cr_assert_not_null(en);
    cr_assert_gt(xb_cli_num(en, "lifetime_inferences"), xb_cli_num(en, "lifetime_inferences_no_swap"));
    cJSON_Delete(j);
}

Test(optimize_layco, usage_errors, .fini = fini) {
    cr_assert_eq(xb_cli_run("optimize --help"), 0);
    cr_assert(strstr(xb_cli_out, "usage: xbar optimize") != NULL, "%s", xb_cli_out);
    cr_assert_eq(xb_cli_run("optimize m.onnx --data mnist"), 2); /* no --out */
    cr_assert_eq(xb_cli_run("optimize m.onnx --data mnist --out t.json --method nosuch"), 2);
    cr_assert(strstr(xb_cli_err, "nosuch") != NULL, "%s", xb_cli_err);
    cr_assert_eq(xb_cli_run("optimize m.onnx --data mnist --out t.json --max-loss -1"), 2);
    /* an arch without analog buffers: a job failure naming the cause */
    char args[2048];
    snprintf(args, sizeof args,
             "optimize '%s' --method layco --data '%s' --arch isaac --val-offset 500 "
             "--val-limit 10 --out '%s'",
             MODEL, DATA, xb_tmp("t.json"));
    cr_assert_eq(xb_cli_run(args), 1);
    cr_assert(strstr(xb_cli_err, "buffer.enabled") != NULL, "%s", xb_cli_err);
}
