/* xbar_bench: inference throughput of xbar's float and int8 paths against
 * ONNX Runtime, on the bundled models, in one run.
 *
 * For each model: load and quantize it through the session `xbar run` uses
 * (eval/session.h: 8-bit, min/max over the first 100 images of the sample,
 * which has no training split beside it), then time xb_run_dataset -- the
 * same code `xbar run` uses -- over the whole sample dataset, R times, and
 * keep the median rep.  ONNX Runtime (npm onnxruntime-node) runs the same
 * float model through tools/ort_bench.js with intraOpNumThreads = T, once
 * with batch 1 (what each xbar worker does: one image at a time) and once
 * with batch B (ORT's best throughput mode); the float ratio is taken
 * against the faster of the two, so it is never flattering.
 *
 * This is a program, not a test: nothing here asserts a speed.  The numbers
 * go to docs/PERFORMANCE.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench_analog.h"
#include "eval/dataset.h"
#include "eval/preprocess.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "eval/session.h"
#include "frontend/quantize.h"

typedef struct {
    const char *name;
    const char *model; /* relative to the source tree */
    const char *data;
} bench_model;

static const bench_model default_models[] = {
    {"LeNet-5 (MNIST)", "models/lenet5_mnist.onnx", "datasets/samples/mnist/t10k-images-idx3-ubyte.gz"},
    {"ResNet-20 (CIFAR-10)", "models/resnet20_cifar10.onnx", "datasets/samples/cifar10/test_batch.bin"},
    {"VGG-small (CIFAR-10)", "models/vgg_small_cifar10.onnx", "datasets/samples/cifar10/test_batch.bin"},
};

typedef struct {
    int threads, reps, ort_batch, calib;
    bool ort;
    const char *node;
} bench_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: xbar_bench [--threads T] [--reps R] [--ort-batch B] [--no-ort] [--node PATH]\n"
            "                  [NAME=MODEL.onnx:DATA ...]\n\n"
            "Times float and int8 inference (images/s) of xbar on LeNet-5 (MNIST), ResNet-20 and\n"
            "VGG-small (CIFAR-10), using the bundled 1000-image samples, and ONNX Runtime on the\n"
            "same float models via node tools/ort_bench.js (onnxruntime-node from tools/node_modules or\n"
            "NODE_PATH), with the same thread count.  Prints images/s and ratios.\n\n"
            "  --threads T    threads for both runtimes (default: 2)\n"
            "  --reps R       timed repetitions; the median counts (default 5).  A rep is as many\n"
            "                 passes over the dataset as fill about 0.5 s of xbar float time\n"
            "  --ort-batch B  ORT's batched run size (default 64); batch 1 is always run too\n"
            "  --no-ort       skip ONNX Runtime\n"
            "  --node PATH    node executable (default: node)\n");
    bench_analog_usage(f);
}

/* Median images/s of R reps, after one warm-up pass.  A rep is `passes`
 * passes over the dataset, enough for it to last about half a second (1000
 * LeNet images take a few ms: too short to time against a busy machine).
 * Sets *passes on the first call (when it is 0).  Returns < 0 on failure
 * (message printed). */
static double time_runs(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                        const bench_opts *bo, int *passes, double *acc) {
    xb_ctx ctx = {0};
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.threads = bo->threads;
    xb_run_result r;
    double ips[64];
    int reps = bo->reps < 1 ? 1 : bo->reps > 64 ? 64 : bo->reps;
    if (xb_run_dataset(g, pp, d, &o, &r, &ctx) != XB_OK) {
        fprintf(stderr, "xbar_bench: %s\n", ctx.msg);
        return -1;
    }
    *acc = r.total ? (double)r.correct1 / (double)r.total : 0;
    if (*passes <= 0) {
        double k = r.seconds > 0 ? 0.5 / r.seconds : 100;
        *passes = k < 1 ? 1 : k > 1000 ? 1000 : (int)(k + 0.5);
    }
    for (int i = 0; i < reps; i++) {
        double secs = 0;
        for (int p = 0; p < *passes; p++) {
            if (xb_run_dataset(g, pp, d, &o, &r, &ctx) != XB_OK) {
                fprintf(stderr, "xbar_bench: %s\n", ctx.msg);
                return -1;
            }
            secs += r.seconds;
        }
        ips[i] = (double)r.total * *passes / secs;
    }
    return bench_median(ips, reps);
}

/* images/s reported by tools/ort_bench.js, or < 0. */
static double ort_run(const bench_opts *bo, const char *model, const xb_preproc *pp, int64_t n,
                      int batch, int *batch_used) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tools/ort_bench.js' --model '%s' --shape %d,%d,%d --threads %d --batch %d "
             "--images %lld --reps %d",
             bo->node, XBAR_SOURCE_DIR, model, pp->c, pp->h, pp->w, bo->threads, batch,
             (long long)n, bo->reps);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[4096] = "";
    char *got = fgets(line, sizeof line, p);
    int rc = pclose(p);
    if (!got || rc != 0) return -1;
    const char *k = strstr(line, "\"images_per_s\":");
    const char *b = strstr(line, "\"batch\":");
    if (!k) return -1;
    if (b) *batch_used = atoi(b + 8);
    return atof(k + 15);
}

static void cpu_name(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ') c++;
                c[strcspn(c, "\n")] = '\0';
                snprintf(buf, n, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void fmt_ips(char *buf, size_t n, double v) {
    if (v < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.0f", v);
}

static int bench_one(const bench_model *m, const bench_opts *bo) {
    char model[4096], data[4096];
    if (m->model[0] == '/')
        snprintf(model, sizeof model, "%s", m->model);
    else
        snprintf(model, sizeof model, "%s/%s", XBAR_SOURCE_DIR, m->model);
    if (m->data[0] == '/')
        snprintf(data, sizeof data, "%s", m->data);
    else
        snprintf(data, sizeof data, "%s/%s", XBAR_SOURCE_DIR, m->data);
    if (access(model, R_OK) != 0) {
        printf("%-22s skipped: %s does not exist (not trained yet?)\n", m->name, m->model);
        return 0;
    }
    xb_ctx ctx = {0};
    xb_session *sess = NULL;
    int rc = 1;
    /* The same pipeline as `xbar run` (eval/session.h): the whole sample is
     * evaluated, so the calibration images are its first `calib` images
     * (the samples have no training split beside them). */
    xb_session_opts so = {.threads = bo->threads, .progress = false, .profile_images = -1};
    if (xb_session_open(model, &so, &sess, &ctx) != XB_OK) goto fail;
    if (xb_session_open_data(sess, data, 0, &ctx) != XB_OK) goto fail;
    if (xb_session_choose_calibration(sess, bo->calib, &ctx) != XB_OK) goto fail;
    xb_quant_opts qo = xb_quant_opts_default();
    if (xb_session_quantize(sess, &qo, &ctx) != XB_OK) goto fail;
    bool already_q = xb_session_prequantized(sess);
    const xb_graph *fg = xb_session_graph(sess), *qg = xb_session_int8_graph(sess);
    const xb_preproc *ppp = xb_session_preproc(sess);
    const xb_dataset *d = xb_session_data(sess);
    double accf = 0, accq = 0;
    int passes = 0; /* fixed by the first timing, then shared: same work for every runtime */
    const xb_graph *frun = fg; /* what xbar run's float mode executes (Conv + Relu fused) */
    if (xb_session_float_run_graph(sess, &frun, &ctx) != XB_OK) goto fail;
    double f = already_q ? -1 : time_runs(frun, ppp, d, bo, &passes, &accf);
    double q = time_runs(already_q ? fg : qg, ppp, d, bo, &passes, &accq);
    if ((!already_q && f < 0) || q < 0) goto out;
    double o1 = -1, ob = -1;
    int b1 = 1, bb = bo->ort_batch;
    if (bo->ort && !already_q) {
        o1 = ort_run(bo, model, ppp, d->n * passes, 1, &b1);
        ob = ort_run(bo, model, ppp, d->n * passes, bo->ort_batch, &bb);
        if (o1 < 0 || ob < 0)
            fprintf(stderr, "xbar_bench: ONNX Runtime run failed for %s (node %s; is "
                    "onnxruntime-node in tools/node_modules or NODE_PATH?)\n", m->model, bo->node);
    }
    double obest = o1 > ob ? o1 : ob;
    char s1[32], s2[32], s3[32], s4[32];
    fmt_ips(s1, sizeof s1, f);
    fmt_ips(s2, sizeof s2, q);
    fmt_ips(s3, sizeof s3, o1);
    fmt_ips(s4, sizeof s4, ob);
    printf("%-22s %10s %10s %10s %10s", m->name, s1, s2, s3, s4);
    if (f > 0 && obest > 0)
        printf(" %9.2fx", f / obest);
    else
        printf(" %10s", "-");
    if (f > 0)
        printf(" %9.2fx", q / f);
    else
        printf(" %10s", "-");
    printf("   top-1 float %.2f%% int8 %.2f%% on %lld images; %lld images per rep%s\n",
           100 * accf, 100 * accq, (long long)d->n, (long long)d->n * passes, bb != bo->ort_batch && ob >= 0 ? " (ORT model has a fixed batch)" : "");
    fflush(stdout);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "xbar_bench: %s: %s\n", m->name, ctx.msg);
out:
    xb_session_free(sess);
    return rc;
}

int main(int argc, char **argv) {
    bench_opts bo = {.threads = 2, .reps = 5, .ort_batch = 64, .calib = 100, .ort = true,
                     .node = "node"};
    bench_model extra[16];
    int n_extra = 0;
    /* analog rows (bench_analog.c) */
    bool analog = true, analog_only = false;
    bench_analog_opts ao = {.calib = 100, .crosssim = getenv("XBAR_CROSSSIM"),
                            .crosssim_images = 40};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--threads") && has) {
            bo.threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--reps") && has) {
            bo.reps = atoi(argv[++i]);
        } else if (!strcmp(a, "--ort-batch") && has) {
            bo.ort_batch = atoi(argv[++i]);
        } else if (!strcmp(a, "--node") && has) {
            bo.node = argv[++i];
        } else if (!strcmp(a, "--no-ort")) {
            bo.ort = false;
        } else if (!strcmp(a, "--no-analog")) {
            analog = false;
        } else if (!strcmp(a, "--analog-only")) {
            analog_only = true;
        } else if (!strcmp(a, "--analog-model") && has) {
            ao.only = argv[++i];
        } else if (!strcmp(a, "--crosssim") && has) {
            ao.crosssim = argv[++i];
        } else if (!strcmp(a, "--crosssim-images") && has) {
            ao.crosssim_images = atoi(argv[++i]);
        } else if (a[0] != '-' && strchr(a, '=') && strchr(a, ':') && n_extra < 16) {
            /* NAME=MODEL:DATA */
            char *s = argv[i];
            char *eq = strchr(s, '=');
            char *colon = strchr(eq, ':');
            if (!colon) goto bad;
            *eq = '\0';
            *colon = '\0';
            extra[n_extra++] = (bench_model){s, eq + 1, colon + 1};
        } else {
        bad:
            fprintf(stderr, "xbar_bench: bad argument '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (bo.threads < 1 || bo.reps < 1 || bo.ort_batch < 1) {
        fprintf(stderr, "xbar_bench: --threads, --reps and --ort-batch must be >= 1\n");
        return 2;
    }
    char cpu[256];
    cpu_name(cpu, sizeof cpu);
    printf("xbar_bench: %s, %ld online CPUs; %d threads for xbar and ONNX Runtime; median of %d "
           "reps\n",
           cpu, sysconf(_SC_NPROCESSORS_ONLN), bo.threads, bo.reps);
    char hb[32];
    snprintf(hb, sizeof hb, "ORT b%d", bo.ort_batch);
    if (!analog_only) {
        printf("images/s; ORT b1 = onnxruntime-node batch 1, ORT b%d = batch %d; float/ORT is "
               "against the faster ORT column\n\n",
               bo.ort_batch, bo.ort_batch);
        printf("%-22s %10s %10s %10s %10s %10s %10s\n", "model", "xbar float", "xbar int8", "ORT b1",
               hb, "float/ORT", "int8/float");
    }
    /* Shared machines distort timings; say how busy this one was. */
    FILE *la = fopen("/proc/loadavg", "r");
    char load[128] = "?";
    if (la) {
        if (fgets(load, sizeof load, la)) load[strcspn(load, "\n")] = '\0';
        fclose(la);
    }
    int rc = 0;
    const bench_model *list = n_extra ? extra : default_models;
    int n = n_extra ? n_extra : (int)(sizeof default_models / sizeof default_models[0]);
    for (int i = 0; i < n && !analog_only; i++) rc |= bench_one(&list[i], &bo);
    if (analog || analog_only) {
        ao.threads = bo.threads;
        ao.reps = bo.reps;
        rc |= bench_analog_run(&ao);
    }
    printf("\nload average before the run: %s\n", load);
    return rc;
}
