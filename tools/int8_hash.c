/* FNV-1a hash of the int8 logits of N pseudo-random inputs (calibrated on
 * the first 16 with xb_quantize_default), to check that a kernel change
 * keeps every bit: build it against two trees and compare the lines.
 * XBAR_PORTABLE=1 forces the portable kernels (kernels/igemm.h).
 *
 *   cmake --build build -j2
 *   gcc -O3 -march=native -fopenmp -I. -Ibuild/gen tools/int8_hash.c build/libxbar_frontend.a \
 *       build/libxbar_kernels.a build/libxbar_runtime.a build/libonnx_pb.a -lprotobuf-c -lz -lm \
 *       -o build/int8_hash
 *   ./build/int8_hash models/resnet20_cifar10.onnx 64
 *
 * (For a tree older than the run-time dispatch, add -DXB_NO_ISA_SWITCH.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frontend/onnx.h"
#include "runtime/exec.h"
#include "frontend/quantize.h"
#ifndef XB_NO_ISA_SWITCH
#include "kernels/igemm.h"
#endif
int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.onnx [N]\n", argv[0]);
        return 2;
    }
#ifndef XB_NO_ISA_SWITCH
    if (getenv("XBAR_PORTABLE")) xb_igemm_set_portable(true);
#endif
    xb_ctx ctx = {0}; xb_graph *g = NULL, *q = NULL;
    if (xb_onnx_load(argv[1], 1, &g, &ctx) != XB_OK) { fprintf(stderr, "%s\n", ctx.msg); return 1; }
    const int n = argc > 2 ? atoi(argv[2]) : 64;
    int64_t isz = xb_shape_numel(&g->tensors[g->inputs[0]].shape);
    float *imgs = malloc((size_t)(n * isz) * sizeof(float));
    uint64_t s = 1;
    for (int64_t i = 0; i < n * isz; i++) { s = s * 6364136223846793005ULL + 1442695040888963407ULL; imgs[i] = (float)((s >> 40) % 2001) / 1000.0f - 1.0f; }
    if (xb_quantize_default(g, imgs, 16, &q, &ctx) != XB_OK) { fprintf(stderr, "%s\n", ctx.msg); return 1; }
    xb_exec *e = xb_exec_new(q, &ctx);
    int out = q->outputs[0]; int64_t osz = xb_shape_numel(&q->tensors[out].shape);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) {
        memcpy(e->buf[q->inputs[0]], imgs + (int64_t)i * isz, (size_t)isz * sizeof(float));
        if (xb_exec_run(e, &ctx) != XB_OK) { fprintf(stderr, "%s\n", ctx.msg); return 1; }
        const unsigned char *b = (const unsigned char *)e->buf[out];
        for (int64_t k = 0; k < osz * 4; k++) h = (h ^ b[k]) * 1099511628211ULL;
    }
    printf("%s %016llx\n", argv[1], (unsigned long long)h);
    return 0;
}
