/* Collapse diagnosis (eval/diagnose.c): the image-major layer pass (a delta
 * run per layer made exact, runtime/exec.h) gives the same report as the
 * reference path (one dataset run per layer), for any thread count. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "eval/diagnose.h"
#include "eval/session.h"
#include "frontend/quantize.h"
#include "runtime/exec.h"

#define SRC XBAR_SOURCE_DIR

/* A session that has run int8 and analog on `limit` images of `data`. */
static xb_session *analog_session(const char *model, const char *data, int64_t limit,
                                  const char *const *sets, int n_sets) {
    xb_ctx ctx = {0};
    xb_session *s = NULL;
    cr_assert_eq(xb_session_open(model, NULL, &s, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_open_data(s, data, limit, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_choose_calibration(s, 20, &ctx), XB_OK, "%s", ctx.msg);
    xb_quant_opts qo = xb_quant_opts_default();
    cr_assert_eq(xb_session_quantize(s, &qo, &ctx), XB_OK, "%s", ctx.msg);
    xb_arch a;
    cr_assert_eq(xb_arch_load(&a, "isaac", &ctx), XB_OK, "%s", ctx.msg);
    for (int i = 0; i < n_sets; i++)
        cr_assert_eq(xb_arch_set(&a, sets[i], &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_build_backend(s, &a, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_run_int8(s, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_session_run_analog(s, &ctx), XB_OK, "%s", ctx.msg);
    return s;
}

/* The report without its timing, as text. */
static char *diagnose_text(xb_session *s, int64_t images, bool suggest, bool per_run, int threads) {
    xb_ctx ctx = {0};
    xb_diag_opts o = xb_diag_opts_default();
    o.threshold = -100; /* always triggers: the layer rows are what is compared */
    o.images = images;
    o.suggest = suggest;
    o.per_run = per_run;
    o.threads = threads;
    cJSON *d = xb_diagnose(s, &o, &ctx);
    cr_assert_not_null(d, "%s", ctx.msg);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "triggered")));
    /* the path asked for is the one that ran (no silent fallback to the
     * reference, which would compare it with itself) */
    cr_assert_str_eq(cJSON_GetObjectItem(d, "layer_pass")->valuestring,
                     per_run ? "per_run" : "delta");
    cJSON_DeleteItemFromObject(d, "layer_pass");
    cJSON_DeleteItemFromObject(d, "seconds");
    char *txt = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return txt;
}

/* Both paths and thread counts agree; returns how many layers recover a
 * different accuracy than the analog baseline (so the comparison is not
 * between constant rows). */
static int same_report(xb_session *s, int64_t images, bool suggest) {
    char *ref = diagnose_text(s, images, suggest, true, 1);
    char *runs[3] = {diagnose_text(s, images, suggest, false, 1),
                     diagnose_text(s, images, suggest, false, 2),
                     diagnose_text(s, images, suggest, true, 2)};
    for (int k = 0; k < 3; k++) {
        cr_assert_str_eq(runs[k], ref, "case %d", k);
        free(runs[k]);
    }
    cJSON *d = cJSON_Parse(ref);
    free(ref);
    double base = cJSON_GetObjectItem(d, "analog_subset")->valuedouble;
    int moved = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(d, "layers"))
        moved += cJSON_GetObjectItem(l, "accuracy_exact")->valuedouble != base;
    cJSON_Delete(d);
    return moved;
}

/* LeNet-5 with a 4-bit ADC on `limit` images of the MNIST sample. */
static xb_session *lenet_4bit(int64_t limit) {
    const char *sets[] = {"adc.bits=4"};
    return analog_session(SRC "/models/lenet5_mnist.onnx",
                          SRC "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz", limit, sets, 1);
}

Test(diagnose, image_major_matches_per_run_lenet, .timeout = 120) {
    xb_session *s = lenet_4bit(200);
    int moved = same_report(s, 60, true);
    cr_assert_gt(moved, 0, "no layer changes the accuracy when made exact");
    xb_session_free(s);
}

/* Residual blocks: a layer's change reaches the add through one branch
 * while the shortcut still reads the baseline's value. */
Test(diagnose, image_major_matches_per_run_resnet, .timeout = 240) {
    const char *sets[] = {"adc.bits=6"};
    xb_session *s = analog_session(SRC "/models/resnet20_cifar10.onnx",
                                   SRC "/datasets/samples/cifar10/test_batch.bin", 60, sets, 1);
    int moved = same_report(s, 24, false);
    cr_assert_gt(moved, 0, "no layer changes the accuracy when made exact");
    xb_session_free(s);
}

/* The diagnosis's delta runs keep every activation of two execs per
 * thread: when --max-memory leaves no room for them, it takes the per-layer
 * runs (which the session's budget covers) and reports the same rows. */
static bool delta_under(xb_session *s, uint64_t room, char **rows) {
    xb_session_opts so = {.profile_images = 16, .threads = 1, .max_memory = (uint64_t)1 << 50};
    xb_session_set_opts(s, &so);
    const uint64_t held = so.max_memory - xb_session_mem_left(s);
    so.max_memory = held + room;
    xb_session_set_opts(s, &so);
    cr_assert_eq(xb_session_mem_left(s), room);
    xb_ctx ctx = {0};
    xb_diag_opts o = xb_diag_opts_default();
    o.threshold = -100;
    o.images = 40;
    o.suggest = false;
    o.threads = 1;
    cJSON *d = xb_diagnose(s, &o, &ctx);
    cr_assert_not_null(d, "%s", ctx.msg);
    const bool delta = !strcmp(cJSON_GetObjectItem(d, "layer_pass")->valuestring, "delta");
    cJSON_DeleteItemFromObject(d, "layer_pass");
    cJSON_DeleteItemFromObject(d, "seconds");
    *rows = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return delta;
}

Test(diagnose, delta_runs_only_within_max_memory, .timeout = 120) {
    xb_session *s = lenet_4bit(100);
    size_t keep = 0;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_exec_plan_bytes_keep(xb_session_int8_graph(s), &keep, &ctx), XB_OK);
    char *wide = NULL, *tight = NULL;
    cr_assert(delta_under(s, 2 * (uint64_t)keep, &wide));
    cr_assert(!delta_under(s, 2 * (uint64_t)keep - 1, &tight));
    cr_assert_str_eq(tight, wide);
    free(wide), free(tight);
    xb_session_free(s);
}
