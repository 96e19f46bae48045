/* End-to-end checks of the shipped models through the C API: for every
 * models/NAME.onnx with a models/NAME.golden.json (written by
 * models/train.py from PyTorch):
 *   - golden/first16: the logits of the first 16 test images match
 *     first16_logits within 1e-4 (absolute, or relative for |logit| > 1),
 *     their labels match first16_labels, and the predictions agree; for a
 *     golden with "output_scale" (int8 reference) a logit may also be
 *     exactly one output step off (see below);
 *   - golden/full_test_set: top-1 correct on the whole test set equals the
 *     recorded count exactly;
 *   - golden/threads_identical: float (as loaded and fused for float runs)
 *     and post-training int8 logits of 64
 *     images are bit-identical with 1 and 2 threads.
 * The full test set is read from the data dir (XBAR_DATA or
 * datasets/data/, see datasets/fetch.sh); without it that test is skipped
 * and says why.  The first-16 check falls back to the bundled sample
 * (datasets/samples/, the first 1000 test images).  XBAR_MODELS overrides
 * the models folder. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/dataset.h"
#include "eval/preprocess.h"
#include "frontend/quantize.h"
#include "eval/runner.h"

#include "frontend/onnx.h"

/* XBAR_MODELS overrides the models folder (e.g. to test a tree whose
 * models are not committed yet). */
static const char *models_dir(void) {
    const char *e = getenv("XBAR_MODELS");
    return e && e[0] ? e : XBAR_SOURCE_DIR "/models";
}

typedef struct {
    char name[64];
} model_param;

static model_param *find_models(size_t *n) {
    glob_t gl;
    char pat[600];
    *n = 0;
    snprintf(pat, sizeof pat, "%s/*.golden.json", models_dir());
    if (glob(pat, 0, NULL, &gl) != 0) {
        /* Criterion wants a non-empty array; one empty name means "none". */
        model_param *p = cr_malloc(sizeof *p);
        p->name[0] = '\0';
        *n = 1;
        return p;
    }
    model_param *p = cr_malloc(gl.gl_pathc * sizeof *p);
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        const char *base = strrchr(gl.gl_pathv[i], '/') + 1;
        size_t len = strlen(base) - strlen(".golden.json");
        if (len >= sizeof p[0].name) len = sizeof p[0].name - 1;
        memcpy(p[*n].name, base, len);
        p[*n].name[len] = '\0';
        (*n)++;
    }
    globfree(&gl);
    return p;
}

static void free_params(struct criterion_test_params *crp) { cr_free(crp->params); }

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static cJSON *read_json(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(s);
    free(s);
    cr_assert_not_null(j, "%s: not JSON", path);
    return j;
}

typedef struct {
    xb_graph *g;
    xb_preproc pp;
    cJSON *golden;
    const char *ds;
} loaded;

static void load(const char *name, loaded *m) {
    if (!name[0]) cr_skip_test("no models/*.golden.json in this tree");
    char path[512];
    snprintf(path, sizeof path, "%.400s/%s.onnx", models_dir(), name);
    if (!exists(path)) cr_skip_test("%s.golden.json without %s", name, path);
    xb_ctx ctx = {0};
    memset(m, 0, sizeof *m);
    cr_assert_eq(xb_onnx_load(path, 1, &m->g, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_preproc_init(&m->pp, m->g, &ctx), XB_OK, "%s", ctx.msg);
    snprintf(path, sizeof path, "%.400s/%s.golden.json", models_dir(), name);
    m->golden = read_json(path);
    m->ds = m->pp.dataset;
    cr_assert_not_null(m->ds, "%s: no xbar.dataset metadata", name);
}

static void unload(loaded *m) {
    cJSON_Delete(m->golden);
    xb_preproc_free(&m->pp);
    xb_graph_free(m->g);
}

/* The model's full test set from the data dir, or NULL. */
static xb_dataset *full_set(const char *ds, char *why, size_t n) {
    char dir[300], file[400];
    xb_data_dir(ds, dir, sizeof dir);
    snprintf(file, sizeof file, "%s/%s", dir,
             strcmp(ds, "cifar10") ? "t10k-images-idx3-ubyte.gz" : "test_batch.bin");
    if (!exists(file)) {
        int k = snprintf(why, n, "full %s test set not found at %s (run datasets/fetch.sh %s or set XBAR_DATA)",
                 ds, file, ds);
        (void)k; /* a truncated reason is still a reason */
        return NULL;
    }
    xb_ctx ctx = {0};
    xb_dataset *d;
    cr_assert_eq(xb_dataset_open(ds, &d, &ctx), XB_OK, "%s", ctx.msg);
    return d;
}

ParameterizedTestParameters(golden, first16) {
    size_t n;
    model_param *p = find_models(&n);
    return cr_make_param_array(model_param, p, n, free_params);
}

ParameterizedTest(model_param *mp, golden, first16) {
    loaded m;
    load(mp->name, &m);
    char why[512];
    xb_dataset *d = full_set(m.ds, why, sizeof why);
    if (!d) {
        const char *sample = !strcmp(m.ds, "mnist")     ? "/datasets/samples/mnist/t10k-images-idx3-ubyte.gz"
                             : !strcmp(m.ds, "cifar10") ? "/datasets/samples/cifar10/test_batch.bin"
                                                        : NULL;
        char sp[512];
        if (sample) snprintf(sp, sizeof sp, "%s%s", XBAR_SOURCE_DIR, sample);
        if (!sample || !exists(sp)) cr_skip_test("%s: %s, and no bundled sample", mp->name, why);
        xb_ctx ctx = {0};
        cr_assert_eq(xb_dataset_open(sp, &d, &ctx), XB_OK, "%s", ctx.msg);
    }
    cJSON *gl = cJSON_GetObjectItem(m.golden, "first16_logits");
    cJSON *lab = cJSON_GetObjectItem(m.golden, "first16_labels");
    cr_assert(cJSON_IsArray(gl) && cJSON_IsArray(lab));
    int n = cJSON_GetArraySize(gl), K = m.pp.n_outputs;
    cr_assert(n >= 1 && n <= 16 && d->n >= n);
    float *logits = malloc((size_t)n * (size_t)K * sizeof(float));
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.limit = n;
    o.logits = logits;
    xb_run_result r;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_run_dataset(m.g, &m.pp, d, &o, &r, &ctx), XB_OK, "%s", ctx.msg);
    /* A golden made by PyTorch's quantized engine (qnnpack) carries the
     * int8 step of its logits: its final requantization rounds values on a
     * step boundary differently from ONNX QDQ semantics (ONNX Runtime shows
     * the same, models/ort_check_results.json), so there a logit may differ
     * by one step; the predictions and the full-set count must still agree. */
    cJSON *os = cJSON_GetObjectItem(m.golden, "output_scale");
    double step = cJSON_IsNumber(os) ? os->valuedouble : 0.0;
    int one_step = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        cJSON *row = cJSON_GetArrayItem(gl, i);
        cr_assert_eq(cJSON_GetArraySize(row), K, "%s: golden row %d has %d logits, model %d",
                     mp->name, i, cJSON_GetArraySize(row), K);
        cr_assert_eq(d->labels[i], cJSON_GetArrayItem(lab, i)->valueint,
                     "%s: label of image %d differs from the golden file", mp->name, i);
        for (int k = 0; k < K; k++) {
            double want = cJSON_GetArrayItem(row, k)->valuedouble, got = logits[i * K + k];
            double err = fabs(got - want) / fmax(1.0, fabs(want));
            if (step > 0 && err > 1e-4 && fabs(fabs(got - want) - step) <= 1e-4 * fmax(1.0, fabs(want))) {
                one_step++;
                continue;
            }
            if (err > worst) worst = err;
            cr_expect_leq(err, 1e-4, "%s: image %d logit %d = %.7g, golden %.7g", mp->name, i, k,
                          got, want);
        }
        int gbest = 0;
        for (int k = 1; k < K; k++)
            if (cJSON_GetArrayItem(row, k)->valuedouble > cJSON_GetArrayItem(row, gbest)->valuedouble)
                gbest = k;
        cr_expect_eq(xb_argmax(logits + i * K, K), gbest, "%s: image %d predicted differently",
                     mp->name, i);
    }
    cr_log_info("%s: first %d logits, worst error %.3g%s", mp->name, n, worst,
                step > 0 ? " (excluding one-step int8 rounding differences)" : "");
    if (step > 0) cr_log_info("%s: %d logits one int8 step (%g) off", mp->name, one_step, step);
    free(logits);
    xb_dataset_free(d);
    unload(&m);
}

ParameterizedTestParameters(golden, full_test_set) {
    size_t n;
    model_param *p = find_models(&n);
    return cr_make_param_array(model_param, p, n, free_params);
}

ParameterizedTest(model_param *mp, golden, full_test_set) {
    loaded m;
    load(mp->name, &m);
    char why[512];
    xb_dataset *d = full_set(m.ds, why, sizeof why);
    if (!d) cr_skip_test("%s: %s", mp->name, why);
    int want = cJSON_GetObjectItem(m.golden, "correct")->valueint;
    int total = cJSON_GetObjectItem(m.golden, "total")->valueint;
    xb_run_opts o;
    xb_run_opts_init(&o);
    xb_run_result r;
    xb_ctx ctx = {0};
    cr_assert_eq(xb_run_dataset(m.g, &m.pp, d, &o, &r, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(r.total, total, "%s: %lld test images, golden says %d", mp->name,
                 (long long)r.total, total);
    cr_assert_eq(r.correct1, want, "%s: %lld/%lld correct, PyTorch golden %d", mp->name,
                 (long long)r.correct1, (long long)r.total, want);
    xb_dataset_free(d);
    unload(&m);
}

/* Thread-count independence on the real models, float and post-training
 * int8: logits bit-identical with 1 and 2 threads. */
ParameterizedTestParameters(golden, threads_identical) {
    size_t n;
    model_param *p = find_models(&n);
    return cr_make_param_array(model_param, p, n, free_params);
}

static void logits_1_vs_2(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d, int n,
                          const char *what) {
    size_t k = (size_t)n * (size_t)pp->n_outputs;
    float *a = malloc(k * sizeof(float)), *b = malloc(k * sizeof(float));
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.limit = n;
    xb_run_result r1, r2;
    xb_ctx ctx = {0};
    o.threads = 1;
    o.logits = a;
    cr_assert_eq(xb_run_dataset(g, pp, d, &o, &r1, &ctx), XB_OK, "%s", ctx.msg);
    o.threads = 2;
    o.logits = b;
    cr_assert_eq(xb_run_dataset(g, pp, d, &o, &r2, &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(r2.threads, 2);
    cr_assert_eq(memcmp(a, b, k * sizeof(float)), 0, "%s: logits differ between 1 and 2 threads", what);
    cr_assert_eq(r1.correct1, r2.correct1);
    cr_assert_eq(r1.correct5, r2.correct5);
    free(a);
    free(b);
}

ParameterizedTest(model_param *mp, golden, threads_identical) {
    loaded m;
    load(mp->name, &m);
    char why[512];
    xb_dataset *d = full_set(m.ds, why, sizeof why);
    if (!d) {
        char sp[512];
        snprintf(sp, sizeof sp, "%s/datasets/samples/%s", XBAR_SOURCE_DIR,
                 !strcmp(m.ds, "cifar10") ? "cifar10/test_batch.bin" : "mnist/t10k-images-idx3-ubyte.gz");
        if (strcmp(m.ds, "mnist") && strcmp(m.ds, "cifar10")) cr_skip_test("%s: %s", mp->name, why);
        xb_ctx ctx = {0};
        cr_assert_eq(xb_dataset_open(sp, &d, &ctx), XB_OK, "%s", ctx.msg);
    }
    int n = d->n < 64 ? (int)d->n : 64;
    logits_1_vs_2(m.g, &m.pp, d, n, "float");
    {
        /* The graph float runs execute (Conv + Add + Relu fused). */
        xb_graph *fz = NULL;
        xb_ctx fctx = {0};
        cr_assert_eq(xb_float_run_graph(m.g, &fz, &fctx), XB_OK, "%s", fctx.msg);
        if (fz) logits_1_vs_2(fz, &m.pp, d, n, "float (fused)");
        xb_graph_free(fz);
    }
    int nq = 0;
    for (int i = 0; i < m.g->n_nodes; i++) nq += !strncmp(m.g->nodes[i].op_type, "XbarQ", 5);
    if (nq == 0) {
        size_t per = (size_t)m.pp.c * (size_t)m.pp.h * (size_t)m.pp.w;
        float *cal = malloc(8 * per * sizeof(float));
        uint8_t *px = malloc(xb_dataset_image_bytes(d));
        cr_assert_not_null(px);
        for (int i = 0; i < 8; i++) {
            xb_ctx pc = {0};
            const uint8_t *im = xb_dataset_pixels(d, 100 + i, px, &pc);
            cr_assert_not_null(im, "%s", pc.msg);
            xb_preproc_image(&m.pp, im, d->c, cal + i * per);
        }
        free(px);
        xb_quant_opts qo = xb_quant_opts_default();
        xb_graph *qg;
        xb_ctx ctx = {0};
        cr_assert_eq(xb_quantize(m.g, cal, 8, &qo, &qg, &ctx), XB_OK, "%s", ctx.msg);
        logits_1_vs_2(qg, &m.pp, d, n, "int8");
        xb_graph_free(qg);
        free(cal);
    }
    xb_dataset_free(d);
    unload(&m);
}
