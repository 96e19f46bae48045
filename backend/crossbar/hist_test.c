#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/hist.h"

static uint64_t rs = 1;
static uint32_t rnd32(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rs >> 33);
}

/* Histogram rows: value v of row r at row r's offset; lo .. hi. */
enum { LO = -300, HI = 700, SPAN = HI - LO + 1, ROWS = 16 };

/* The values Sp[i] - Sn[i] (or Sp[i]) fed in pieces of the given lengths
 * (the pending buffer carries values across calls), with fold capacity
 * cap, summed over the lane rows; compared with a plain per-value count. */
static void check(const int32_t *Sp, const int32_t *Sn, int64_t n, int32_t base, int64_t cap,
                  const int64_t *pieces, int np, bool simd, const char *what) {
    uint32_t *h = calloc((size_t)(ROWS * SPAN), sizeof *h);
    int64_t *want = calloc(SPAN, sizeof *want);
    for (int64_t i = 0; i < n; i++) want[(Sn ? Sp[i] - Sn[i] : Sp[i]) - LO]++;
    xb_hist_bits b;
    static int32_t ovf[XB_HIST_OVF_BUF];
    xb_hist_init(&b, base, h - LO, SPAN, ovf);
    if (cap) b.cap = cap;
    int64_t i = 0;
    for (int k = 0; i < n; k++) {
        int64_t m = np ? pieces[k % np] : n;
        if (m > n - i) m = n - i;
        if (simd)
            xb_hist_add(&b, Sp + i, Sn ? Sn + i : NULL, m);
        else
            xb_hist_add_portable(&b, Sp + i, Sn ? Sn + i : NULL, m);
        i += m;
    }
    xb_hist_flush(&b);
    for (int64_t v = 0; v < SPAN; v++) {
        int64_t got = 0;
        for (int r = 0; r < ROWS; r++) got += h[r * SPAN + v];
        cr_assert_eq(got, want[v], "%s (%s, base %d, cap %lld): value %lld: %lld, want %lld",
                     what, simd ? "simd" : "portable", base, (long long)cap, (long long)(v + LO),
                     (long long)got, (long long)want[v]);
    }
    free(h);
    free(want);
}

static void check_both(const int32_t *Sp, const int32_t *Sn, int64_t n, int32_t base, int64_t cap,
                       const int64_t *pieces, int np, const char *what) {
    check(Sp, Sn, n, base, cap, pieces, np, false, what);
    check(Sp, Sn, n, base, cap, pieces, np, true, what); /* portable where no AVX-512 */
}

/* Random and adversarial streams, whole and in uneven pieces, with the
 * default fold capacity and small ones (the fold path runs many times):
 * the bit-sliced counts equal a plain histogram's. */
Test(hist, bit_sliced_counts_equal_plain_histogram) {
    enum { N = 40000 };
    int32_t *a = malloc(N * sizeof *a), *c = malloc(N * sizeof *c);
    const int64_t pieces[] = {1, 255, 17, 256, 1000, 3, 512, 4097};
    const int64_t caps[] = {0, 1, 2, 5};
    const int32_t bases[] = {0, -16, -300, 5};
    for (int kind = 0; kind < 9; kind++) {
        for (int64_t i = 0; i < N; i++) {
            uint32_t r = rnd32();
            int32_t v;
            switch (kind) {
            case 0: v = 0; break;                                   /* all zeros */
            case 1: v = 64 + (int32_t)(r % 600); break;             /* all above both windows */
            case 2: v = (int32_t)(r % 8); break;                    /* the usual small sums */
            case 3: v = (int32_t)(r % 700); break;                  /* anywhere */
            case 4: v = r % 10 ? (int32_t)(r % 64) : (int32_t)(r % 700); break;
            case 5: v = 31 + (int32_t)(r % 3); break;               /* window edges */
            case 6: v = 64 + (int32_t)(r % 64); break;              /* the second level */
            case 7: v = (r & 1 ? 63 : 127) + (int32_t)(r % 3); break; /* its edges */
            default: v = (int32_t)(r % 1000) + LO; break;           /* negative too */
            }
            a[i] = v;
        }
        for (size_t bi = 0; bi < sizeof bases / sizeof *bases; bi++)
            for (size_t ci = 0; ci < sizeof caps / sizeof *caps; ci++) {
                const int64_t lens[] = {N, 1, 15, 16, 255, 256, 257, 4111};
                for (size_t li = 0; li < sizeof lens / sizeof *lens; li++)
                    check_both(a, NULL, lens[li], bases[bi], caps[ci], NULL, 0, "whole");
                check_both(a, NULL, N, bases[bi], caps[ci], pieces, 8, "pieces");
            }
        /* differences Sp - Sn: the same values as a - 0 plus an offset pair */
        for (int64_t i = 0; i < N; i++) {
            c[i] = (int32_t)(rnd32() % 50);
            a[i] += c[i];
        }
        check_both(a, c, N, -16, 0, pieces, 8, "pairs");
        check_both(a, c, N, 0, 3, NULL, 0, "pairs");
    }
    free(a);
    free(c);
}

/* One value repeated up to the counters' capacity without a fold (every
 * carry into the top bit): XB_HIST_CAP groups of the same value in every
 * lane, then one more group, whole or one by one. */
Test(hist, counts_up_to_capacity) {
    int64_t n = (int64_t)XB_HIST_CAP * XB_HIST_BLOCK + XB_HIST_BLOCK + 7;
    int32_t *a = malloc((size_t)n * sizeof *a);
    const int32_t vals[] = {0, 31, 32, 63, 64, -1};
    for (size_t k = 0; k < sizeof vals / sizeof *vals; k++) {
        for (int64_t i = 0; i < n; i++) a[i] = vals[k];
        const int64_t one = 1;
        check_both(a, NULL, n, 0, 0, NULL, 0, "repeated");
        check_both(a, NULL, n, -16, 0, &one, 1, "repeated one by one");
    }
    free(a);
}
