/* xbar compile / run --arch / sweep end to end on the shipped LeNet-5 and
 * the bundled MNIST sample: exit codes, the documented JSON fields, the
 * ideal preset agreeing with int8, CSV and histogram files. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/cli_util.h"
#include "tests/test_tmp.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define DATA XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

static void fini(void) { xb_tmp_cleanup(); }

static int lines(const char *path) {
    static char buf[1 << 20];
    xb_slurp_csv(path, buf, sizeof buf); /* header and rows */
    int n = 0;
    for (char *c = buf; *c; c++) n += *c == '\n';
    return n;
}

Test(backend_cli, compile_writes_mapping_json_and_heatmap, .fini = fini) {
    if (access(MODEL, R_OK)) cr_skip_test("no %s", MODEL);
    char args[2048];
    snprintf(args, sizeof args, "compile '%s' --arch isaac --json '%s' --heatmap '%s'", MODEL,
             xb_tmp("c.json"), xb_tmp("h.png"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cJSON *j = xb_cli_json(xb_tmp("c.json"));
    /* LeNet-5 on 128x128, 4 slices: 1 + 2 + 16 + 3 + 1 crossbars (see
     * the hand-checkable K and N in the table). */
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "layers")), 5);
    cr_assert_eq(xb_cli_num(cJSON_GetObjectItem(j, "totals"), "crossbars"), 23);
    cJSON_Delete(j);
    cr_assert_eq(access(xb_tmp("h.png"), R_OK), 0);
}

Test(backend_cli, run_ideal_matches_int8_and_reports, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[4096];
    snprintf(args, sizeof args,
             "run '%s' --data '%s' --limit 60 --arch ideal --json '%s' --csv '%s' --adc-hist '%s'",
             MODEL, DATA, xb_tmp("r.json"), xb_tmp("r.csv"), xb_tmp("h.csv"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cJSON *j = xb_cli_json(xb_tmp("r.json"));
    const cJSON *q = cJSON_GetObjectItem(j, "int8"), *an = cJSON_GetObjectItem(j, "analog");
    cr_assert_not_null(an);
    cr_assert_eq(xb_cli_num(an, "correct"), xb_cli_num(q, "correct"));
    cr_assert_eq(xb_cli_num(an, "total"), 60);
    const cJSON *layers = cJSON_GetObjectItem(j, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 5);
    const cJSON *l0 = cJSON_GetArrayItem(layers, 0);
    const char *lk[] = {"crossbars", "macs", "adc_conversions", "conversions_per_mac",
                        "saturation_rate"};
    for (int i = 0; i < 5; i++) (void)xb_cli_num(l0, lk[i]);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItem(l0, "energy_pj")));
    cr_assert_eq(xb_cli_num(l0, "saturation_rate"), 0); /* lossless */
    const cJSON *t = cJSON_GetObjectItem(j, "totals");
    const char *tk[] = {"energy_pj_per_inference", "adc_energy_share", "conversions_per_mac",
                        "latency_ns"};
    for (int i = 0; i < 4; i++) cr_assert_gt(xb_cli_num(t, tk[i]), 0);
    cJSON_Delete(j);
    cr_assert_eq(lines(xb_tmp("r.csv")), 6); /* header + 5 layers */
    cr_assert_gt(lines(xb_tmp("h.csv")), 5);
}

Test(backend_cli, bad_arch_is_a_usage_error, .fini = fini) {
    if (access(MODEL, R_OK)) cr_skip_test("no %s", MODEL);
    char args[2048];
    snprintf(args, sizeof args, "compile '%s' --arch isaac --set adc.bitz=3", MODEL);
    cr_assert_eq(xb_cli_run(args), 2);
    cr_assert(strstr(xb_cli_err, "adc.bitz"), "%s", xb_cli_err);
    snprintf(args, sizeof args, "compile '%s' --arch isaac --set crossbar.rows=-4", MODEL);
    cr_assert_eq(xb_cli_run(args), 2);
    cr_assert(strstr(xb_cli_err, "crossbar.rows"), "%s", xb_cli_err);
}

Test(backend_cli, sweep_writes_one_row_per_configuration, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    char args[4096];
    snprintf(args, sizeof args,
             "sweep '%s' --data '%s' --limit 20 --arch isaac --vary adc.bits=7:8 "
             "--vary encoding=offset,differential --csv '%s'",
             MODEL, DATA, xb_tmp("s.csv"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cr_assert_eq(lines(xb_tmp("s.csv")), 5);
    snprintf(args, sizeof args, "sweep '%s' --data '%s' --vary adc.bits=9:4:1", MODEL, DATA);
    cr_assert_eq(xb_cli_run(args), 2);
}

/* Lossy and noisy analog runs give the same answers and statistics with 1
 * and 2 threads (counter-based noise, per-image keys, integer merges). */
Test(backend_cli, analog_results_do_not_depend_on_threads, .fini = fini) {
    if (access(MODEL, R_OK) || access(DATA, R_OK)) cr_skip_test("no model or sample data");
    double res[2][4];
    for (int t = 0; t < 2; t++) {
        char args[4096];
        snprintf(args, sizeof args,
                 "run '%s' --data '%s' --limit 40 --mode analog --arch isaac --set adc.bits=5 "
                 "--set nonideal.read_sigma=0.7 --set nonideal.programming_sigma=0.05 "
                 "--profile-images 7 --threads %d --json '%s'",
                 MODEL, DATA, t + 1, xb_tmp("t.json"));
        cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
        cJSON *j = xb_cli_json(xb_tmp("t.json"));
        const cJSON *l1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "layers"), 1);
        res[t][0] = xb_cli_num(cJSON_GetObjectItem(j, "analog"), "correct");
        res[t][1] = xb_cli_num(cJSON_GetObjectItem(j, "totals"), "saturation_rate");
        res[t][2] = xb_cli_num(l1, "zero_share");
        res[t][3] = xb_cli_num(l1, "max_value");
        cJSON_Delete(j);
    }
    for (int k = 0; k < 4; k++) cr_assert_eq(res[0][k], res[1][k], "field %d", k);
}

/* --arch-out writes the effective architecture (preset + --set), and that
 * file as --arch reproduces the same mapping and cost, replication included. */
Test(backend_cli, arch_out_round_trips, .fini = fini) {
    if (access(MODEL, R_OK)) cr_skip_test("no %s", MODEL);
    char args[2048];
    snprintf(args, sizeof args,
             "compile '%s' --arch isaac --set mapping.replication=balance --set "
             "mapping.budget_tiles=2 --set flip=true --set adc.layer_bits=0=6 --arch-out '%s' "
             "--json '%s'",
             MODEL, xb_tmp("eff.json"), xb_tmp("a.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    snprintf(args, sizeof args, "compile '%s' --arch '%s' --json '%s'", MODEL, xb_tmp("eff.json"),
             xb_tmp("b.json"));
    cr_assert_eq(xb_cli_run(args), 0, "%s", xb_cli_err);
    cJSON *a = xb_cli_json(xb_tmp("a.json")), *b = xb_cli_json(xb_tmp("b.json"));
    const cJSON *ta = cJSON_GetObjectItem(a, "totals"), *tb = cJSON_GetObjectItem(b, "totals");
    static const char *keys[] = {"crossbars", "tiles", "energy_pj_per_inference",
                                 "pipeline_interval_ns"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(xb_cli_num(ta, keys[i]), xb_cli_num(tb, keys[i]), "%s", keys[i]);
    cr_assert_leq(xb_cli_num(ta, "tiles"), 2);
    cr_assert_gt(xb_cli_num(ta, "crossbars"), 23, "replication added copies");
    cJSON_Delete(a);
    cJSON_Delete(b);
    snprintf(args, sizeof args, "compile '%s' --arch-out /nonexistent/dir/x.json", MODEL);
    cr_assert_neq(xb_cli_run(args), 0);
    cr_assert(strstr(xb_cli_err, "/nonexistent/dir/x.json"), "%s", xb_cli_err);
}
