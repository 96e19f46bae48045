/* The analog rows of xbar_bench: for LeNet-5, ResNet-20 and VGG-small on the
 * bundled 1000-image samples, the images/s of `xbar run --arch ...` (the
 * analog run exactly as the CLI does it, with its defaults: 16 profile
 * images whose every column sum is recorded) against xbar's int8 path timed
 * in the same process just before, as a ratio.  Rows: ideal ADC, ISAAC with
 * a 6-bit clipping ADC, ISAAC with a 6-bit calibrated ADC, and (ResNet-20)
 * read noise sigma 0.5.  Then, when $XBAR_DATA holds the CIFAR-10 test set,
 * the wall time of the whole `xbar run` command on it (ResNet-20, ISAAC
 * 6-bit, 2 threads); and with a CrossSim checkout (--crosssim DIR or
 * $XBAR_CROSSSIM), CrossSim's ISAAC-like 6-bit configuration through
 * tools/crosssim_compare.py on the first images of the same test set, with
 * the xbar/CrossSim images/s ratio.
 *
 * A program, not a test: nothing here asserts a speed. */
#include "bench/bench_analog.h"
#include "bench/bench_goals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backend/arch.h"
#include "eval/mixed_precision.h"
#include "eval/runner.h"
#include "eval/session.h"
#include "frontend/quantize.h"

typedef struct {
    const char *name, *model, *data, *dataset; /* paths relative to the source tree */
} analog_model;

static const analog_model amodels[] = {
    {"LeNet-5", "models/lenet5_mnist.onnx", "datasets/samples/mnist/t10k-images-idx3-ubyte.gz",
     "mnist"},
    {"ResNet-20", "models/resnet20_cifar10.onnx", "datasets/samples/cifar10/test_batch.bin",
     "cifar10"},
    {"VGG-small", "models/vgg_small_cifar10.onnx", "datasets/samples/cifar10/test_batch.bin",
     "cifar10"},
};

typedef struct {
    const char *label, *arch;
    const char *sets[4];
    const char *only;   /* model name this row is for, or NULL: every model */
    int64_t limit;      /* images (0: the whole sample) */
    const char *goal_row; /* issue 13's row (analog/int8 at most goal), or NULL */
    double goal;
    double *rate; /* [model] this row's analog images/s, kept for a CrossSim ratio, or NULL */
} analog_cfg;

/* isaac 6-bit clip images/s per model, and (LeNet-5) with the read noise
 * matched to CrossSim's, for the CrossSim ratios (<= 0: not run) */
static double clip_rate[sizeof amodels / sizeof amodels[0]];
static double noise_rate[sizeof amodels / sizeof amodels[0]];

static const analog_cfg acfgs[] = {
    {"ideal", "ideal", {NULL}, NULL, 0, "ideal / int8", 1.2, NULL},
    /* issue 13's 6-bit row ("clip or calibrated") is taken on clip, the faster of the two */
    {"isaac 6b clip", "isaac", {"adc.bits=6", NULL}, NULL, 0, "6-bit clip / int8", 4, clip_rate},
    {"isaac 6b calibrated", "isaac", {"adc.bits=6", "adc.range=calibrated", NULL}, NULL, 0, NULL,
     0, NULL},
    {"isaac read_sigma 0.5", "isaac", {"nonideal.read_sigma=0.5", NULL}, "ResNet-20", 200,
     "read noise / int8", 10, NULL},
    /* CrossSim's read noise m = 0.2 as docs/VALIDATION.md matches it: the same variance per
     * conversion (read_row_sigma = 3 m) and CrossSim's even row blocks */
    {"isaac 6b row noise 0.6", "isaac",
     {"adc.bits=6", "nonideal.read_row_sigma=0.6", "mapping.row_split=even", NULL}, "LeNet-5", 0,
     NULL, 0, noise_rate},
};

void bench_analog_usage(void *file) {
    fprintf((FILE *)file,
            "  --no-analog    skip the analog rows (below)\n"
            "  --analog-only  only the analog rows\n"
            "  --analog-model NAME  analog rows only for models whose name contains NAME\n"
            "  --crosssim DIR CrossSim 3.2 checkout (default $XBAR_CROSSSIM): also time its\n"
            "                 ISAAC-like 6-bit configuration (tools/crosssim_compare.py), and\n"
            "                 on LeNet-5 the same with read noise m = 0.2\n"
            "  --crosssim-images N  LeNet-5 images for CrossSim (default 40; ResNet-20: N/8)\n\n"
            "Analog rows: analog images/s of `xbar run --arch A` on the 1000-image samples, with\n"
            "xbar run's defaults (16 profile images), over int8 images/s timed in the same run:\n"
            "ideal, isaac 6-bit clip, isaac 6-bit calibrated (LeNet-5, ResNet-20, VGG-small) and\n"
            "isaac with nonideal.read_sigma=0.5 (ResNet-20, 200 images), and (LeNet-5, for the\n"
            "CrossSim ratio) isaac 6-bit with CrossSim's read noise m = 0.2 matched as\n"
            "nonideal.read_row_sigma=0.6 and even row blocks.  With $XBAR_DATA holding\n"
            "cifar10: wall time of `xbar run models/resnet20_cifar10.onnx --data cifar10 --arch\n"
            "isaac --set adc.bits=6 --threads 2` (float + int8 + analog, 10,000 images), and\n"
            "how much of it each mode's pass took (from that run's --json report).\n");
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double bench_median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[(n - 1) / 2];
}

void bench_spread(double *v, int n, double *med, double *lo, double *hi) {
    *med = bench_median(v, n);
    *lo = v[0];
    *hi = v[n - 1];
}

int bench_passes(double target_s, double secs) {
    double k = secs > 0 ? target_s / secs : 1000;
    return k < 1 ? 1 : k > 1000 ? 1000 : (int)(k + 0.5);
}

double bench_rep(const xb_graph *g, const xb_preproc *pp, const xb_dataset *d,
                 const xb_run_opts *o, int passes, double *acc, double *secs, xb_ctx *ctx) {
    xb_run_result r;
    int64_t imgs = 0;
    *secs = 0;
    for (int p = 0; p < passes; p++) {
        if (xb_run_dataset(g, pp, d, o, &r, ctx) != XB_OK) return -1;
        *secs += r.seconds;
        imgs += r.total;
        *acc = r.total ? (double)r.correct1 / (double)r.total : 0;
    }
    return *secs > 0 ? (double)imgs / *secs : -1;
}

static void src_path(char *buf, size_t n, const char *rel) {
    if (rel[0] == '/')
        snprintf(buf, n, "%s", rel);
    else
        snprintf(buf, n, "%s/%s", XBAR_SOURCE_DIR, rel);
}

/* One timed rep of the analog run as `xbar run` does it; *passes < 1: the
 * rep runs until 0.3 s and fixes *passes for the next reps. */
static double analog_rep(xb_session *s, int *passes, double *acc, xb_ctx *ctx) {
    double secs = 0;
    int64_t imgs = 0;
    bool first = *passes < 1;
    for (int p = 0; first ? secs < 0.3 && p < 200 : p < *passes; p++) {
        if (xb_session_run_analog(s, ctx) != XB_OK) return -1;
        const xb_run_result *r = xb_session_result(s, XB_SESSION_ANALOG);
        secs += r->seconds;
        imgs += r->total;
        *acc = r->total ? (double)r->correct1 / (double)r->total : 0;
        if (first) *passes = p + 1;
    }
    return secs > 0 ? (double)imgs / secs : -1;
}

/* The arch of one row: preset, then the --set assignments. */
static xb_status row_arch(const analog_cfg *c, xb_arch *a, xb_ctx *ctx) {
    xb_arch_defaults(a);
    XB_TRY(xb_arch_load(a, c->arch, ctx));
    for (size_t i = 0; i < sizeof c->sets / sizeof c->sets[0] && c->sets[i]; i++)
        XB_TRY(xb_arch_set(a, c->sets[i], ctx));
    return XB_OK;
}

typedef struct {
    double int8, analog;     /* medians of the reps' images/s */
    double ratio, lo, hi;    /* median, smallest and largest time ratio analog/int8 (int8
                              * images/s over analog images/s) of one rep pair */
    double acc8, acca;       /* top-1 of the last runs */
} row_times;

/* int8 and analog images/s of one row, their reps alternated (int8 rep i,
 * then analog rep i): on a shared machine a slow spell then slows both
 * sides of a pair, so the median of the pairs' ratios moves less than the
 * ratio of two medians taken minutes apart.  Each rep lasts about 0.3 s
 * (the first int8 run and the first analog rep fix their passes).  The
 * analog side is built and its ADC calibrated first, untimed, as `xbar
 * run` does not count it either. */
static xb_status time_row(xb_session *s, const xb_arch *a, int64_t limit,
                          const bench_analog_opts *o, row_times *t, xb_ctx *ctx) {
    xb_run_opts ro;
    xb_run_opts_init(&ro);
    ro.threads = o->threads;
    ro.limit = limit;
    int reps = o->reps < 1 ? 1 : o->reps > 32 ? 32 : o->reps;
    XB_TRY(xb_session_build_backend(s, a, ctx));
    if (xb_arch_needs_calibration(a)) XB_TRY(xb_session_calibrate_adc(s, ctx));
    const xb_graph *qg = xb_session_int8_graph(s);
    const xb_preproc *pp = xb_session_preproc(s);
    const xb_dataset *d = xb_session_data(s);
    /* a warm-up int8 run, which also fixes the int8 passes */
    double secs = 0;
    if (bench_rep(qg, pp, d, &ro, 1, &t->acc8, &secs, ctx) < 0)
        return ctx->status ? ctx->status : XB_ERR_RUNTIME;
    int p8 = bench_passes(0.3, secs), pa = 0;
    double q[32], an[32], r[32];
    for (int i = 0; i < reps; i++) {
        q[i] = bench_rep(qg, pp, d, &ro, p8, &t->acc8, &secs, ctx);
        an[i] = q[i] < 0 ? -1 : analog_rep(s, &pa, &t->acca, ctx);
        if (q[i] < 0 || an[i] < 0) return ctx->status ? ctx->status : XB_ERR_RUNTIME;
        r[i] = q[i] / an[i];
    }
    t->int8 = bench_median(q, reps);
    t->analog = bench_median(an, reps);
    bench_spread(r, reps, &t->ratio, &t->lo, &t->hi);
    return XB_OK;
}

/* One model: open, quantize at the arch's bits (8/8 for both presets), and
 * for each row its int8 and analog reps (time_row). */
static int bench_model(size_t mi, const bench_analog_opts *o) {
    const analog_model *m = &amodels[mi];
    char model[4096], data[4096];
    src_path(model, sizeof model, m->model);
    src_path(data, sizeof data, m->data);
    if (access(model, R_OK) != 0) {
        printf("%-10s skipped: %s does not exist\n", m->name, m->model);
        return 0;
    }
    int rc = 0;
    for (size_t ci = 0; ci < sizeof acfgs / sizeof acfgs[0]; ci++) {
        const analog_cfg *c = &acfgs[ci];
        if (c->only && strcmp(c->only, m->name)) continue;
        xb_ctx ctx = {0};
        xb_session *s = NULL;
        xb_arch a;
        xb_session_opts so = {.threads = o->threads, .progress = false, .profile_images = -1};
        if (row_arch(c, &a, &ctx) != XB_OK || xb_session_open(model, &so, &s, &ctx) != XB_OK ||
            xb_session_open_data(s, data, c->limit, &ctx) != XB_OK ||
            xb_session_choose_calibration(s, o->calib, &ctx) != XB_OK)
            goto fail;
        xb_quant_opts qo = xb_quant_opts_default();
        qo.w_bits = a.weight_bits;
        qo.x_bits = a.input_bits < 2 ? 2 : a.input_bits;
        if (xb_quant_opts_layers_from_arch(xb_session_graph(s), &a, &qo, &ctx) != XB_OK ||
            xb_session_quantize(s, &qo, &ctx) != XB_OK)
            goto fail;
        row_times t = {0};
        if (time_row(s, &a, c->limit, o, &t, &ctx) != XB_OK) goto fail;
        if (c->goal_row) bench_goal(c->goal_row, m->name, t.ratio, "x", c->goal, true);
        if (c->rate) c->rate[mi] = t.analog;
        printf("%-10s %-22s %10.0f %10.1f %9.2fx %6.2f-%-6.2f top-1 int8 %.2f%% analog %.2f%% on "
               "%lld\n",
               m->name, c->label, t.int8, t.analog, t.ratio, t.lo, t.hi, 100 * t.acc8,
               100 * t.acca, (long long)xb_session_count(s));
        fflush(stdout);
        xb_session_free(s);
        continue;
    fail:
        fprintf(stderr, "xbar_bench: %s %s: %s\n", m->name, c->label, ctx.msg);
        printf("%-10s %-22s failed\n", m->name, c->label);
        xb_session_free(s);
        rc = 1;
    }
    return rc;
}

/* The directory of this executable (xbar is built beside it). */
static void exe_dir(char *buf, size_t n) {
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k <= 0) {
        snprintf(buf, n, ".");
        return;
    }
    buf[k] = '\0';
    char *sl = strrchr(buf, '/');
    if (sl) *sl = '\0';
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Seconds of mode `mode` in the JSON report of a run of n images (n over
 * its images/s), or -1. */
static double mode_seconds(const cJSON *rep, const char *mode, double n) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(rep, mode);
    const cJSON *ips = m ? cJSON_GetObjectItemCaseSensitive(m, "images_per_s") : NULL;
    return cJSON_IsNumber(ips) && ips->valuedouble > 0 ? n / ips->valuedouble : -1;
}

/* Where the wall time went, from the run's JSON report: each mode's pass
 * (images over its images/s; the analog pass includes its profile images)
 * and the rest (loading, quantization and ADC calibration, the diagnosis,
 * the report). */
static void print_split(const char *json, double wall) {
    FILE *f = fopen(json, "rb");
    char *buf = f ? malloc(1 << 22) : NULL;
    size_t len = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
    if (f) fclose(f);
    cJSON *rep = NULL;
    if (buf) {
        buf[len] = 0;
        rep = cJSON_Parse(buf);
    }
    const cJSON *ni = rep ? cJSON_GetObjectItemCaseSensitive(rep, "images") : NULL;
    if (cJSON_IsNumber(ni)) {
        double n = ni->valuedouble, fs = mode_seconds(rep, "float", n),
               qs = mode_seconds(rep, "int8", n), as = mode_seconds(rep, "analog", n);
        if (fs > 0 && qs > 0 && as > 0)
            printf("  of which float %.2f s, int8 %.2f s, analog %.2f s, the rest %.2f s (loading, "
                   "quantization and ADC calibration, diagnosis; from the run's --json)\n",
                   fs, qs, as, wall - fs - qs - as);
    }
    cJSON_Delete(rep);
    free(buf);
}

/* Wall time of the whole `xbar run` on the full CIFAR-10 test set. */
static void full_cifar_wall(void) {
    const char *xd = getenv("XBAR_DATA");
    char dir[4096], cmd[16384];
    if (!xd || snprintf(dir, sizeof dir, "%s/cifar10", xd) >= (int)sizeof dir || !is_dir(dir)) {
        printf("full CIFAR-10 ResNet-20 isaac 6-bit: skipped ($XBAR_DATA/cifar10 not found)\n");
        return;
    }
    char ed[4096], json[] = "/tmp/xbar_bench_full_XXXXXX";
    exe_dir(ed, sizeof ed);
    int fd = mkstemp(json);
    if (fd >= 0) close(fd);
    snprintf(cmd, sizeof cmd,
             "'%s/xbar' run '%s/models/resnet20_cifar10.onnx' --data cifar10 --arch isaac --set "
             "adc.bits=6 --threads 2 --json '%s' > /dev/null 2>&1",
             ed, XBAR_SOURCE_DIR, fd >= 0 ? json : "/dev/null");
    double t0 = now_s();
    int rc = system(cmd);
    double t = now_s() - t0;
    if (rc != 0) {
        printf("full CIFAR-10 ResNet-20 isaac 6-bit, 2 threads: failed (rc %d): %s\n", rc, cmd);
    } else {
        printf("full CIFAR-10 ResNet-20 isaac 6-bit, 2 threads: wall %.2f s  (xbar run "
               "models/resnet20_cifar10.onnx --data cifar10 --arch isaac --set adc.bits=6 "
               "--threads 2: float + int8 + analog, 10,000 images)\n",
               t);
        bench_goal("full CIFAR-10 wall", "ResNet-20", t, " s", 10, true);
        if (fd >= 0) print_split(json, t);
    }
    if (fd >= 0) remove(json);
    fflush(stdout);
}

/* CrossSim images/s from tools/crosssim_compare.py's JSON line, or < 0. */
static double crosssim_ips(const bench_analog_opts *o, const char *model, const char *dataset,
                           int images, const char *extra) {
    char cmd[16384], line[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && /usr/bin/python3 tools/crosssim_compare.py --crosssim '%s' --model '%s' "
             "--data %s --limit %d --adc-bits 6 --row-split fill --no-xbar --threads %d "
             "--batch %d %s 2>/dev/null",
             XBAR_SOURCE_DIR, o->crosssim, model, dataset, images, o->threads,
             images < 50 ? images : 50, extra);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double ips = -1;
    while (fgets(line, sizeof line, p)) {
        const char *k = strstr(line, "\"crosssim_images_per_s\":");
        if (k && strstr(line, "\"seed\"")) ips = atof(k + 25);
    }
    if (pclose(p) != 0) return -1;
    return ips;
}

/* CrossSim's images/s on the first images of the test set against xbar's
 * rate of the same configuration measured above: isaac 6-bit clip
 * (LeNet-5, ResNet-20), and (LeNet-5) with read noise m = 0.2 on CrossSim's
 * side and its match on xbar's (row "isaac 6b row noise 0.6"; CrossSim
 * draws with numpy seed 1). */
static void crosssim_rows(const bench_analog_opts *o) {
    if (!o->crosssim || !is_dir(o->crosssim)) {
        printf("CrossSim: skipped (no checkout: --crosssim DIR or $XBAR_CROSSSIM)\n");
        return;
    }
    static const struct {
        const char *name, *model, *dataset, *label, *extra, *goal_row;
        int div;
        const double *rate; /* xbar's, per model */
    } cs[] = {{"LeNet-5", "models/lenet5_mnist.onnx", "mnist", "isaac-like 6-bit", "",
               "xbar / CrossSim, 6-bit", 1, clip_rate},
              {"ResNet-20", "models/resnet20_cifar10.onnx", "cifar10", "isaac-like 6-bit", "",
               "xbar / CrossSim, 6-bit", 8, clip_rate},
              {"LeNet-5", "models/lenet5_mnist.onnx", "mnist", "6-bit, read noise m 0.2",
               "--read-noise 0.2 --seed 1", "xbar / CrossSim, noise", 1, noise_rate}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        if (o->only && !strstr(cs[i].name, o->only)) continue;
        int n = o->crosssim_images / cs[i].div;
        if (n < 2) n = 2;
        double c = crosssim_ips(o, cs[i].model, cs[i].dataset, n, cs[i].extra);
        /* xbar: the rate of its row above (the same model and arch, on the sample; the rate
         * does not depend on which images) */
        double x = -1;
        for (size_t j = 0; j < sizeof amodels / sizeof amodels[0]; j++)
            if (!strcmp(amodels[j].name, cs[i].name)) x = cs[i].rate[j];
        if (c <= 0 || x <= 0)
            printf("CrossSim %-10s %s: failed (CrossSim %.3g img/s, xbar %.3g)\n", cs[i].name,
                   cs[i].label, c, x);
        else {
            printf("CrossSim %-10s %s: CrossSim %.2f img/s (%d images), xbar %.1f img/s, "
                   "xbar/CrossSim %.0fx\n",
                   cs[i].name, cs[i].label, c, n, x, x / c);
            bench_goal(cs[i].goal_row, cs[i].name, x / c, "x", 100, false);
        }
        fflush(stdout);
    }
}

int bench_analog_run(const bench_analog_opts *o) {
    printf("\nanalog rows: `xbar run --arch A` images/s (defaults: 16 profile images) against int8 "
           "in the same run, %d threads, %d reps of each alternated; images/s: medians; analog/int8 "
           "(time per image): median over the rep pairs, then the smallest and largest pair\n",
           o->threads, o->reps);
    printf("%-10s %-22s %10s %10s %10s %13s\n", "model", "arch", "int8", "analog", "analog/int8",
           "pairs");
    int rc = 0;
    for (size_t i = 0; i < sizeof amodels / sizeof amodels[0]; i++)
        if (!o->only || strstr(amodels[i].name, o->only))
            rc |= bench_model(i, o);
    if (!o->only || strstr("ResNet-20", o->only)) full_cifar_wall();
    crosssim_rows(o);
    return rc;
}
