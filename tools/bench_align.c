/* What the activation buffers' placement costs float inference: one
 * process runs the graph `xbar run --mode float` runs (xb_float_run_graph)
 * on two execs of it, alternating rounds of R images between them:
 *   v0  as xb_exec_new places the buffers (on a cache line, runtime/exec.c);
 *   v1  each block moved to a buffer of its own: by default straight from
 *       calloc, as a8b1e78 placed them (16-byte aligned, so some blocks
 *       start mid-line); with OFFSET, OFFSET bytes past a page plus STAGGER
 *       bytes times the block's index (STAGGER 1088 puts the blocks on
 *       different lines of a page).
 * Prints each variant's best and median round (thread CPU time per image),
 * the output hashes (equal: placement changes no result) and each node's
 * fastest round.  In one process, alternating, because the shared VM's
 * speed swings by 10-30% within seconds, which separate runs of
 * tools/bench_float.c cannot see past for a few percent
 * (docs/PERFORMANCE.md, session 14).
 *
 *   cmake --build build -j2
 *   gcc -O2 -march=native -fopenmp -I. tools/bench_align.c build/libxbar_frontend.a \
 *       build/libxbar_kernels.a build/libxbar_runtime.a build/libonnx_pb.a \
 *       -lprotobuf-c -lpng -lcjson -lz -lm -o build/bench_align
 *   ./build/bench_align models/resnet20_cifar10.onnx [ROUNDS=60] [R=40] [OFFSET] [STAGGER=0]
 */
#include <stdint.h>
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

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Point every tensor of block k at a buffer of its own: calloc's when
 * `offset` is negative, else offset + k * stagger bytes past a page.  The
 * old buffers stay allocated (freed with the exec). */
static int move_blocks(const xb_graph *g, xb_exec *e, long offset, size_t stagger, void **mem) {
    for (int k = 0; k < e->n_blocks; k++) {
        size_t bytes = 1;
        for (int t = 0; t < g->n_tensors; t++)
            if (e->buf[t] == e->blocks[k] && !g->tensors[t].is_const) {
                size_t b = (size_t)xb_shape_numel(&g->tensors[t].shape) *
                           xb_dtype_size(g->tensors[t].dtype);
                if (b > bytes) bytes = b;
            }
        size_t shift = offset < 0 ? 0 : (size_t)offset + (size_t)k * stagger;
        if (!(mem[k] = calloc(offset < 0 ? bytes : bytes + 4095 + shift, 1))) return -1;
        char *p = offset < 0 ? (char *)mem[k]
                             : (char *)(((uintptr_t)mem[k] + 4095) & ~(uintptr_t)4095) + shift;
        printf("block %d: v0 at %lu, v1 at %lu bytes past a page\n", k,
               (unsigned long)((uintptr_t)e->blocks[k] % 4096), (unsigned long)((uintptr_t)p % 4096));
        for (int t = 0; t < g->n_tensors; t++)
            if (e->buf[t] == e->blocks[k] && !g->tensors[t].is_const) e->buf[t] = p;
    }
    return 0;
}

static unsigned out_hash(const xb_graph *g, const xb_exec *e) {
    const float *out = e->buf[g->outputs[0]];
    unsigned h = 0;
    for (int64_t i = 0; i < xb_shape_numel(&g->tensors[g->outputs[0]].shape); i++) {
        unsigned u;
        memcpy(&u, &out[i], sizeof u);
        h = h * 31 + u;
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.onnx [ROUNDS] [R] [OFFSET] [STAGGER]\n", argv[0]);
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 60, R = argc > 3 ? atoi(argv[3]) : 40;
    long offset = argc > 4 ? atol(argv[4]) : -1;
    size_t stagger = argc > 5 ? (size_t)atol(argv[5]) : 0;
    if (rounds < 1 || R < 1) return 2;
    xb_ctx ctx = {0};
    xb_graph *g0 = NULL, *g = NULL;
    if (xb_onnx_load(argv[1], 1, &g0, &ctx) != XB_OK || xb_float_run_graph(g0, &g, &ctx) != XB_OK) {
        fprintf(stderr, "%s\n", ctx.msg);
        return 1;
    }
    if (!g) g = g0;
    xb_exec *ev[2] = {xb_exec_new(g, &ctx), xb_exec_new(g, &ctx)};
    const int n = 16, N = g->n_nodes;
    int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    double *nmin = malloc(sizeof(double) * 2 * (size_t)N), *cur = malloc(sizeof(double) * (size_t)N);
    double *tot = malloc(sizeof(double) * 2 * (size_t)rounds);
    void **mem = ev[1] ? calloc((size_t)ev[1]->n_blocks + 1, sizeof(void *)) : NULL;
    if (!ev[0] || !ev[1] || !imgs || !nmin || !cur || !tot || !mem ||
        move_blocks(g, ev[1], offset, stagger, mem)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    uint64_t s = 1;
    for (int64_t i = 0; i < n * isz; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
    }
    for (int i = 0; i < 2 * N; i++) nmin[i] = 1e30;
    unsigned hash[2] = {0, 0};
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < 2; i++) {
            int v = r & 1 ? 1 - i : i; /* ABBA: neither goes first every time */
            memset(cur, 0, sizeof(double) * (size_t)N);
            double t0 = cpu_now();
            for (int im = 0; im < R; im++) {
                memcpy(ev[v]->buf[g->inputs[0]], imgs + (int64_t)(im % n) * isz,
                       (size_t)isz * sizeof(float));
                for (int k = 0; k < N; k++) {
                    double a = cpu_now();
                    if (xb_exec_run_range(ev[v], k, k + 1, &ctx) != XB_OK) {
                        fprintf(stderr, "%s\n", ctx.msg);
                        return 1;
                    }
                    cur[k] += cpu_now() - a;
                }
            }
            tot[v * rounds + r] = (cpu_now() - t0) / R;
            for (int k = 0; k < N; k++)
                if (cur[k] / R < nmin[v * N + k]) nmin[v * N + k] = cur[k] / R;
            hash[v] = out_hash(g, ev[v]);
        }
    printf("%s: %d rounds of %d images, v1 = blocks %s\n", argv[1], rounds, R,
           offset < 0 ? "from calloc" : "moved (see above)");
    for (int v = 0; v < 2; v++) {
        qsort(tot + v * rounds, (size_t)rounds, sizeof(double), cmp_double);
        printf("v%d: best %.1f us/img, median %.1f us/img, out-hash %08x\n", v, 1e6 * tot[v * rounds],
               1e6 * tot[v * rounds + rounds / 2], hash[v]);
    }
    printf("node   v0 min   v1 min  v1/v0\n");
    for (int k = 0; k < N; k++)
        printf("%3d %8.2f %8.2f %6.3f  %s\n", k, 1e6 * nmin[k], 1e6 * nmin[N + k],
               nmin[N + k] / nmin[k], g->nodes[k].name);
    for (int k = 0; k < ev[1]->n_blocks; k++) free(mem[k]);
    free(mem), free(tot), free(cur), free(nmin), free(imgs);
    xb_exec_free(ev[0]), xb_exec_free(ev[1]);
    if (g != g0) xb_graph_free(g);
    xb_graph_free(g0);
    return 0;
}
