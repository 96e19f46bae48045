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
#include "bench/bench_goals.h"
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
            "NODE_PATH), with the same thread count.  Prints images/s and ratios, and at the end\n"
            "the rows of issue 13 this run measured, each with its goal and whether it met it.\n\n"
            "  --threads T    threads for both runtimes (default: 2)\n"
            "  --reps R       timed repetitions; the median counts (default 5).  A rep is as many\n"
            "                 passes over the dataset as fill about 0.5 s of xbar float time; the\n"
            "                 reps alternate xbar float, xbar int8, ORT batch 1 and ORT batch B (one\n"
            "                 timed rep per ORT process), and each ratio is the median of the reps'\n"
            "                 ratios, printed with the smallest and largest\n"
            "  --ort-batch B  ORT's batched run size (default 64); batch 1 is always run too\n"
            "  --no-ort       skip ONNX Runtime\n"
            "  --node PATH    node executable (default: node)\n");
    bench_analog_usage(f);
}

/* bench_rep, its failure printed. */
static double one_rep(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                      const xb_run_opts *o, int passes, double *acc) {
    xb_ctx ctx = {0};
    double secs;
    double ips = bench_rep(g, pp, d, o, passes, acc, &secs, &ctx);
    if (ips < 0) fprintf(stderr, "xbar_bench: %s\n", ctx.msg);
    return ips;
}

/* images/s reported by tools/ort_bench.js, or < 0. */
static double ort_run(const bench_opts *bo, const char *model, const xb_preproc *pp, int64_t n,
                      int batch, int reps, int *batch_used) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' '%s/tools/ort_bench.js' --model '%s' --shape %d,%d,%d --threads %d --batch %d "
             "--images %lld --reps %d",
             bo->node, XBAR_SOURCE_DIR, model, pp->c, pp->h, pp->w, bo->threads, batch,
             (long long)n, reps);
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

typedef struct {
    double f, q, o1, ob; /* median images/s: xbar float (< 0: not timed), int8, ORT b1, b64 */
    double qf, qf_lo, qf_hi; /* int8/float: median over the reps, smallest, largest */
    double fo, fo_lo, fo_hi; /* float / the faster ORT of the same rep (< 0: no ORT) */
    int bb;                  /* the batch ORT ran at (a fixed-batch model keeps its own) */
} row_times;

/* The reps of one model, alternated: xbar float rep i, int8 rep i, then ONNX
 * Runtime at batch 1 and at batch B (one timed rep per process, after its
 * own warm-up).  On a shared machine a slow spell slows every side of a rep
 * alike, so the median of the reps' ratios moves less than the ratio of
 * medians taken minutes apart.  A rep is `passes` passes over the dataset,
 * enough for a float rep to last about half a second (1000 LeNet images
 * take a few ms); *passes is set by the float warm-up (int8 when f is NULL).
 * Returns false on failure (message printed). */
static bool time_model(const xb_graph *f, const xb_graph *q, const xb_preproc *pp,
                       const xb_dataset *d, const bench_opts *bo, const char *model, int *passes,
                       double *accf, double *accq, row_times *t) {
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.threads = bo->threads;
    int reps = bo->reps < 1 ? 1 : bo->reps > 64 ? 64 : bo->reps, b1 = 1;
    double w = one_rep(f ? f : q, pp, d, &o, 1, f ? accf : accq);
    if (w < 0 || (f && one_rep(q, pp, d, &o, 1, accq) < 0)) return false;
    *passes = bench_passes(0.5, (double)d->n / w);
    bool ort = bo->ort && f;
    double fv[64], qv[64], o1[64], ob[64], qf[64], fo[64];
    t->bb = bo->ort_batch;
    for (int i = 0; i < reps; i++) {
        fv[i] = f ? one_rep(f, pp, d, &o, *passes, accf) : -1;
        qv[i] = one_rep(q, pp, d, &o, *passes, accq);
        if ((f && fv[i] < 0) || qv[i] < 0) return false;
        qf[i] = f ? qv[i] / fv[i] : 0;
        o1[i] = ort ? ort_run(bo, model, pp, d->n * *passes, 1, 1, &b1) : -1;
        ob[i] = ort ? ort_run(bo, model, pp, d->n * *passes, bo->ort_batch, 1, &t->bb) : -1;
        if (ort && (o1[i] < 0 || ob[i] < 0)) {
            fprintf(stderr, "xbar_bench: ONNX Runtime run failed for %s (node %s; is "
                    "onnxruntime-node in tools/node_modules or NODE_PATH?)\n", model, bo->node);
            ort = false;
        }
        fo[i] = ort ? fv[i] / (o1[i] > ob[i] ? o1[i] : ob[i]) : -1;
    }
    t->f = f ? bench_median(fv, reps) : -1;
    t->q = bench_median(qv, reps);
    t->o1 = ort ? bench_median(o1, reps) : -1;
    t->ob = ort ? bench_median(ob, reps) : -1;
    bench_spread(qf, reps, &t->qf, &t->qf_lo, &t->qf_hi);
    if (ort)
        bench_spread(fo, reps, &t->fo, &t->fo_lo, &t->fo_hi);
    else
        t->fo = t->fo_lo = t->fo_hi = -1;
    return true;
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
    row_times rt;
    if (!time_model(already_q ? NULL : frun, already_q ? fg : qg, ppp, d, bo, model, &passes,
                    &accf, &accq, &rt))
        goto out;
    char s1[32], s2[32], s3[32], s4[32];
    fmt_ips(s1, sizeof s1, rt.f);
    fmt_ips(s2, sizeof s2, rt.q);
    fmt_ips(s3, sizeof s3, rt.o1);
    fmt_ips(s4, sizeof s4, rt.ob);
    printf("%-22s %10s %10s %10s %10s", m->name, s1, s2, s3, s4);
    if (rt.fo > 0)
        printf(" %9.2fx %5.2f-%-5.2f", rt.fo, rt.fo_lo, rt.fo_hi);
    else
        printf(" %10s %11s", "-", "");
    if (rt.f > 0)
        printf(" %9.2fx %5.2f-%-5.2f", rt.qf, rt.qf_lo, rt.qf_hi);
    else
        printf(" %10s %11s", "-", "");
    /* the goal table's model: the name before " (dataset)" */
    char sn[32];
    snprintf(sn, sizeof sn, "%.*s", (int)strcspn(m->name, " ("), m->name);
    if (rt.fo > 0) bench_goal("float / ORT", sn, rt.fo, "x", 1.0, false);
    if (rt.f > 0) bench_goal("int8 / float", sn, rt.qf, "x", 2.0, false);
    printf("   top-1 float %.2f%% int8 %.2f%% on %lld images; %lld images per rep%s\n",
           100 * accf, 100 * accq, (long long)d->n, (long long)d->n * passes, rt.bb != bo->ort_batch && rt.ob >= 0 ? " (ORT model has a fixed batch)" : "");
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
        printf("images/s (median of the reps); ORT b1 = onnxruntime-node batch 1, ORT b%d = batch "
               "%d.  The reps alternate xbar float, xbar int8, ORT b1, ORT b%d; float/ORT (against "
               "the faster ORT of the same rep) and int8/float are medians over the reps, each "
               "followed by its smallest and largest rep\n\n",
               bo.ort_batch, bo.ort_batch, bo.ort_batch);
        printf("%-22s %10s %10s %10s %10s %10s %11s %10s %11s\n", "model", "xbar float",
               "xbar int8", "ORT b1", hb, "float/ORT", "reps", "int8/float", "reps");
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
    bench_goals_print(bo.threads);
    printf("\nload average before the run: %s\n", load);
    return rc;
}
