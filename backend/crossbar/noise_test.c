#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/internal.h"
#include "backend/crossbar/noise.h"
#include "backend/crossbar/rng.h"

/* xb_stat_floats_batched books exactly what stat_value does value by value: ties
 * (x.5, -x.5, rounded away from zero), zeros and -0, values past either end
 * of the histogram, huge values and NaN (llround's own answer), with bins
 * of width 1 and wider bins. */
Test(crossbar, stat_floats_matches_stat_value) {
    enum { N = 5003 };
    float *v = malloc(N * sizeof *v);
    uint64_t st = 99;
    for (int i = 0; i < N; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)((st >> 33) % 2000) - 1000;
        switch (i % 7) {
        case 0: v[i] = (float)k + 0.5f; break;
        case 1: v[i] = (float)k - 0.5f; break;
        case 2: v[i] = (float)k * 0.37f; break;
        case 3: v[i] = i % 2 ? 0.0f : -0.0f; break;
        case 4: v[i] = (float)k * 1e-3f; break;
        default: v[i] = (float)k * 0.999f;
        }
    }
    v[10] = 3e15f;
    v[11] = -7e17f;
    v[12] = 0.49999997f;
    v[13] = -0.49999997f;
    const int64_t los[2] = {-1000, 0}, widths[2] = {1, 3};
    for (int t = 0; t < 2; t++) {
        xb_crossbar_stats a, b;
        memset(&a, 0, sizeof a);
        a.hist_lo = los[t];
        a.hist_width = widths[t];
        a.hist_bins = (int)(800 / widths[t]);
        a.max_abs = 2;
        b = a;
        a.hist = calloc((size_t)a.hist_bins, sizeof(int64_t));
        b.hist = calloc((size_t)b.hist_bins, sizeof(int64_t));
        for (int i = 0; i < N; i++) stat_value(&a, (double)v[i]);
        xb_stat_floats_batched(&b, v, 17);
        xb_stat_floats_batched(&b, v + 17, N - 17);
        cr_assert_eq(a.observed, b.observed);
        cr_assert_eq(a.zeros, b.zeros);
        cr_assert_eq(a.max_abs, b.max_abs);
        cr_assert_eq(memcmp(a.hist, b.hist, (size_t)a.hist_bins * sizeof(int64_t)), 0);
        free(a.hist);
        free(b.hist);
    }
    free(v);
}

/* xb_noise_add_var equals the scalar loop it replaced in convert.c (the
 * column current, floored at 0 for float sums, plus the row term, in that
 * order), for integer and float sums, with and without the signed pair's
 * second column, each term on or off, lengths across its tile size. */
Test(crossbar, noise_add_var_matches_scalar_loop) {
    enum { N = 1300 };
    static int32_t si[2 * N], nsq[N];
    static float sf[2 * N], z[N], v0[N], v1[N];
    uint64_t st = 5;
    for (int i = 0; i < 2 * N; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        si[i] = (int32_t)((st >> 33) % 700);
        sf[i] = (float)((int64_t)((st >> 20) % 90001) - 10000) * 0.0173f;
        if (i < N) {
            nsq[i] = (int32_t)((st >> 40) % 129);
            z[i] = (float)((int64_t)((st >> 8) % 20001) - 10000) * 3.1e-4f;
        }
    }
    const float e2s[2] = {0, 0.0025f}, r2s[2] = {0, 0.01f};
    const int64_t lens[3] = {1, 511, N};
    for (int kind = 0; kind < 4; kind++) /* int, int pair, float, float pair */
        for (int e = 0; e < 2; e++)
            for (int r = 0; r < 2; r++)
                for (int t = 0; t < 3; t++) {
                    int64_t n = lens[t];
                    bool pair = kind & 1, ints = kind < 2;
                    float a2 = 0.3f, e2 = e2s[e], r2 = r2s[r];
                    for (int64_t i = 0; i < n; i++) {
                        v0[i] = v1[i] = (float)i * 0.5f;
                        float var = a2;
                        if (e2 > 0) {
                            float c;
                            if (ints) c = (float)(pair ? si[i] + si[i + N] : si[i]);
                            else {
                                float w = pair ? sf[i] + sf[i + N] : sf[i];
                                c = w > 0 ? w : 0;
                            }
                            var += e2 * c;
                        }
                        if (r2 > 0) var += r2 * (float)nsq[i];
                        v0[i] += sqrtf(var) * z[i];
                    }
                    xb_noise_var nv = {.a2 = a2, .e2 = e2, .r2 = r2, .nsq = nsq};
                    if (ints) {
                        nv.S.Si = si;
                        nv.S.Si2 = pair ? si + N : NULL;
                    } else {
                        nv.S.Sf = sf;
                        nv.S.Sf2 = pair ? sf + N : NULL;
                    }
                    xb_noise_add_var(&nv, z, n, v1);
                    cr_assert_eq(memcmp(v0, v1, (size_t)n * sizeof(float)), 0,
                                 "kind %d e %d r %d n %lld", kind, e, r, (long long)n);
                }
}

/* xb_noise_add: values and tiled draws in one pass give what convert.c
 * computed before, the values first, then all draws into one buffer and
 * added; integer and float sums, with and without a signed pair's second
 * column, starts that are odd and even, lengths across the tile. */
Test(crossbar, noise_add_matches_buffered_draws) {
    enum { N = 3001 };
    static int32_t si[2 * N];
    static float sf[2 * N], z[N], v0[N], v1[N];
    for (int i = 0; i < 2 * N; i++) {
        si[i] = (i * 7919) % 513;
        sf[i] = (float)((i * 104729) % 9001) * 0.0371f - 30.0f;
    }
    const int64_t lens[3] = {1, 1024, N};
    for (int kind = 0; kind < 4; kind++)
        for (int64_t start = 0; start < 3; start++)
            for (int t = 0; t < 3; t++) {
                int64_t n = lens[t];
                bool pair = kind & 1, ints = kind < 2;
                uint64_t idx0 = (uint64_t)start * 1001;
                for (int64_t i = 0; i < n; i++)
                    v0[i] = ints ? (float)(pair ? si[i] - si[i + N] : si[i])
                                 : (pair ? sf[i] - sf[i + N] : sf[i]);
                xb_fast_normals(77, idx0, n, z);
                for (int64_t i = 0; i < n; i++) v0[i] += 0.7f * z[i];
                xb_col_sums cs = {0};
                if (ints) {
                    cs.Si = si;
                    cs.Si2 = pair ? si + N : NULL;
                } else {
                    cs.Sf = sf;
                    cs.Sf2 = pair ? sf + N : NULL;
                }
                xb_noise_add(77, idx0, n, 0.7f, &cs, v1);
                cr_assert_eq(memcmp(v0, v1, (size_t)n * sizeof(float)), 0, "kind %d start %lld n %lld",
                             kind, (long long)start, (long long)n);
            }
}

/* xb_noise_add_rows equals xb_noise_add_var run column by column with no
 * current term (what convert.c's add_read_noise did before), with the row
 * term on and off, lengths across the tile, one to three columns. */
Test(crossbar, noise_add_rows_matches_per_column) {
    enum { N = 1300, C = 3 };
    static int32_t nsq[N];
    static float z[C * N], v0[C * N], v1[C * N];
    uint64_t st = 11;
    for (int i = 0; i < C * N; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        if (i < N) nsq[i] = (int32_t)((st >> 40) % 129);
        z[i] = (float)((int64_t)((st >> 8) % 20001) - 10000) * 3.1e-4f;
    }
    const float r2s[2] = {0, 0.36f};
    const int64_t lens[3] = {1, 511, N};
    for (int r = 0; r < 2; r++)
        for (int t = 0; t < 3; t++)
            for (int64_t ncol = 1; ncol <= C; ncol++) {
                int64_t n = lens[t];
                for (int64_t i = 0; i < ncol * n; i++) v0[i] = v1[i] = (float)i * 0.25f - 7.0f;
                xb_noise_var nv = {.a2 = 0.04f, .e2 = 0, .r2 = r2s[r], .nsq = nsq};
                for (int64_t cc = 0; cc < ncol; cc++) xb_noise_add_var(&nv, z + cc * n, n, v0 + cc * n);
                xb_noise_add_rows(0.04f, r2s[r], nsq, z, n, ncol, v1);
                cr_assert_eq(memcmp(v0, v1, (size_t)(ncol * n) * sizeof(float)), 0,
                             "r %d n %lld ncol %lld", r, (long long)n, (long long)ncol);
            }
}
