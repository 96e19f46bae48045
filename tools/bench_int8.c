/* int8 (PTQ, XbarQConv/XbarQGemm on the reference kernels) against float:
 * single-thread images per second of thread CPU time, same 64 inputs.
 *
 *   cmake --build build -j2
 *   gcc -O3 -march=native -fopenmp -I. tools/bench_int8.c build/libxbar_core.a \
 *       build/libonnx_pb.a -lprotobuf-c -lpng -lcjson -lz -lm -o build/bench_int8
 *   ./build/bench_int8 models/lenet5_mnist.onnx 30
 *
 * Thread CPU time rather than wall time because the build machine is shared:
 * it keeps other processes' time slices out of the measurement (their cache
 * pollution stays in).  Inputs are uniform in [-1, 1]; speed does not depend
 * on the values.  Calibration uses the first 16 of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/onnx.h"
#include "runtime/exec.h"
#include "frontend/quantize.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double images_per_s(const xb_graph *g, const float *imgs, int n, int64_t isz, int reps) {
    xb_ctx ctx = {0};
    xb_exec *e = xb_exec_new(g, &ctx);
    if (!e) {
        fprintf(stderr, "%s\n", ctx.msg);
        exit(1);
    }
    double t0 = cpu_now();
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            memcpy(e->buf[g->inputs[0]], imgs + (int64_t)i * isz, (size_t)isz * sizeof(float));
            if (xb_exec_run(e, &ctx) != XB_OK) {
                fprintf(stderr, "%s\n", ctx.msg);
                exit(1);
            }
        }
    double t = cpu_now() - t0;
    xb_exec_free(e);
    return reps * n / t;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.onnx [REPS]\n", argv[0]);
        return 2;
    }
    xb_ctx ctx = {0};
    xb_graph *g = NULL, *q = NULL;
    if (xb_onnx_load(argv[1], 1, &g, &ctx) != XB_OK) {
        fprintf(stderr, "%s\n", ctx.msg);
        return 1;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    const int n = 64;
    int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 1;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
    if (xb_quantize_default(g, imgs, 16, &q, &ctx) != XB_OK) {
        fprintf(stderr, "%s\n", ctx.msg);
        return 1;
    }
    double f = images_per_s(g, imgs, n, isz, reps), i8 = images_per_s(q, imgs, n, isz, reps);
    printf("%s: float %.0f img/s, int8 %.0f img/s, int8/float %.2f\n", argv[1], f, i8, i8 / f);
    xb_graph_free(q);
    xb_graph_free(g);
    free(imgs);
    return 0;
}
