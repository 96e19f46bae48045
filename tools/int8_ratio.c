/* int8 / float images per second of one model through the session `xbar
 * run` and xbar_bench use (eval/session.h: 8-bit min/max PTQ on the first
 * 100 images, xb_run_dataset on 1 thread), alternating float and int8 so
 * both see the same machine, timed in thread CPU time (other processes'
 * time slices stay out; docs/PERFORMANCE.md).  With `int8` or `float` as
 * the 5th argument it only runs that mode, for `perf record`.
 *
 *   cmake --build build -j2
 *   gcc -O2 -g -fopenmp -I. -Ibuild/gen tools/int8_ratio.c build/libxbar_eval.a \
 *       build/libxbar_backend.a build/libxbar_frontend.a build/libxbar_kernels.a \
 *       build/libxbar_runtime.a build/libonnx_pb.a -lprotobuf-c -lpng -ljpeg -lcjson -lglpk \
 *       -lz -lm -o build/int8_ratio
 *   ./build/int8_ratio models/lenet5_mnist.onnx \
 *       datasets/samples/mnist/t10k-images-idx3-ubyte.gz 9 5
 *   perf record -g ./build/int8_ratio models/lenet5_mnist.onnx \
 *       datasets/samples/mnist/t10k-images-idx3-ubyte.gz 1 200 int8
 *
 * Arguments: MODEL DATA REPS PASSES [int8|float]; a rep is PASSES passes
 * over the data per mode; prints the medians over the reps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/runner.h"
#include "eval/session.h"
#include "frontend/quantize.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Images per CPU second of `passes` passes, or < 0. */
static double rate(const xb_session *s, const xb_graph *g, int passes, xb_ctx *ctx) {
    xb_run_opts o;
    xb_run_opts_init(&o);
    o.threads = 1;
    xb_run_result r;
    int64_t n = 0;
    double t0 = cpu_now();
    for (int p = 0; p < passes; p++) {
        if (xb_run_dataset(g, xb_session_preproc(s), xb_session_data(s), &o, &r, ctx) != XB_OK)
            return -1;
        n += r.total;
    }
    return (double)n / (cpu_now() - t0);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL DATA REPS PASSES [int8|float]\n", argv[0]);
        return 2;
    }
    const int reps = atoi(argv[3]) < 1 ? 1 : atoi(argv[3]) > 64 ? 64 : atoi(argv[3]);
    const int passes = atoi(argv[4]) < 1 ? 1 : atoi(argv[4]);
    const char *only = argc > 5 ? argv[5] : NULL;
    xb_ctx ctx = {0};
    xb_session *s = NULL;
    xb_session_opts so = {.threads = 1, .progress = false, .profile_images = -1};
    xb_quant_opts qo = xb_quant_opts_default();
    const xb_graph *fg = NULL, *qg = NULL;
    if (xb_session_open(argv[1], &so, &s, &ctx) != XB_OK ||
        xb_session_open_data(s, argv[2], 0, &ctx) != XB_OK ||
        xb_session_choose_calibration(s, 100, &ctx) != XB_OK ||
        xb_session_quantize(s, &qo, &ctx) != XB_OK ||
        xb_session_float_run_graph(s, &fg, &ctx) != XB_OK) {
        fprintf(stderr, "%s\n", ctx.msg);
        xb_session_free(s);
        return 1;
    }
    qg = xb_session_int8_graph(s);
    double f[64], q[64], r[64];
    for (int k = 0; k < reps; k++) {
        f[k] = only && strcmp(only, "float") ? 0 : rate(s, fg, passes, &ctx);
        q[k] = only && strcmp(only, "int8") ? 0 : rate(s, qg, passes, &ctx);
        if (f[k] < 0 || q[k] < 0) {
            fprintf(stderr, "%s\n", ctx.msg);
            xb_session_free(s);
            return 1;
        }
        r[k] = f[k] > 0 ? q[k] / f[k] : 0;
    }
    qsort(f, (size_t)reps, sizeof *f, cmp);
    qsort(q, (size_t)reps, sizeof *q, cmp);
    qsort(r, (size_t)reps, sizeof *r, cmp);
    printf("%s: float %.0f int8 %.0f images per CPU second, int8/float %.2f (reps %.2f..%.2f)\n",
           argv[1], f[reps / 2], q[reps / 2], r[reps / 2], r[0], r[reps - 1]);
    xb_session_free(s);
    return 0;
}
