#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/dnoise.h"
#include "backend/crossbar/internal.h"

/* Standard normal CDF. */
static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* The table is the discretized normal P(n = k) = Phi((k + 1/2) / sigma) -
 * Phi((k - 1/2) / sigma), to the 2^-32 the 32-bit draws resolve (and the
 * tails it drops are below that), and its pmf sums to 1 exactly. */
Test(crossbar, dnoise_table_is_the_discretized_normal) {
    static const double sig[] = {0.05, 0.3, 0.5, 1.0, 2.0, 4.0};
    for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
        xb_dnoise d;
        cr_assert(xb_dnoise_init(&d, sig[i]), "sigma %g", sig[i]);
        double tot = 0;
        for (int k = -d.kmax - 2; k <= d.kmax + 2; k++) {
            double want = Phi((k + 0.5) / sig[i]) - Phi((k - 0.5) / sig[i]);
            double got = xb_dnoise_pmf(&d, k);
            cr_assert_leq(fabs(got - want), 0x1p-31, "sigma %g k %d: %.3g vs %.3g", sig[i], k,
                          got, want);
            tot += got;
        }
        cr_assert_eq(tot, 1.0, "sigma %g: pmf sums to %.17g", sig[i], tot);
    }
    xb_dnoise d;
    cr_assert_not(xb_dnoise_init(&d, 0));
    cr_assert_not(xb_dnoise_init(&d, NAN));
    cr_assert_not(xb_dnoise_init(&d, 50.0)); /* support past XB_DNOISE_KMAX */
}

/* Chi-square of 2^21 draws (fixed seed, many streams and positions)
 * against the table's pmf, for several sigma: the draws follow the law
 * they are meant to.  Bins with an expected count under 20 are merged into
 * their neighbour towards 0; the bound is the 1e-6 upper quantile
 * (Wilson-Hilferty), so a correct generator fails with probability 1e-6. */
Test(crossbar, dnoise_draws_follow_the_pmf) {
    static const double sig[] = {0.3, 0.5, 1.0, 2.0};
    enum { NDRAW = 1 << 21 };
    for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
        xb_dnoise d;
        cr_assert(xb_dnoise_init(&d, sig[i]));
        int K = d.kmax;
        int64_t *cnt = calloc((size_t)(2 * K + 1), sizeof *cnt);
        for (int64_t t = 0; t < NDRAW; t++) {
            /* 64 streams (block keys x columns x digits), 32768 positions each */
            uint64_t key = xb_dnoise_stream(0x1234567ull * (uint64_t)(t >> 18), (t >> 15) & 7, 8,
                                            (int)((t >> 15) & 7));
            int32_t n = xb_dnoise_value(&d, xb_dnoise_bits(key, (uint64_t)(t & 32767)));
            cr_assert(n >= -K && n <= K);
            cnt[n + K]++;
        }
        double chi2 = 0;
        int df = -1;
        /* merge from each end inwards while the expected count is small */
        double eo = 0, ee = 0;
        for (int k = -K; k < 0; k++) {
            eo += (double)cnt[k + K];
            ee += xb_dnoise_pmf(&d, k) * NDRAW;
            if (ee >= 20) chi2 += (eo - ee) * (eo - ee) / ee, df++, eo = ee = 0;
        }
        double fo = eo, fe = ee; /* the left remainder joins bin 0 */
        eo = ee = 0;
        for (int k = K; k > 0; k--) {
            eo += (double)cnt[k + K];
            ee += xb_dnoise_pmf(&d, k) * NDRAW;
            if (ee >= 20) chi2 += (eo - ee) * (eo - ee) / ee, df++, eo = ee = 0;
        }
        fo += eo + (double)cnt[K];
        fe += ee + xb_dnoise_pmf(&d, 0) * NDRAW;
        chi2 += (fo - fe) * (fo - fe) / fe;
        df++;
        cr_assert_geq(df, 2, "sigma %g", sig[i]);
        double z = 4.753, h = 2.0 / (9.0 * df);
        double crit = df * pow(1 - h + z * sqrt(h), 3);
        cr_assert_lt(chi2, crit, "sigma %g: chi2 %.2f over %d df (bound %.2f)", sig[i], chi2, df,
                     crit);
        free(cnt);
    }
}

/* Small deterministic generator for test data (not the one under test). */
static uint64_t st = 4242;
static uint32_t rnd(void) {
    st = st * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(st >> 33);
}

/* The AVX-512 column and the portable loop give the same integers (acc,
 * the values before the clamp, saturation count) for random sums, signed
 * pairs, zero runs, partial last steps, several sigma and code ranges;
 * and the same draws as xb_dnoise_bits one by one. */
Test(crossbar, dnoise_avx512_matches_portable) {
    if (!xb_dnoise_avx512_usable()) cr_skip_test("no AVX-512F/DQ on this CPU");
    /* kmax 1, 2, 3, 4 (thresholds in registers), 8 and 19 (read from the table) */
    static const double sig[] = {0.2, 0.35, 0.5, 0.65, 1.3, 3.0};
    static const int kmax[] = {1, 2, 3, 4, 8, 19};
    for (int it = 0; it < 300; it++) {
        xb_dnoise d;
        cr_assert(xb_dnoise_init(&d, sig[it % 6]));
        cr_assert_eq(d.kmax, kmax[it % 6]);
        int J = 1 + (int)(rnd() % 8), dsh = 1 + (int)(rnd() % 2);
        int64_t pt = 1 + rnd() % 70, nruns = (pt + 15) / 16, cols = J * pt;
        bool pair = rnd() & 1, lossless = (rnd() % 4) == 0;
        int32_t *Sp = malloc((size_t)cols * 4), *Sn = malloc((size_t)cols * 4);
        int32_t *a1 = malloc((size_t)pt * 4), *a2 = malloc((size_t)pt * 4);
        int32_t *p1 = malloc((size_t)cols * 4), *p2 = malloc((size_t)cols * 4);
        uint8_t *zero = malloc((size_t)(J * nruns));
        for (int64_t i = 0; i < cols; i++) {
            Sp[i] = (rnd() & 3) ? (int32_t)(rnd() % 300) : (int32_t)(rnd() % 3);
            Sn[i] = (int32_t)(rnd() % 300);
        }
        for (int64_t i = 0; i < J * nruns; i++) zero[i] = (rnd() % 3) == 0;
        xb_dnoise_col a = {.d = &d, .lo = pair ? -128 : 0, .hi = pair ? 127 : 255, .J = J,
                           .dshift = dsh, .pt = pt, .p0 = 2 * (int64_t)(rnd() % 1000)};
        if (lossless) a.lo = INT32_MIN, a.hi = INT32_MAX;
        uint64_t kr = ((uint64_t)rnd() << 32) | rnd();
        int64_t cc = rnd() % 50;
        const uint8_t *zf = (rnd() & 1) ? zero : NULL;
        int64_t s1 = xb_dnoise_column_impl(XB_DNOISE_PORTABLE, &a, kr, cc, Sp, pair ? Sn : NULL,
                                           zf, a1, p1);
        int64_t s2 = xb_dnoise_column_impl(XB_DNOISE_AVX512, &a, kr, cc, Sp, pair ? Sn : NULL,
                                           zf, a2, p2);
        cr_assert_eq(s1, s2, "it %d", it);
        cr_assert_eq(memcmp(a1, a2, (size_t)pt * 4), 0, "it %d", it);
        cr_assert_eq(memcmp(p1, p2, (size_t)cols * 4), 0, "it %d", it);
        /* without pre the same acc */
        xb_dnoise_column_impl(XB_DNOISE_AVX512, &a, kr, cc, Sp, pair ? Sn : NULL, zf, a2, NULL);
        cr_assert_eq(memcmp(a1, a2, (size_t)pt * 4), 0, "it %d", it);
        /* pre is S + the draw of (stream, position) */
        for (int j = 0; j < J; j++)
            for (int64_t q = 0; q < pt; q++) {
                int32_t s = (zf && zf[j * nruns + q / 16]) ? 0
                            : pair                         ? Sp[j * pt + q] - Sn[j * pt + q]
                                                           : Sp[j * pt + q];
                uint64_t key = xb_dnoise_stream(kr, cc, J, j);
                cr_assert_eq(p1[j * pt + q] - s,
                             xb_dnoise_value(&d, xb_dnoise_bits(key, (uint64_t)(a.p0 + q))));
            }
        free(Sp);
        free(Sn);
        free(a1);
        free(a2);
        free(p1);
        free(p2);
        free(zero);
    }
}

/* The profile statistics of S + n: the lane-copy version books exactly what
 * stat_value does value by value (negative values under a histogram
 * starting at 0, values past the top bin, zeros), as does the plain one. */
Test(crossbar, dnoise_stats_match_stat_value) {
    enum { N = 4099 };
    int32_t v[N], w[N];
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < N; i++)
            v[i] = (rnd() % 5 == 0) ? -(int32_t)(rnd() % 4) : (int32_t)(rnd() % 300) - (t == 2 ? 150 : 0);
        xb_crossbar_stats a, b, c;
        memset(&a, 0, sizeof a);
        a.hist_lo = t == 2 ? -100 : 0;
        a.hist_width = 1;
        a.hist_bins = t == 1 ? 256 : 200;
        a.max_abs = 1;
        b = a;
        c = a;
        a.hist = calloc((size_t)a.hist_bins, sizeof(int64_t));
        b.hist = calloc((size_t)a.hist_bins, sizeof(int64_t));
        c.hist = calloc((size_t)a.hist_bins, sizeof(int64_t));
        for (int i = 0; i < N; i++) stat_value(&a, (double)v[i]);
        xb_dnoise_stats(&b, v, N);
        /* the 16 copies and the counters' outlier buffer (xb_stat_acc_bytes) */
        size_t bytes = (size_t)(16 * a.hist_bins + XB_HIST_OVF_BUF) * sizeof(uint32_t);
        void *mem = malloc(bytes);
        memcpy(w, v, sizeof w);
        xb_dnoise_stat ds;
        xb_dnoise_stat_begin(&ds, &c, mem, bytes);
        cr_assert(ds.on);
        xb_dnoise_stat_add(&ds, &c, w, 1000);
        xb_dnoise_stat_add(&ds, &c, w + 1000, N - 1000);
        xb_dnoise_stat_end(&ds, &c);
        const xb_crossbar_stats *o[2] = {&b, &c};
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(a.observed, o[k]->observed, "t %d k %d", t, k);
            cr_assert_eq(a.zeros, o[k]->zeros, "t %d k %d: %lld vs %lld", t, k, (long long)a.zeros,
                         (long long)o[k]->zeros);
            cr_assert_eq(a.max_abs, o[k]->max_abs, "t %d k %d", t, k);
            cr_assert_eq(memcmp(a.hist, o[k]->hist, (size_t)a.hist_bins * sizeof(int64_t)), 0,
                         "t %d k %d", t, k);
        }
        free(mem);
        free(a.hist);
        free(b.hist);
        free(c.hist);
    }
}
