/* Float inference cost by CPU time: the graph `xbar run --mode float` runs
 * (xb_float_run_graph: Conv + Add + Relu fused), one thread, 16 inputs
 * uniform in [-1, 1], images per second of thread CPU time (best of 5
 * rounds), a hash of the last output's bits (to check that a change keeps
 * the results), and with PER_NODE = 1 the CPU time of every node.
 *
 *   cmake --build build -j2
 *   gcc -O2 -march=native -fopenmp -I. tools/bench_float.c build/libxbar_frontend.a \
 *       build/libxbar_kernels.a build/libxbar_runtime.a build/libonnx_pb.a \
 *       -lprotobuf-c -lpng -lcjson -lz -lm -o build/bench_float
 *   ./build/bench_float models/resnet20_cifar10.onnx [IMAGES=200] [PER_NODE=0]
 *
 * Thread CPU time rather than wall time because the machine is shared: it
 * keeps other processes' time slices out (their cache pollution stays in).
 * Per-node times include a clock read per node (about a microsecond on this
 * VM), so small nodes look larger than they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/onnx.h"
#include "runtime/exec.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc < 2 ? stderr : stdout, "usage: %s MODEL.onnx [IMAGES] [PER_NODE]\n", argv[0]);
        return argc < 2 ? 2 : 0;
    }
    xb_ctx ctx = {0};
    xb_graph *g0 = NULL, *g = NULL;
    if (xb_onnx_load(argv[1], 1, &g0, &ctx) != XB_OK || xb_float_run_graph(g0, &g, &ctx) != XB_OK) {
        fprintf(stderr, "%s\n", ctx.msg);
        return 1;
    }
    if (!g) g = g0; /* nothing fused: the loaded graph is what runs */
    int images = argc > 2 ? atoi(argv[2]) : 200, per_node = argc > 3 && atoi(argv[3]);
    const int n = 16, per_round = images / 5 > 0 ? images / 5 : 1;
    int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 1;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
    xb_exec *e = xb_exec_new(g, &ctx);
    double *nt = calloc((size_t)g->n_nodes, sizeof(double));
    if (!imgs || !e || !nt) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = cpu_now();
        for (int r = 0; r < per_round; r++) {
            memcpy(e->buf[g->inputs[0]], imgs + (int64_t)(r % n) * isz, (size_t)isz * sizeof(float));
            for (int k = 0; k < (per_node ? g->n_nodes : 1); k++) {
                double a = cpu_now();
                xb_status st = per_node ? xb_exec_run_range(e, k, k + 1, &ctx) : xb_exec_run(e, &ctx);
                if (st != XB_OK) {
                    fprintf(stderr, "%s\n", ctx.msg);
                    return 1;
                }
                if (per_node) nt[k] += cpu_now() - a;
            }
        }
        double t = (cpu_now() - t0) / per_round;
        if (t < best) best = t;
    }
    const float *out = e->buf[g->outputs[0]];
    unsigned h = 0;
    for (int64_t i = 0; i < xb_shape_numel(&g->tensors[g->outputs[0]].shape); i++) {
        unsigned u;
        memcpy(&u, &out[i], sizeof u);
        h = h * 31 + u;
    }
    printf("%s: %.0f img/s (thread CPU time, best of 5)  out-hash %08x\n", argv[1], 1.0 / best, h);
    for (int k = 0; per_node && k < g->n_nodes; k++)
        printf("%3d %-18s %-44s %8.2f us\n", k, g->nodes[k].op_type, g->nodes[k].name,
               1e6 * nt[k] / (5.0 * per_round));
    xb_exec_free(e);
    if (g != g0) xb_graph_free(g);
    xb_graph_free(g0);
    free(nt);
    free(imgs);
    return 0;
}
