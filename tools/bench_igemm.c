/* Throughput of the packed int8 kernel (xb_igemm_packed) on the matrix
 * shapes of the CIFAR and MNIST nets, in GMAC/s of thread CPU time, on the
 * instruction set the run-time dispatch picks (kernels/igemm.h); with
 * XBAR_PORTABLE=1 in the environment, on the portable kernel.
 *
 *   gcc -O3 -march=native -I. tools/bench_igemm.c kernels/igemm.c kernels/igemm_vnni.c \
 *       kernels/igemm_avxvnni.c -o build/bench_igemm
 *   ./build/bench_igemm
 *
 * Thread CPU time because the build machine is shared (docs/PERFORMANCE.md). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/igemm.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    /* K, N, P: ResNet-20 (first conv, the three stages, a 3x3 at stage 2
     * with 16 inputs), a wider layer, LeNet-5's conv2. */
    static const int shapes[][3] = {{27, 16, 1024}, {144, 16, 1024}, {288, 32, 256}, {576, 64, 64},
                                    {144, 32, 256}, {576, 64, 256}, {1152, 128, 64}, {150, 16, 100}};
    if (getenv("XBAR_PORTABLE")) xb_igemm_set_portable(true);
    printf("kernel: %s\n", xb_igemm_isa_name(xb_igemm_isa_used()));
    uint64_t s = 1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int K = shapes[i][0], N = shapes[i][1], P = shapes[i][2];
        int8_t *w = malloc((size_t)K * N), *wp = malloc(xb_igemm_wpack_bytes(K, N));
        uint8_t *x = malloc((size_t)K * P), *xp = malloc(xb_igemm_xpack_bytes(K, P));
        int32_t *acc = malloc((size_t)N * P * sizeof(int32_t));
        for (int j = 0; j < K * N; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            w[j] = (int8_t)((int)(s >> 56) % 127);
        }
        for (int j = 0; j < K * P; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            x[j] = (uint8_t)(s >> 56);
        }
        xb_igemm_pack_w(w, K, N, wp);
        xb_igemm_pack_x(x, K, P, xp);
        long reps = (long)(2e9 / ((double)K * N * P));
        if (reps < 1) reps = 1;
        double t0 = cpu_now();
        for (long r = 0; r < reps; r++) xb_igemm_packed(wp, xp, K, N, P, acc);
        double t = cpu_now() - t0;
        printf("K=%5d N=%4d P=%5d  %6.1f GMAC/s\n", K, N, P, (double)K * N * P * reps / t * 1e-9);
        free(w), free(wp), free(x), free(xp), free(acc);
    }
    return 0;
}
