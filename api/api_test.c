/* The public C API (include/xbar.h): order of calls and error messages,
 * in-memory images equal to the same images from a file, results,
 * layers, cost and JSON agreeing with each other, compile, struct size
 * handling, and one handle used from several threads at once. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/dataset.h"
#include "include/xbar.h"

#define MODEL XBAR_SOURCE_DIR "/models/lenet5_mnist.onnx"
#define SAMPLE XBAR_SOURCE_DIR "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"

static xbar *open_lenet(int64_t limit) {
    xbar *h = xbar_new();
    cr_assert(h);
    cr_assert_eq(xbar_set_threads(h, 2), XBAR_OK);
    cr_assert_eq(xbar_open_model(h, MODEL), XBAR_OK, "%s", xbar_last_error(h));
    cr_assert_eq(xbar_open_data(h, SAMPLE, limit), XBAR_OK, "%s", xbar_last_error(h));
    return h;
}

Test(api, version_and_status) {
    cr_assert_str_eq(xbar_version(), XBAR_VERSION);
    cr_assert_eq(xbar_version_number(), XBAR_VERSION_NUMBER);
    cr_assert_str_eq(xbar_status_name(XBAR_ERR_IO), "io");
    cr_assert_str_eq(xbar_status_name((xbar_status)99), "unknown");
    cr_assert_eq(xbar_run(NULL, XBAR_ALL), XBAR_ERR_INVALID);
    cr_assert_neq(strlen(xbar_last_error(NULL)), 0);
    xbar_close(NULL);
}

Test(api, errors_name_the_cause) {
    xbar *h = xbar_new();
    cr_assert_eq(xbar_run(h, XBAR_ALL), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "xbar_open_model"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_open_data(h, SAMPLE, 0), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_open_model(h, "/nonexistent/m.onnx"), XBAR_ERR_IO);
    cr_assert(strstr(xbar_last_error(h), "/nonexistent/m.onnx"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_open_model(h, MODEL), XBAR_OK);
    cr_assert_str_eq(xbar_last_error(h), "");
    cr_assert_eq(xbar_open_model(h, MODEL), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_run(h, XBAR_FLOAT), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "data"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_arch(h, "no-such-preset"), XBAR_ERR_IO);
    cr_assert_eq(xbar_set(h, "adc.bits=many"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "adc.bits"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set(h, "adc.bits=6"), XBAR_OK);
    cr_assert_str_eq(xbar_get(h, "adc.bits"), "6");
    cr_assert_null(xbar_get(h, "no.such.key"));
    cr_assert_eq(xbar_set_quantization(h, 9, 0, 100, NULL, 0), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_set_quantization(h, 0, 0, 100, "median", 0), XBAR_ERR_INVALID);
    uint8_t px[2 * 28 * 28] = {0};
    int32_t bad[2] = {0, -1}, big[2] = {0, 10};
    cr_assert_eq(xbar_open_images_u8(h, px, bad, 2, 1, 28, 28, 0), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_open_images_u8(h, px, big, 2, 1, 28, 28, 0), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_open_images_u8(h, px, bad, 1, 1, 20, 20, 0), XBAR_ERR_INVALID);
    float fx[28 * 28] = {2.0f};
    cr_assert_eq(xbar_open_images_f32(h, fx, bad, 1, 1, 28, 28, 0), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "[0, 1]"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_open_data(h, SAMPLE, 10), XBAR_OK, "%s", xbar_last_error(h));
    cr_assert_eq(xbar_open_data(h, SAMPLE, 10), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_run(h, 8), XBAR_ERR_INVALID);
    cr_assert_null(xbar_report_json(h));
    cr_assert_eq(xbar_layer_count(h), 0);
    xbar_layer l;
    cr_assert_eq(xbar_get_layer(h, 0, &l, sizeof l), XBAR_ERR_INVALID);
    xbar_close(h);
}

/* The same images from memory (u8 and f32) and from the file. */
Test(api, images_from_memory_equal_the_file) {
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(SAMPLE, &d, &ctx), XB_OK);
    int64_t n = 300;
    size_t per = 28 * 28;
    float *f = malloc(n * per * sizeof *f);
    for (size_t i = 0; i < n * per; i++) f[i] = (float)d->images[i] / 255.0f;
    xbar *a = open_lenet(120), *b = xbar_new(), *c = xbar_new();
    cr_assert_eq(xbar_open_model(b, MODEL), XBAR_OK);
    cr_assert_eq(xbar_open_model(c, MODEL), XBAR_OK);
    cr_assert_eq(xbar_open_images_u8(b, d->images, d->labels, n, 1, 28, 28, 120), XBAR_OK,
                 "%s", xbar_last_error(b));
    cr_assert_eq(xbar_open_images_f32(c, f, d->labels, n, 1, 28, 28, 120), XBAR_OK,
                 "%s", xbar_last_error(c));
    xbar *hs[3] = {a, b, c};
    xbar_result r[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(xbar_set(hs[i], "adc.bits=4"), XBAR_OK);
        cr_assert_eq(xbar_run(hs[i], XBAR_INT8 | XBAR_ANALOG), XBAR_OK, "%s", xbar_last_error(hs[i]));
        cr_assert_eq(xbar_get_result(hs[i], XBAR_ANALOG, &r[i], sizeof r[i]), XBAR_OK);
    }
    cr_assert_eq(r[0].images, 120);
    cr_assert_eq(r[0].correct, r[1].correct);
    cr_assert_eq(r[0].correct, r[2].correct);
    xbar_result fl;
    cr_assert_eq(xbar_get_result(a, XBAR_FLOAT, &fl, sizeof fl), XBAR_OK);
    cr_assert_eq(fl.ran, 0);
    for (int i = 0; i < 3; i++) xbar_close(hs[i]);
    free(f);
    xb_dataset_free(d);
}

/* Layers, cost and JSON describe the same run; a short struct is filled
 * up to its size only. */
Test(api, results_agree) {
    xbar *h = open_lenet(100);
    cr_assert_eq(xbar_set_arch(h, "isaac"), XBAR_OK);
    cr_assert_eq(xbar_run(h, XBAR_ALL), XBAR_OK, "%s", xbar_last_error(h));
    xbar_cost c;
    cr_assert_eq(xbar_get_cost(h, &c, sizeof c), XBAR_OK);
    int n = xbar_layer_count(h);
    cr_assert_eq(n, 5);
    double sum = 0, by = 0;
    for (int i = 0; i < n; i++) {
        xbar_layer l;
        cr_assert_eq(xbar_get_layer(h, i, &l, sizeof l), XBAR_OK);
        cr_assert(l.has_adc_stats && l.adc_conversions > 0 && l.name[0]);
        sum += l.energy_pj_total;
    }
    for (int k = 0; k < xbar_energy_count(); k++) by += c.energy_by[k];
    cr_assert_null(xbar_energy_name(xbar_energy_count()));
    cr_assert_float_eq(sum, c.energy_pj, 1e-6 * c.energy_pj);
    cr_assert_float_eq(by, c.energy_pj, 1e-6 * c.energy_pj);
    cJSON *j = cJSON_Parse(xbar_report_json(h));
    cr_assert(j);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "layers")), n);
    cJSON *t = cJSON_GetObjectItem(j, "totals");
    cr_assert_float_eq(cJSON_GetObjectItem(t, "energy_pj_per_inference")->valuedouble, c.energy_pj,
                       1e-9 * c.energy_pj);
    xbar_result r;
    cr_assert_eq(xbar_get_result(h, XBAR_ANALOG, &r, sizeof r), XBAR_OK);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "analog"), "correct")->valueint, r.correct);
    cJSON_Delete(j);
    xbar_result small = {0};
    small.seconds = -1;
    cr_assert_eq(xbar_get_result(h, XBAR_ANALOG, &small, offsetof(xbar_result, images)), XBAR_OK);
    cr_assert_eq(small.ran, 1);
    cr_assert_eq(small.images, 0);
    cr_assert_eq(small.seconds, -1);
    /* compile replaces the run's mapping with the analytic one */
    cr_assert_eq(xbar_compile(h), XBAR_OK);
    xbar_layer l;
    cr_assert_eq(xbar_get_layer(h, 0, &l, sizeof l), XBAR_OK);
    cr_assert_eq(l.has_adc_stats, 0);
    j = cJSON_Parse(xbar_report_json(h));
    cr_assert(cJSON_GetObjectItem(j, "cost_totals"));
    cJSON_Delete(j);
    xbar_close(h);
}

static void *hammer(void *arg) {
    xbar *h = arg;
    for (int i = 0; i < 3; i++) {
        char set[32];
        snprintf(set, sizeof set, "adc.bits=%d", 5 + i);
        if (xbar_set(h, set) != XBAR_OK || xbar_run(h, XBAR_ANALOG) != XBAR_OK) return (void *)1;
        xbar_cost c;
        if (xbar_get_cost(h, &c, sizeof c) != XBAR_OK || !xbar_report_json(h)) return (void *)1;
    }
    return NULL;
}

Test(api, one_handle_from_two_threads) {
    xbar *h = open_lenet(40);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, hammer, h);
    for (int i = 0; i < 2; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        cr_assert_null(rv, "%s", xbar_last_error(h));
    }
    xbar_close(h);
}

/* xbar_set_option: each option before the step that reads it, else a
 * message naming that step; bad keys and values fail and name the key. */
Test(api, options_are_read_by_their_step) {
    xbar *h = xbar_new();
    cr_assert_eq(xbar_set_option(h, "mean=0.1307"), XBAR_OK, "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "offset=2"), XBAR_OK);
    cr_assert_eq(xbar_set_option(h, "no_such=1"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "profile_images"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "adc.bits=6"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "xbar_set"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "offset"), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_set_option(h, "offset=-1"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "--offset"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "layout=nwhc"), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_set_option(h, "max_memory=12"), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_set_option(h, "max_memory=64M"), XBAR_OK);
    cr_assert_eq(xbar_set_option(h, NULL), XBAR_ERR_INVALID);
    cr_assert_eq(xbar_open_model(h, MODEL), XBAR_OK, "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "std=0.3081"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "before xbar_open_model"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "offset=3"), XBAR_OK);
    cr_assert_eq(xbar_open_data(h, SAMPLE, 10), XBAR_OK, "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "offset=4"), XBAR_ERR_INVALID);
    cr_assert(strstr(xbar_last_error(h), "before xbar_open_data"), "%s", xbar_last_error(h));
    cr_assert_eq(xbar_set_option(h, "profile_images=4"), XBAR_OK);
    xbar_close(h);
}

/* The options reach the run: an offset window gives the results of the
 * same images given from memory, preprocessing equal to the model's metadata changes
 * nothing while another mean and std does, and the profile images are the
 * images whose statistics are recorded (none: no histogram). */
Test(api, options_change_the_run) {
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(SAMPLE, &d, &ctx), XB_OK);
    xbar *a = xbar_new(), *b = xbar_new();
    cr_assert_eq(xbar_set_option(a, "offset=37"), XBAR_OK);
    cr_assert_eq(xbar_open_model(a, MODEL), XBAR_OK);
    cr_assert_eq(xbar_open_data(a, SAMPLE, 60), XBAR_OK, "%s", xbar_last_error(a));
    cr_assert_eq(xbar_open_model(b, MODEL), XBAR_OK);
    cr_assert_eq(xbar_open_images_u8(b, d->images + 37 * 28 * 28, d->labels + 37, 60, 1, 28, 28, 0),
                 XBAR_OK, "%s", xbar_last_error(b));
    xbar_result ra, rb;
    for (int i = 0; i < 2; i++) {
        xbar *h = i ? b : a;
        cr_assert_eq(xbar_set(h, "adc.bits=4"), XBAR_OK);
        cr_assert_eq(xbar_run(h, XBAR_INT8 | XBAR_ANALOG), XBAR_OK, "%s", xbar_last_error(h));
    }
    cr_assert_eq(xbar_get_result(a, XBAR_ANALOG, &ra, sizeof ra), XBAR_OK);
    cr_assert_eq(xbar_get_result(b, XBAR_ANALOG, &rb, sizeof rb), XBAR_OK);
    cr_assert_eq(ra.images, 60);
    cr_assert_eq(ra.correct, rb.correct);
    /* The profile images are the first 16 of the evaluated window (a's
     * #37..#52): the same pixels as b's first 16, so the same statistics. */
    xbar_layer la, lb;
    cr_assert_eq(xbar_get_layer(a, 0, &la, sizeof la), XBAR_OK);
    cr_assert_eq(xbar_get_layer(b, 0, &lb, sizeof lb), XBAR_OK);
    cr_assert_gt(lb.observed_conversions, 0);
    cr_assert_eq(la.observed_conversions, lb.observed_conversions);
    cr_assert_eq(la.zero_share, lb.zero_share);
    cr_assert_eq(la.max_value, lb.max_value);
    xbar_close(a);
    xbar_close(b);

    const char *pre[4][2] = {{NULL, NULL}, {"mean=0.1307", "std=0.3081"},
                             {"mean=0.5", "std=0.3081"}, {"mean=0.1307", "std=5"}};
    int64_t correct[4];
    for (int i = 0; i < 4; i++) {
        xbar *h = xbar_new();
        if (pre[i][0]) {
            cr_assert_eq(xbar_set_option(h, pre[i][0]), XBAR_OK);
            cr_assert_eq(xbar_set_option(h, pre[i][1]), XBAR_OK);
        }
        cr_assert_eq(xbar_open_model(h, MODEL), XBAR_OK);
        cr_assert_eq(xbar_open_data(h, SAMPLE, 200), XBAR_OK);
        cr_assert_eq(xbar_run(h, XBAR_FLOAT), XBAR_OK, "%s", xbar_last_error(h));
        xbar_result r;
        cr_assert_eq(xbar_get_result(h, XBAR_FLOAT, &r, sizeof r), XBAR_OK);
        correct[i] = r.correct;
        xbar_close(h);
    }
    cr_assert_eq(correct[0], correct[1]);
    for (int i = 2; i < 4; i++)
        cr_assert_neq(correct[0], correct[i], "%s, %s did not change the float run (%lld)",
                      pre[i][0], pre[i][1], (long long)correct[0]);

    for (int p = 0; p < 2; p++) {
        xbar *h = open_lenet(20);
        cr_assert_eq(xbar_set_option(h, p ? "profile_images=0" : "profile_images=16"), XBAR_OK);
        cr_assert_eq(xbar_run(h, XBAR_ANALOG), XBAR_OK, "%s", xbar_last_error(h));
        cJSON *j = cJSON_Parse(xbar_report_json(h));
        cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "layers"), 0);
        cr_assert(l0);
        cr_assert_eq(cJSON_GetObjectItem(l0, "adc_histogram") != NULL, p == 0,
                     "profile_images=%d", p ? 0 : 16);
        cJSON_Delete(j);
        xbar_close(h);
    }
    xb_dataset_free(d);
}
