/* Column sums of 1-bit input digits against 2-bit cells, three ways, on
 * this CPU: S[c][p] = sum_r x[r][p] lev[r][c] over a 128-row block.
 *
 *   popcount  what backend/crossbar/bitsums*.c do: the rows' bits of 16
 *             positions in four 32-bit words, AND with each column's two
 *             level planes, VPOPCNTD, add (24 vector operations per 16
 *             conversions);
 *   vpermb    a 64-entry table per (column, 6-row chunk) indexed by the 6
 *             input bits of 64 positions at once (VBMI VPERMB), 22 chunks
 *             per 128 rows, byte sums widened at the end;
 *   vpshufb   16-entry tables per (column, 4-row nibble) with VPSHUFB,
 *             32 nibbles per 128 rows.
 *
 * The question it answers (docs/PERFORMANCE.md, session 11): whether table
 * lookups form the sums of the lossy and noisy paths with fewer cycles than
 * the bit-plane popcounts.  All three must give the same sums (checked);
 * the figure is thread CPU ns per conversion, best of 5 rounds, the sums
 * consumed in registers (as the fused kernels do) rather than stored.
 *
 *   gcc -O2 -std=c11 -Wall -Wextra tools/bench_colsums.c -o build/bench_colsums
 *   ./build/bench_colsums [C P density]      (default 64 1024 0.4)
 *
 * Needs AVX-512 F/BW/VBMI/VPOPCNTDQ (checked at run time). */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWS 128
#define TGT __attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vpopcntdq")))

static int C = 64, P = 1024;
static uint8_t *lev, *x;           /* lev[r][c] in 0..3, x[r][p] in 0..1 */
static uint32_t *mask, *L0, *L1;   /* [P][4], [C][4], [C][4]: 32 rows a word */
static uint8_t *idx6, *T6;         /* [22][P], [C][22][64] */
static uint8_t *idx4, *T4;         /* [32][P], [C][32][64] (16 entries x 4 lanes) */
static uint16_t *S[3];             /* [C][P] per method, for the check */
static int store;                  /* store the sums (check) or fold them (timing) */
static volatile uint32_t sink_out;

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

TGT static __m512i out16(__m512i sink, uint16_t *dst, __m512i lo, __m512i hi) {
    if (store) {
        _mm512_storeu_si512(dst, lo);
        _mm512_storeu_si512(dst + 32, hi);
        return sink;
    }
    return _mm512_xor_si512(sink, _mm512_xor_si512(lo, hi));
}

/* Two byte accumulators (each <= 255) widened to 64 sums in two u16 vectors. */
TGT static void widen(__m512i a, __m512i b, __m512i *lo, __m512i *hi) {
    *lo = _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(a)),
                           _mm512_cvtepu8_epi16(_mm512_castsi512_si256(b)));
    *hi = _mm512_add_epi16(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(a, 1)),
                           _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(b, 1)));
}

TGT static void k_popcount(void) {
    __m512i sink = _mm512_setzero_si512();
    const __m512i lane4 = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(4));
    for (int p = 0; p < P; p += 16) {
        __m512i m[4];
        for (int w = 0; w < 4; w++)
            m[w] = _mm512_i32gather_epi32(_mm512_add_epi32(lane4, _mm512_set1_epi32(p * 4 + w)), mask, 4);
        for (int c = 0; c < C; c++) {
            __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();
            for (int w = 0; w < 4; w++) {
                a = _mm512_add_epi32(a, _mm512_popcnt_epi32(_mm512_and_si512(m[w], _mm512_set1_epi32((int)L0[c * 4 + w]))));
                b = _mm512_add_epi32(b, _mm512_popcnt_epi32(_mm512_and_si512(m[w], _mm512_set1_epi32((int)L1[c * 4 + w]))));
            }
            a = _mm512_add_epi32(a, _mm512_slli_epi32(b, 1));
            if (store) _mm256_storeu_si256((__m256i *)(S[0] + (size_t)c * P + p), _mm512_cvtepi32_epi16(a));
            else sink = _mm512_xor_si512(sink, a);
        }
    }
    sink_out = (uint32_t)_mm512_reduce_add_epi32(sink);
}

TGT static void k_vpermb(void) {
    __m512i sink = _mm512_setzero_si512();
    for (int p = 0; p < P; p += 64) {
        __m512i ix[22];
        for (int j = 0; j < 22; j++) ix[j] = _mm512_loadu_si512(idx6 + (size_t)j * P + p);
        for (int c = 0; c < C; c++) {
            const uint8_t *t = T6 + (size_t)c * 22 * 64;
            __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512(), lo, hi;
            for (int j = 0; j < 11; j++) /* <= 11 x 18 = 198: bytes */
                a = _mm512_add_epi8(a, _mm512_permutexvar_epi8(ix[j], _mm512_loadu_si512(t + 64 * j)));
            for (int j = 11; j < 22; j++)
                b = _mm512_add_epi8(b, _mm512_permutexvar_epi8(ix[j], _mm512_loadu_si512(t + 64 * j)));
            widen(a, b, &lo, &hi);
            sink = out16(sink, S[1] + (size_t)c * P + p, lo, hi);
        }
    }
    sink_out = (uint32_t)_mm512_reduce_add_epi32(sink);
}

/* Tables in registers per column (16 at a time), positions streamed. */
TGT static void k_vpshufb(uint8_t *half0) {
    __m512i sink = _mm512_setzero_si512();
    for (int c = 0; c < C; c++)
        for (int h = 0; h < 2; h++) {
            __m512i tb[16];
            for (int j = 0; j < 16; j++) tb[j] = _mm512_loadu_si512(T4 + ((size_t)c * 32 + h * 16 + j) * 64);
            for (int p = 0; p < P; p += 64) {
                __m512i a = _mm512_setzero_si512(), lo, hi;
                for (int j = 0; j < 16; j++) /* <= 16 x 12 = 192 */
                    a = _mm512_add_epi8(a, _mm512_shuffle_epi8(tb[j], _mm512_loadu_si512(idx4 + (size_t)(h * 16 + j) * P + p)));
                if (!h) {
                    _mm512_storeu_si512(half0 + p, a);
                    continue;
                }
                widen(a, _mm512_loadu_si512(half0 + p), &lo, &hi);
                sink = out16(sink, S[2] + (size_t)c * P + p, lo, hi);
            }
        }
    sink_out = (uint32_t)_mm512_reduce_add_epi32(sink);
}

static void setup(double density) {
    lev = malloc((size_t)ROWS * C);
    x = malloc((size_t)ROWS * P);
    mask = calloc((size_t)P * 4, 4);
    L0 = calloc((size_t)C * 4, 4);
    L1 = calloc((size_t)C * 4, 4);
    idx6 = calloc((size_t)22 * P, 1);
    T6 = calloc((size_t)C * 22 * 64, 1);
    idx4 = calloc((size_t)32 * P, 1);
    T4 = calloc((size_t)C * 32 * 64, 1);
    for (int i = 0; i < 3; i++) S[i] = calloc((size_t)C * P, 2);
    for (int i = 0; i < ROWS * C; i++) lev[i] = (uint8_t)(rnd() & 3);
    for (size_t i = 0; i < (size_t)ROWS * P; i++) x[i] = (rnd() % 1000) < (uint64_t)(density * 1000);
    for (int p = 0; p < P; p++)
        for (int r = 0; r < ROWS; r++)
            if (x[(size_t)r * P + p]) mask[p * 4 + r / 32] |= 1u << (r % 32);
    for (int c = 0; c < C; c++)
        for (int r = 0; r < ROWS; r++) {
            if (lev[r * C + c] & 1) L0[c * 4 + r / 32] |= 1u << (r % 32);
            if (lev[r * C + c] & 2) L1[c * 4 + r / 32] |= 1u << (r % 32);
        }
    for (int j = 0; j < 22; j++)
        for (int p = 0; p < P; p++) {
            int v = 0;
            for (int r = 0; r < 6 && 6 * j + r < ROWS; r++) v |= x[(size_t)(6 * j + r) * P + p] << r;
            idx6[(size_t)j * P + p] = (uint8_t)v;
        }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < 22; j++)
            for (int v = 0; v < 64; v++) {
                int t = 0;
                for (int r = 0; r < 6 && 6 * j + r < ROWS; r++)
                    if (v >> r & 1) t += lev[(6 * j + r) * C + c];
                T6[((size_t)c * 22 + j) * 64 + v] = (uint8_t)t;
            }
    for (int j = 0; j < 32; j++)
        for (int p = 0; p < P; p++) {
            int v = 0;
            for (int r = 0; r < 4; r++) v |= x[(size_t)(4 * j + r) * P + p] << r;
            idx4[(size_t)j * P + p] = (uint8_t)v;
        }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < 32; j++)
            for (int v = 0; v < 64; v++) {
                int t = 0;
                for (int r = 0; r < 4; r++)
                    if ((v & 15) >> r & 1) t += lev[(4 * j + r) * C + c];
                T4[((size_t)c * 32 + j) * 64 + v] = (uint8_t)t;
            }
}

int main(int argc, char **argv) {
    if (argc > 1) C = atoi(argv[1]);
    if (argc > 2) P = atoi(argv[2]);
    double density = argc > 3 ? atof(argv[3]) : 0.4;
    if (C < 1 || P < 64 || P % 64 || density < 0 || density > 1) {
        fprintf(stderr, "usage: bench_colsums [C >= 1] [P, a multiple of 64] [density 0..1]\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vbmi") ||
        !__builtin_cpu_supports("avx512vpopcntdq")) {
        fprintf(stderr, "bench_colsums: needs AVX-512 BW, VBMI and VPOPCNTDQ\n");
        return 2;
    }
    setup(density);
    uint8_t *half0 = aligned_alloc(64, (size_t)P);
    store = 1;
    k_popcount();
    k_vpermb();
    k_vpshufb(half0);
    int eq1 = !memcmp(S[0], S[1], (size_t)C * P * 2), eq2 = !memcmp(S[0], S[2], (size_t)C * P * 2);
    store = 0;
    int reps = (int)(200000000 / ((double)C * P)) + 1;
    double best[3] = {1e9, 1e9, 1e9};
    for (int round = 0; round < 5; round++)
        for (int k = 0; k < 3; k++) {
            double t = cpu_now();
            for (int i = 0; i < reps; i++) {
                if (k == 0) k_popcount();
                else if (k == 1) k_vpermb();
                else k_vpshufb(half0);
            }
            t = (cpu_now() - t) / reps;
            if (t < best[k]) best[k] = t;
        }
    double n = (double)C * P * 1e-9;
    printf("C=%d P=%d density %.2f: ns per conversion: popcount %.3f, vpermb %.3f (%s), vpshufb %.3f "
           "(%s); popcount time / table time: %.2fx, %.2fx\n",
           C, P, density, best[0] / n, best[1] / n, eq1 ? "same sums" : "SUMS DIFFER", best[2] / n,
           eq2 ? "same sums" : "SUMS DIFFER", best[0] / best[1], best[0] / best[2]);
    free(half0);
    return eq1 && eq2 ? 0 : 1;
}
