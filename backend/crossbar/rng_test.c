#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/rng.h"

/* FNV-1a over the bits of n floats. */
static uint64_t fnv_floats(const float *z, int64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &z[i], 4);
        h = (h ^ b) * 1099511628211ull;
    }
    return h;
}

/* The AVX-512 draws equal the portable loop bit for bit, for any start
 * (odd or even index, so both halves of a pair) and length (tails shorter
 * than 16 pairs go through the portable loop). */
Test(crossbar, rng_avx512_matches_portable) {
    if (!xb_rng_avx512_usable()) cr_skip_test("this CPU has no AVX-512F/DQ");
    enum { N = 70001 };
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    const uint64_t keys[] = {0, 1, 42, 0x9e3779b97f4a7c15ull, ~0ull};
    const uint64_t starts[] = {0, 1, 31, 32, 12345, (1ull << 40) + 3};
    const int64_t lens[] = {1, 2, 15, 31, 33, 1023, 1024, 1025, N};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        for (size_t s = 0; s < sizeof starts / sizeof *starts; s++)
            for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
                xb_fast_normals_impl(XB_RNG_PORTABLE, keys[k], starts[s], lens[l], a);
                xb_fast_normals_impl(XB_RNG_AVX512, keys[k], starts[s], lens[l], b);
                cr_assert_eq(memcmp(a, b, (size_t)lens[l] * sizeof *a), 0,
                             "key %zu start %zu len %lld", k, s, (long long)lens[l]);
            }
    /* The draws cover the whole range the transform can reach: the
     * extremes (k1 = 1 gives r = sqrt(2 ln 2^24) = 5.77) come out equal too. */
    float lo[32], hi[32];
    xb_normal_pairs_portable(7, 0, 16, lo);
    xb_normal_pairs_avx512(7, 0, 16, hi);
    cr_assert_eq(memcmp(lo, hi, sizeof lo), 0);
    free(a);
    free(b);
}

/* Same seeds, same results: the stream is the one read noise used before
 * the vectorised draws (FNV-1a of its bits, recorded from the portable
 * loop at commit 6f40f2a), whichever implementation the CPU selects. */
Test(crossbar, fast_normals_stream_is_pinned) {
    enum { N = 100003 };
    float *z = malloc(N * sizeof *z);
    xb_fast_normals(0x1234abcdull, 77, N, z);
    cr_assert_eq(fnv_floats(z, N), 0x749e4e47659e61deull);
    xb_fast_normals_impl(XB_RNG_PORTABLE, 0x1234abcdull, 77, N, z);
    cr_assert_eq(fnv_floats(z, N), 0x749e4e47659e61deull);
    free(z);
}
