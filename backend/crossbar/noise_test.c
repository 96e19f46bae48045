#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/internal.h"
#include "backend/crossbar/noise.h"

/* xb_stat_floats books exactly what stat_value does value by value: ties
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
        xb_stat_floats(&b, v, 17);
        xb_stat_floats(&b, v + 17, N - 17);
        cr_assert_eq(a.observed, b.observed);
        cr_assert_eq(a.zeros, b.zeros);
        cr_assert_eq(a.max_abs, b.max_abs);
        cr_assert_eq(memcmp(a.hist, b.hist, (size_t)a.hist_bins * sizeof(int64_t)), 0);
        free(a.hist);
        free(b.hist);
    }
    free(v);
}
