/* Throughput of the masked-row sgemm (xb_sgemm_rows_masked_ep, the tile
 * of the conv EDGE path) and of the same rows read unmasked
 * (xb_sgemm_rows), on hot data (rows in L1), in GMAC/s of thread CPU time,
 * best of 60 rounds.  The masks follow a 3 x 3 conv's tap columns:
 *   full  every row half whole (what xb_sgemm_rows reads);
 *   row   32-wide maps (a panel is one output row): the left tap cuts lane
 *         0 of the first half, the right tap lane 15 of the second;
 *   two   16-wide maps (two output rows per panel): the left and right
 *         taps cut a lane in both halves.
 *
 *   cmake --build build -j2
 *   gcc -O2 -I. tools/bench_tile_masked.c build/libxbar_kernels.a build/libxbar_runtime.a \
 *       -lm -o build/bench_tile_masked
 *   ./build/bench_tile_masked [M=16] [K=144]
 *
 * Best of many short rounds because the build machine is shared and its
 * neighbours' load comes and goes (docs/PERFORMANCE.md, session 12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/sgemm.h"

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Row k's masks for tap column k % 3 under pattern `pat`. */
static void masks(const char *pat, int64_t K, uint16_t *km) {
    for (int64_t k = 0; k < K; k++) {
        int64_t j = k % 3;
        uint16_t lo = 0xFFFF, hi = 0xFFFF;
        if (!strcmp(pat, "row")) {
            if (j == 0) lo = 0xFFFE;
            if (j == 2) hi = 0x7FFF;
        } else if (!strcmp(pat, "two")) {
            if (j == 0) lo = hi = 0xFFFE;
            if (j == 2) lo = hi = 0x7FFF;
        }
        km[2 * k] = lo, km[2 * k + 1] = hi;
    }
}

static double run(int64_t M, int64_t K, const float *Ap, const float *X, const int64_t *koff,
                  const uint16_t *km, float *C) {
    const long reps = 30000000 / (M * K) + 1;
    double best = 1e30;
    for (int r = 0; r < 60; r++) {
        double t0 = cpu_now();
        for (long i = 0; i < reps; i++) {
            if (km)
                xb_sgemm_rows_masked_ep(M, K, Ap, X, koff, km, C, XB_SGEMM_NR, XB_SGEMM_NR,
                                        false, NULL);
            else
                xb_sgemm_rows(M, K, Ap, X, koff, C, XB_SGEMM_NR, XB_SGEMM_NR, false);
        }
        double t = cpu_now() - t0;
        if (t < best) best = t;
    }
    return (double)reps * (double)(M * K * XB_SGEMM_NR) / best * 1e-9;
}

int main(int argc, char **argv) {
    int64_t M = argc > 1 ? atoi(argv[1]) : 16, K = argc > 2 ? atoi(argv[2]) : 144;
    if (M < 1 || K < 1) {
        fprintf(stderr, "usage: %s [M] [K]\n", argv[0]);
        return 2;
    }
    float *A = malloc(sizeof(float) * (size_t)(M * K));
    float *Ap = malloc(xb_sgemm_packed_a_bytes(M, K));
    float *X = calloc((size_t)(K * XB_SGEMM_NR), sizeof(float));
    float *C = malloc(sizeof(float) * (size_t)(M * XB_SGEMM_NR));
    int64_t *koff = malloc(sizeof(int64_t) * (size_t)K);
    uint16_t *km = malloc(sizeof(uint16_t) * (size_t)(2 * K));
    if (!A || !Ap || !X || !C || !koff || !km) return 1;
    for (int64_t i = 0; i < M * K; i++) A[i] = 0.1f * (float)(i % 7);
    for (int64_t i = 0; i < K * XB_SGEMM_NR; i++) X[i] = 0.1f * (float)(i % 5);
    for (int64_t k = 0; k < K; k++) koff[k] = k * XB_SGEMM_NR;
    xb_sgemm_pack_a(false, M, K, A, K, Ap);
    printf("M=%lld K=%lld, AVX-512 tile: %s\n", (long long)M, (long long)K,
           xb_sgemm_avx512_active() ? "yes" : "no");
    printf("  unmasked rows   %6.1f GMAC/s\n", run(M, K, Ap, X, koff, NULL, C));
    const char *pats[] = {"full", "row", "two"};
    for (int p = 0; p < 3; p++) {
        masks(pats[p], K, km);
        printf("  masked, %-5s   %6.1f GMAC/s\n", pats[p], run(M, K, Ap, X, koff, km, C));
    }
    free(A), free(Ap), free(X), free(C), free(koff), free(km);
    return 0;
}
