#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/crossbar.h"
#include "backend/crossbar/direct.h"
#include "backend/crossbar/dnoise.h"
#include "backend/crossbar/internal.h"
#include "backend/crossbar/rng.h"
#include "backend/crossbar/geometry.h"
#include "backend/crossbar/sar.h"

/* Small deterministic generator for test data (not the one under test). */
static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static xb_crossbar_config base_cfg(int64_t K, int64_t N, int groups, int rows, int wb, int xb,
                                   int dac, int cell, int diff) {
    /* diff: 0 offset, 1 differential, 2 center (differential offsets). */
    xb_crossbar_config c;
    memset(&c, 0, sizeof c);
    c.K = K;
    c.N = N;
    c.groups = groups;
    c.rows = rows;
    c.dac_bits = dac;
    c.input_slices = (xb + dac - 1) / dac;
    c.cell_bits = cell;
    c.weight_bits = wb;
    /* diff: 3 = offset with ISAAC's flip */
    c.differential = diff == 1 || diff == 2;
    c.center = diff == 2;
    c.flip = diff == 3;
    int mb = wb == 1 ? 1 : c.differential ? wb - 1 : wb; /* binary: one bit either way */
    c.w_slices = (mb + cell - 1) / cell;
    c.lossless = true;
    c.lsb = 1;
    c.seed = 7;
    return c;
}

/* Half the time, replace the uniform slicing by random widths (each 1 to
 * cell_bits, adding up to the magnitude bits), LSB first. */
static void maybe_random_slices(xb_crossbar_config *c) {
    if (rnd() & 1) return;
    int mb = c->differential ? c->weight_bits - 1 : c->weight_bits, n = 0;
    while (mb > 0) {
        int w = 1 + (int)(rnd() % (uint32_t)c->cell_bits);
        if (w > mb) w = mb;
        c->slice_bits[n++] = (int8_t)w;
        mb -= w;
    }
    c->w_slices = n;
}

static void fill_x(uint8_t *x, int64_t nx, int xb) {
    for (int64_t i = 0; i < nx; i++) {
        /* Mix of zeros (ReLU-like) and full-range codes. */
        uint32_t r = rnd();
        x[i] = (r & 3) == 0 ? 0 : (uint8_t)(rnd() % (1u << xb));
    }
}

static void fill(int8_t *w, uint8_t *x, int64_t nw, int64_t nx, int wb, int xb) {
    int wmax = (1 << (wb - 1)) - 1;
    for (int64_t i = 0; i < nw; i++) w[i] = (int8_t)((int)(rnd() % (2 * wmax + 1)) - wmax);
    fill_x(x, nx, xb);
}

/* Weights skewed to [0, wmax] (a channel whose center is not 0). */
static void skew(int8_t *w, int64_t nw, int wb) {
    int wmax = (1 << (wb - 1)) - 1;
    for (int64_t i = 0; i < nw; i++) w[i] = (int8_t)((w[i] + wmax) / 2);
}

static void ref_gemm(const int8_t *w, const uint8_t *x, int64_t K, int64_t N, int64_t P,
                     int32_t *acc) {
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            int64_t s = 0;
            for (int64_t k = 0; k < K; k++) s += (int64_t)w[n * K + k] * x[k * P + p];
            acc[n * P + p] = (int32_t)s;
        }
}

/* Independent, naive model of the ADC pipeline (clip mode, LSB 1):
 * conversion by conversion, written from the definition in crossbar.h.
 * center: the layer's c_n (center encoding) or NULL.  With speculation
 * (c->spec_n, speculate.c) each unit (row block, weight slice, column) is
 * first converted in the wide slices; if one of them clips, the unit is
 * converted again in dac_bits-wide slices and that value is used. */
typedef struct {
    const xb_crossbar_config *c;
    const int32_t *center;
    const int8_t *w;
    const uint8_t *x;
    int64_t P, n, p, k0, k1, lo, hi;
    int wd, sh; /* the weight slice */
    bool flip;
} ref_unit;

/* Raw column sum of polarity pol (0: the + column, the pair's S+ - S-, or
 * the offset column; 1: the - column) for input digits (x >> ish) & mask. */
static int64_t ref_sum(const ref_unit *u, int pol, int ish, int iw) {
    const xb_crossbar_config *c = u->c;
    int B = c->weight_bits;
    int64_t sp = 0, sn = 0, cm = (1 << u->wd) - 1;
    for (int64_t k = u->k0; k < u->k1; k++) {
        int64_t dg = (u->x[k * u->P + u->p] >> ish) & ((1 << iw) - 1);
        int wv = u->w[u->n * c->K + k] - (u->center ? u->center[u->n] : 0);
        if (c->differential) {
            int64_t lev = ((wv < 0 ? -wv : wv) >> u->sh) & cm;
            if (wv >= 0) sp += dg * lev;
            else sn += dg * lev;
        } else {
            int64_t lev = ((wv + (1 << (B - 1))) >> u->sh) & cm;
            sp += dg * (u->flip ? cm - lev : lev);
        }
    }
    if (c->signed_pair) return sp - sn;
    return pol ? sn : sp;
}

/* Read noise of the naive model (0: none): every conversion reads
 * round(S + sigma z), z standard normal from the test generator (Box-Muller
 * on its 31-bit outputs), before the ADC clamps it. */
static double ref_rsigma;
static int64_t ref_read(int64_t S) {
    if (ref_rsigma <= 0) return S;
    double u1 = ((double)rnd() + 1.0) * 0x1p-31, u2 = (double)rnd() * 0x1p-31;
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    return (int64_t)nearbyint((double)S + ref_rsigma * z);
}

#define CLIP(v) ((v) > u->hi ? u->hi : (v) < u->lo ? u->lo : (v))

/* Converted value of one unit over all input bits; *clipped counts. */
static int64_t ref_convert(const ref_unit *u, int pol, const int *ish, const int *iw, int J,
                           int *clipped) {
    int64_t v = 0;
    for (int j = 0; j < J; j++) {
        int64_t S = ref_read(ref_sum(u, pol, ish[j], iw[j]));
        *clipped += CLIP(S) != S;
        v += CLIP(S) * ((int64_t)1 << ish[j]);
    }
    return v;
}

/* One unit: plain (narrow slices, flip), or speculative with recovery. */
static int64_t ref_unit_value(const ref_unit *u, int pol) {
    const xb_crossbar_config *c = u->c;
    int ish[16], iw[16], J = c->input_slices, clipped = 0;
    for (int j = 0; j < J; j++) ish[j] = j * c->dac_bits, iw[j] = c->dac_bits;
    if (c->spec_n) {
        int ssh[8], sw[8];
        for (int j = 0, at = 0; j < c->spec_n; at += c->spec_bits[j], j++)
            ssh[j] = at, sw[j] = c->spec_bits[j];
        int64_t v = ref_convert(u, pol, ssh, sw, c->spec_n, &clipped);
        if (!clipped) return v;
    }
    if (!u->flip) return ref_convert(u, pol, ish, iw, J, &clipped);
    /* ISAAC flip: S = top x (digit sum) - S' */
    int64_t v = 0, cm = (1 << u->wd) - 1;
    for (int j = 0; j < J; j++) {
        int64_t S = ref_read(ref_sum(u, 0, ish[j], iw[j])), dsum = 0;
        for (int64_t k = u->k0; k < u->k1; k++)
            dsum += (u->x[k * u->P + u->p] >> ish[j]) & ((1 << iw[j]) - 1);
        v += (cm * dsum - CLIP(S)) * ((int64_t)1 << ish[j]);
    }
    return v;
}
#undef CLIP

static void ref_clip(const xb_crossbar_config *c, const int32_t *center, const int8_t *w,
                     const uint8_t *x, int64_t P, int64_t lo, int64_t hi, int32_t *acc) {
    int B = c->weight_bits, cb = c->cell_bits;
    /* Slice s: bits [sh[s], sh[s] + wd[s]) of the stored magnitude. */
    int wd[16], sh[16], mbits = B == 1 ? 1 : c->differential ? B - 1 : B;
    /* Binary offset (B = 1): the cell holds (w + 1) / 2, i.e. bit 1 of w + 1. */
    int base = B == 1 && !c->differential;
    for (int s = 0, at = 0; s < c->w_slices; s++) {
        wd[s] = c->slice_bits[0] ? c->slice_bits[s] : (mbits - at < cb ? mbits - at : cb);
        sh[s] = at + base;
        at += wd[s];
    }
    ref_unit u = {.c = c, .center = center, .w = w, .x = x, .P = P, .lo = lo, .hi = hi};
    for (u.n = 0; u.n < c->N; u.n++)
        for (u.p = 0; u.p < P; u.p++) {
            int64_t total = 0, xsum = 0;
            for (int64_t k = 0; k < c->K; k++) xsum += x[k * P + u.p];
            /* Row blocks: filled to `rows`, or (even_rows) R = ceil(K / rows)
             * blocks of K / R rows, the first K mod R one row longer. */
            int64_t R = (c->K + c->rows - 1) / c->rows;
            for (int64_t r = 0, k0 = 0; r < R; r++) {
                int64_t kb = c->even_rows ? c->K / R + (r < c->K % R) : c->rows;
                u.k0 = k0;
                u.k1 = k0 + kb < c->K ? k0 + kb : c->K;
                for (int s = 0; s < c->w_slices; s++) {
                    u.wd = wd[s];
                    u.sh = sh[s];
                    int64_t cm = (1 << wd[s]) - 1;
                    /* ISAAC flip: complement the block's column when its
                     * levels sum to more than half of rows x top level. */
                    u.flip = false;
                    if (c->flip) {
                        int64_t ls = 0;
                        for (int64_t k = u.k0; k < u.k1; k++)
                            ls += ((w[u.n * c->K + k] + (1 << (B - 1))) >> sh[s]) & cm;
                        u.flip = 2 * ls > (u.k1 - u.k0) * cm;
                    }
                    int64_t v = ref_unit_value(&u, 0);
                    if (c->differential && !c->signed_pair) v -= ref_unit_value(&u, 1);
                    total += v * ((int64_t)1 << sh[s]);
                }
                k0 = u.k1;
            }
            if (!c->differential) total -= xsum << (B - 1);
            if (center) total += xsum * center[u.n];
            acc[u.n * P + u.p] = (int32_t)total;
        }
}

static void run_layer(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, bool profile,
                      int32_t *acc, int g) {
    void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
    xb_crossbar_matmul(l, g, x, P, 0, profile, acc, scratch, NULL);
    free(scratch);
}

/* One fully simulated (profiled) call on group 0; returns the saturated
 * conversions it counted. */
static int64_t run_profiled(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, int32_t *acc) {
    xb_ctx ctx = {0};
    xb_crossbar_stats st;
    cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK, "%s", ctx.msg);
    void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
    xb_crossbar_matmul(l, 0, x, P, 0, true, acc, scratch, &st);
    free(scratch);
    int64_t sat = st.saturated;
    xb_crossbar_stats_free(&st);
    return sat;
}

/* Whether this CPU has the popcount column sums (bitsums.c: AVX-512
 * VPOPCNTDQ and BW): the tests that count how often a popcount path ran
 * assert those counts only then (elsewhere the igemm path serves). */
static bool have_popcnt512(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512bw");
#else
    return false;
#endif
}

/* One profiled call (or `calls`) on group 0 through the layer as
 * configured (l[0]) and through the same layer with input control (l[1]:
 * without noise it changes no value but takes the full simulation); the
 * outputs of variant v go to acc[v] (the two may be one buffer). */
static void profiled_pair(const xb_crossbar_config *c, const int8_t *w, const uint8_t *x,
                          int64_t P, int calls, int32_t *const acc[2], xb_crossbar_layer *l[2],
                          xb_crossbar_stats st[2]) {
    xb_ctx ctx = {0};
    for (int v = 0; v < 2; v++) {
        xb_crossbar_config cv = *c;
        cv.input_control = v == 1;
        l[v] = xb_crossbar_layer_new(&cv, w, &ctx);
        cr_assert_not_null(l[v], "%s", ctx.msg);
        cr_assert_eq(xb_crossbar_stats_init(&st[v], l[v], &ctx), XB_OK);
        void *scratch = malloc(xb_crossbar_scratch_bytes(l[v], P));
        for (int i = 0; i < calls; i++)
            xb_crossbar_matmul(l[v], 0, x, P, 3, true, acc[v], scratch, &st[v]);
        free(scratch);
    }
}

/* The two variants counted and observed the same; then both are freed. */
static void same_stats_free(xb_crossbar_layer *l[2], xb_crossbar_stats st[2], int it, int64_t P) {
    cr_assert_eq(st[0].conversions, st[1].conversions, "it=%d", it);
    cr_assert_eq(st[0].saturated, st[1].saturated, "it=%d", it);
    cr_assert_eq(st[0].observed, st[1].observed, "it=%d", it);
    cr_assert_eq(st[0].zeros, st[1].zeros, "it=%d", it);
    cr_assert_eq(st[0].max_abs, st[1].max_abs, "it=%d", it);
    cr_assert_eq(st[0].hist_bins, st[1].hist_bins);
    for (int b = 0; b < st[0].hist_bins; b++)
        cr_assert_eq(st[0].hist[b], st[1].hist[b], "it=%d P=%lld bin %d", it, (long long)P, b);
    for (int v = 0; v < 2; v++) {
        xb_crossbar_stats_free(&st[v]);
        xb_crossbar_layer_free(l[v]);
    }
}

/* The ideal ADC reproduces the integer product bit for bit for every
 * combination of bits, DAC and cell resolution, encoding and shape. */
Test(crossbar, lossless_is_exact_on_random_layers) {
    rng_state = 12345;
    static const int64_t Ks[] = {1, 7, 64, 129, 300};
    int cases = 0, centered = 0;
    for (int wb = 2; wb <= 8; wb++)
        for (int xb = 2; xb <= 8; xb += 3)
            for (int dac = 1; dac <= 4; dac++)
                for (int cell = 1; cell <= 4; cell++)
                    for (int diff = 0; diff < 4; diff++) {
                        if (dac > xb) continue;
                        int64_t K = Ks[rnd() % 5], N = 1 + rnd() % 19, P = 1 + rnd() % 9;
                        int groups = 1 + (int)(rnd() % 2), rows = (rnd() & 1) ? 128 : 32;
                        xb_crossbar_config c = base_cfg(K, N, groups, rows, wb, xb, dac, cell, diff);
                        c.signed_pair = c.differential && (rnd() & 1);
                        c.even_rows = cases & 1;
                        maybe_random_slices(&c);
                        int8_t *w = malloc((size_t)(groups * N * K));
                        uint8_t *x = malloc((size_t)(K * P));
                        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
                        fill(w, x, groups * N * K, K * P, wb, xb);
                        if (diff == 2 && (rnd() & 1)) skew(w, groups * N * K, wb);
                        xb_ctx ctx = {0};
                        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
                        cr_assert_not_null(l, "%s", ctx.msg);
                        cr_assert_eq(l->path, XB_XPATH_EXACT);
                        if (l->center)
                            for (int64_t i = 0; i < groups * N; i++) centered += l->center[i] != 0;
                        for (int g = 0; g < groups; g++) {
                            ref_gemm(w + g * N * K, x, K, N, P, want);
                            for (int prof = 0; prof < 2; prof++) {
                                run_layer(l, x, P, prof, acc, g);
                                for (int64_t i = 0; i < N * P; i++)
                                    cr_assert_eq(acc[i], want[i],
                                                 "wb=%d xb=%d dac=%d cell=%d diff=%d pair=%d K=%lld "
                                                 "rows=%d full=%d i=%lld: %d != %d",
                                                 wb, xb, dac, cell, diff, c.signed_pair,
                                                 (long long)K, rows, prof, (long long)i, acc[i],
                                                 want[i]);
                            }
                        }
                        cases++;
                        xb_crossbar_layer_free(l);
                        free(w);
                        free(x);
                        free(acc);
                        free(want);
                    }
    cr_assert_gt(cases, 600);
    cr_assert_gt(centered, 100); /* skewed channels do get a center */
}

/* A clipping ADC: the correction path (igemm + corrections) and the full
 * simulation both equal the naive conversion-by-conversion model. */
Test(crossbar, clipping_adc_matches_naive_model) {
    rng_state = 999;
    int clipped_cases = 0;
    for (int it = 0; it < 120; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 3);
        int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4), adc_bits = 3 + (int)(rnd() % 5);
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 400, N = 1 + rnd() % 12, P = 1 + rnd() % 6;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        maybe_random_slices(&c);
        c.lossless = false;
        if (c.signed_pair) {
            c.code_lo = -(1 << (adc_bits - 1));
            c.code_hi = (1 << (adc_bits - 1)) - 1;
        } else {
            c.code_lo = 0;
            c.code_hi = (1 << adc_bits) - 1;
        }
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4),
                *exact = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        if (diff == 2 && (rnd() & 1)) skew(w, N * K, wb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, want);
        ref_gemm(w, x, K, N, P, exact);
        if (memcmp(want, exact, (size_t)(N * P) * 4)) clipped_cases++;
        for (int prof = 0; prof < 2; prof++) {
            run_layer(l, x, P, prof, acc, 0);
            for (int64_t i = 0; i < N * P; i++)
                cr_assert_eq(acc[i], want[i], "it=%d path=%d full=%d i=%lld: %d != %d", it,
                             l->path, prof, (long long)i, acc[i], want[i]);
        }
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
        free(exact);
    }
    /* The test must actually exercise clipping. */
    cr_assert_gt(clipped_cases, 30);
}

/* One clipping layer against the naive model (ref_clip), run as an
 * ordinary call, as a profile call and, where the popcount path sorts
 * positions (xb_bits_sorted_ok), as an ordinary call with the sorting off
 * (xb_bits_correct): every output equals the model's and every run counts
 * the same saturations, which are returned with the layer's path, whether
 * it took the popcount sums (levbits) and whether it sorted (*sorted may
 * be NULL). */
static int64_t clip_ways(const xb_crossbar_config *c, const int8_t *w, const uint8_t *x,
                         int64_t P, int it, int32_t *acc, int32_t *want, int *path, bool *pops,
                         bool *sorted) {
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    ref_clip(c, l->center, w, x, P, c->code_lo, c->code_hi, want);
    bool srt = xb_bits_sorted_ok(l);
    int64_t sat[3];
    for (int way = 0; way < (srt ? 3 : 2); way++) {
        if (way == 2) l->lev_thr_hi = c->code_hi + 1; /* thresholds stale: not sorted */
        cr_assert_eq(xb_bits_sorted_ok(l), srt && way < 2);
        xb_crossbar_stats st;
        cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
        void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
        xb_crossbar_matmul(l, 0, x, P, 0, way == 1, acc, scratch, &st);
        free(scratch);
        sat[way] = st.saturated;
        xb_crossbar_stats_free(&st);
        for (int64_t i = 0; i < c->N * P; i++)
            cr_assert_eq(acc[i], want[i], "it=%d path=%d way=%d i=%lld: %d != %d", it, l->path,
                         way, (long long)i, acc[i], want[i]);
        if (way) cr_assert_eq(sat[0], sat[way], "it=%d way=%d", it, way);
    }
    *path = l->path;
    *pops = l->levbits != NULL;
    if (sorted) *sorted = srt;
    xb_crossbar_layer_free(l);
    return sat[0];
}

/* A random layer's rows, slices and unsigned clipping ADC of adc_bits. */
static void clip_cfg(xb_crossbar_config *c, int it, int adc_bits) {
    c->even_rows = it & 1;
    maybe_random_slices(c);
    c->lossless = false;
    c->code_lo = 0;
    c->code_hi = (1 << adc_bits) - 1;
}

/* One random clipping layer of N x K weights over P positions through
 * clip_ways: weights and inputs drawn by fill, the weights skewed when
 * `may_skew` and a coin says so (differential layers), then, when `band`
 * > 0, positions in bands of `band`: all-zero codes, codes masked to
 * `small` (high digit planes empty), full codes. */
static int64_t clip_case(const xb_crossbar_config *c, int64_t P, int wb, int xb, bool may_skew,
                         int band, uint8_t small, int it, int *path, bool *pops, bool *sorted) {
    int64_t K = c->K, N = c->N;
    int8_t *w = malloc((size_t)(N * K));
    uint8_t *x = malloc((size_t)(K * P));
    int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
    fill(w, x, N * K, K * P, wb, xb);
    if (may_skew && (rnd() & 1)) skew(w, N * K, wb);
    for (int64_t k = 0; band > 0 && k < K; k++)
        for (int64_t p = 0; p < P; p++) {
            int b = (int)((p / band) % 3);
            if (b == 0) x[k * P + p] = 0;
            if (b == 1) x[k * P + p] &= small;
        }
    int64_t sat = clip_ways(c, w, x, P, it, acc, want, path, pops, sorted);
    free(w);
    free(x);
    free(acc);
    free(want);
    return sat;
}

/* Many positions with position-dependent sparsity (whole 16-position runs
 * of some digit planes unflagged, partial last runs, several chunks): the
 * correction path still equals the naive model and counts the same
 * saturations as the full simulation. */
Test(crossbar, clipping_adc_sparse_runs_match_naive_model) {
    rng_state = 4242;
    int correction = 0;
    for (int it = 0; it < 24; it++) {
        int wb = 4 + (int)(rnd() % 5), xb = 4 + (int)(rnd() % 5), dac = 1 + (int)(rnd() % 2);
        int diff = (int)(rnd() % 4), adc_bits = 4 + (int)(rnd() % 4);
        int64_t K = 20 + rnd() % 300, N = 1 + rnd() % 40, P = 17 + rnd() % 300;
        xb_crossbar_config c = base_cfg(K, N, 1, 128, wb, xb, dac, 2, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        maybe_random_slices(&c);
        c.lossless = false;
        c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
        c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        /* Positions in bands: zero, small codes (high planes empty), full. */
        bool pops;
        int path;
        int64_t sat = clip_case(&c, P, wb, xb, false, 23, 3, it, &path, &pops, NULL);
        correction += path == XB_XPATH_CORRECTION && sat > 0;
    }
    cr_assert_gt(correction, 12);
}

/* 1-bit DACs on ideal cells take the popcount sums (bitsums.c) where the
 * CPU has AVX-512 VPOPCNTDQ: the correction path then forms each run's
 * clip corrections in registers (xb_bits_correct) while the profile call
 * stores the column sums and corrects them one column at a time
 * (correction.c); both equal the naive model and count the same
 * saturations, for 1-3 level planes, 64 or 128 rows, offset, differential
 * (unsigned), centred and flipped columns, one position (every fourth
 * layer) or many. */
Test(crossbar, popcount_clip_corrections_match_naive_model) {
    rng_state = 777;
    int fused = 0, sorted = 0;
    for (int it = 0; it < 40; it++) {
        int wb = 3 + (int)(rnd() % 6), xb = 2 + (int)(rnd() % 7), cell = 1 + (int)(rnd() % 3);
        int diff = (int)(rnd() % 4), adc_bits = 3 + (int)(rnd() % 5);
        int64_t K = 1 + rnd() % 400, N = 1 + rnd() % 20, P = 1 + rnd() % 200;
        if (it % 4 == 0) P = 1; /* one position: the runs are the lanes (bitsums.c) */
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, xb, 1, cell, diff);
        if (it % 4 == 1) { /* several chunks, the last of one position (sorted path) */
            xb_ctx ctx0 = {0};
            int8_t *w0 = calloc((size_t)(N * K), 1);
            xb_crossbar_layer *l0 = xb_crossbar_layer_new(&c, w0, &ctx0);
            cr_assert_not_null(l0, "%s", ctx0.msg);
            P = 2 * chunk_positions(l0, 100000) + 1;
            xb_crossbar_layer_free(l0);
            free(w0);
        }
        clip_cfg(&c, it, adc_bits);
        /* whole runs of zeros and of small codes */
        bool pops, srt;
        int path;
        int64_t sat = clip_case(&c, P, wb, xb, diff == 2, 19, 1, it, &path, &pops, &srt);
        fused += pops && path == XB_XPATH_CORRECTION && sat > 0;
        sorted += srt && path == XB_XPATH_CORRECTION && sat > 0 && P > 1;
    }
    if (have_popcnt512()) {
        cr_assert_gt(fused, 10, "the fused popcount corrections ran %d times", fused);
        cr_assert_gt(sorted, 6, "the sorted popcount corrections ran %d times", sorted);
    }
}

/* The sorted path's output groups (bitsums.c, xb_bits_correct_sorted):
 * 17-80 outputs, so a slice spans 2-5 groups of 16 outputs, the last one
 * partial or, for remainders of 1, 2, 4 or 8 outputs, packed with other
 * slices' remainders; every fourth layer 1, 2, 4 or 8 outputs (packed
 * groups only); few rows a block and small ADCs, so that X1 meets the group
 * thresholds often (a group is computed for a bucket whose largest X1
 * reaches its smallest column threshold); several digit planes and
 * positions.  All must equal the naive model and count its saturations. */
Test(crossbar, popcount_sorted_output_groups_match_naive_model) {
    rng_state = 6173;
    int sorted = 0, packed = 0, small = 0;
    for (int it = 0; it < 120; it++) {
        int wb = 3 + (int)(rnd() % 6), xb = 2 + (int)(rnd() % 7), cell = 1 + (int)(rnd() % 3);
        int diff = (int)(rnd() % 4), adc_bits = 2 + (int)(rnd() % 4);
        int64_t K = 2 + rnd() % 150, N = 17 + rnd() % 64, P = 2 + rnd() % 90;
        if (it % 4 == 3) N = 1 << (rnd() % 4); /* 1-8 outputs: only packed groups */
        int rows = (int[]){16, 64, 128}[rnd() % 3];
        xb_crossbar_config c = base_cfg(K, N, 1, rows, wb, xb, 1, cell, diff);
        clip_cfg(&c, it, adc_bits);
        bool pops, srt;
        int path;
        int64_t sat = clip_case(&c, P, wb, xb, diff == 2, 7, 1, it, &path, &pops, &srt);
        sorted += srt && path == XB_XPATH_CORRECTION && sat > 0;
        /* remainders of 1, 2, 4 or 8 outputs: several slices packed a group
         * (bitsums.c, groups_of) when the layer has several slices */
        int rem = (int)(N % 16);
        packed += srt && path == XB_XPATH_CORRECTION && sat > 0 && (rem == 1 || rem == 2 ||
                                                                  rem == 4 || rem == 8);
        small += srt && path == XB_XPATH_CORRECTION && sat > 0 && N < 16;
    }
    if (have_popcnt512()) {
        cr_assert_gt(sorted, 40, "the sorted path ran with saturations %d times", sorted);
        cr_assert_gt(packed, 10, "packed remainder groups ran with saturations %d times", packed);
        cr_assert_gt(small, 5, "layers of 1-8 outputs ran with saturations %d times", small);
    }
}

/* One position (fully connected layers, a chunk's last position) on the
 * sorted path (xb_bits_correct_sorted with pt = 1): each output group
 * computes only the digit planes whose X1 reaches its smallest column
 * threshold.  Few rows and small ADCs put X1 at the thresholds often,
 * where a column may clip or not depending on which rows the 1-digits are
 * on; all must equal the naive model. */
Test(crossbar, popcount_one_position_thresholds_match_naive_model) {
    rng_state = 9091;
    int sorted = 0;
    for (int it = 0; it < 400; it++) {
        int wb = 3 + (int)(rnd() % 6), xb = 2 + (int)(rnd() % 7), cell = 1 + (int)(rnd() % 3);
        int diff = (int)(rnd() % 4), adc_bits = 2 + (int)(rnd() % 4);
        int64_t K = 2 + rnd() % 60, N = 1 + rnd() % 6;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 64 : 16, wb, xb, 1, cell, diff);
        clip_cfg(&c, it, adc_bits);
        bool pops, srt;
        int path;
        int64_t sat = clip_case(&c, 1, wb, xb, diff == 2, 0, 0, it, &path, &pops, &srt);
        sorted += srt && path == XB_XPATH_CORRECTION && sat > 0;
    }
    if (have_popcnt512())
        cr_assert_gt(sorted, 100, "the sorted one-position path ran %d times", sorted);
}

/* The sorted path's per-group operands, built with the layer (rebuilt
 * with the thresholds), against their definitions for row block r: the
 * whole groups i = u nf + g < nfull = per_n nf (nf = N / 16) hold columns
 * u N + 16 g + e; then, if r = N mod 16 > 0, each packed group p holds the
 * remainder outputs 16 nf + t (t < r) of k slices (k = 16 / r if r divides
 * 16, else 1), lane e = slot e / r, slice k p + slot; its threshold is
 * its columns' smallest (255 if none), lane e of its negation mask is set
 * when the column enters negated (sign < 0 xor flipped in the block), its
 * shift lane e is the column's shift (0 for an empty lane).  Returns 1 if
 * the layer has whole groups, plus 2 if a flipped column set a negation
 * lane, plus 4 if a packed group holds several slices. */
static int check_groups(const xb_crossbar_layer *l, int64_t r, int it) {
    int seen = 0;
    int64_t N = l->cfg.N, per_n = l->C / N, nf = N / 16, rem = N % 16;
    int64_t k = rem && 16 % rem == 0 ? 16 / rem : 1, nfull = per_n * nf;
    int64_t ngr = nfull + (rem ? (per_n + k - 1) / k : 0);
    for (int64_t i = 0; i < ngr; i++) {
        int t = 255, slots = 0;
        unsigned neg = 0;
        for (int e = 0; e < 16; e++) {
            int64_t col = -1;
            if (i < nfull) {
                col = i / nf * N + i % nf * 16 + e;
            } else {
                int64_t slot = e / rem, u = (i - nfull) * k + slot;
                if (slot < k && u < per_n) col = u * N + nf * 16 + e % rem;
                if (col >= 0 && e % rem == 0) slots++;
            }
            cr_assert_eq(l->lev_gsh[i * 16 + e], col >= 0 ? l->col_shift[col] : 0, "it=%d", it);
            if (col < 0) continue;
            t = l->lev_thr[r * l->C + col] < t ? l->lev_thr[r * l->C + col] : t;
            if ((l->col_sign[col] < 0) != (l->flipped && l->flipped[r * l->C + col]))
                neg |= 1u << e;
            if (l->flipped && l->flipped[r * l->C + col] && (neg >> e & 1)) seen |= 2;
        }
        cr_assert_eq(l->lev_gthr[r * ngr + i], t, "it=%d r=%lld i=%lld", it, (long long)r,
                     (long long)i);
        cr_assert_eq(l->lev_gneg[r * ngr + i], neg, "it=%d r=%lld i=%lld", it, (long long)r,
                     (long long)i);
        if (slots > 1) seen |= 4;
    }
    return seen | (nfull > 0);
}

/* The sorted path's column thresholds (l->lev_thr) against their
 * definition, the fewest rows whose largest levels in the block sum above
 * the top code, for the code the layer was built with and after
 * xb_crossbar_layer_set_adc changes it; and the X1 buckets (l->lev_bk):
 * descending, the last the block's smallest threshold. */
Test(crossbar, popcount_column_thresholds_match_definition) {
    rng_state = 4711;
    int checked = 0, groups_seen = 0;
    for (int it = 0; it < 30; it++) {
        int wb = 3 + (int)(rnd() % 6), cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4);
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 40; /* 1-3 output groups */
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, 8, 1, cell, diff);
        c.even_rows = it & 1;
        c.lossless = false;
        c.code_lo = 0;
        c.code_hi = (1 << (3 + rnd() % 5)) - 1;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)K);
        fill(w, x, N * K, K, wb, 8);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        for (int pass = 0; pass < 2 && l->lev_thr; pass++) {
            if (pass) xb_crossbar_layer_set_adc(l, false, 1, 0, (1 << (2 + rnd() % 7)) - 1);
            int64_t hi = l->cfg.code_hi;
            cr_assert_eq(l->lev_thr_hi, hi);
            for (int64_t r = 0; r < l->R; r++) {
                int64_t k0 = xb_block_start(c.K, c.rows, c.even_rows, r),
                        kb = xb_block_rows(c.K, c.rows, c.even_rows, r);
                int tmin = 255;
                for (int64_t col = 0; col < l->C; col++) {
                    int v[128], n = 0;
                    for (int64_t k = 0; k < kb; k++) v[n++] = l->lev[(k0 + k) * l->C + col];
                    for (int a = 0; a < n; a++) /* descending */
                        for (int b = a + 1; b < n; b++)
                            if (v[b] > v[a]) {
                                int t = v[a];
                                v[a] = v[b], v[b] = t;
                            }
                    int want = 255;
                    int64_t sum = 0;
                    for (int X = 0; X <= n; X++) {
                        if (sum > hi) {
                            want = X;
                            break;
                        }
                        if (X < n) sum += v[X];
                    }
                    cr_assert_eq(l->lev_thr[r * l->C + col], want, "it=%d r=%lld col=%lld", it,
                                 (long long)r, (long long)col);
                    tmin = want < tmin ? want : tmin;
                    checked++;
                }
                const uint8_t *bk = l->lev_bk + r * 5;
                cr_assert_eq(bk[0] == 0, tmin == 255, "it=%d", it);
                for (int i = 1; i < bk[0]; i++) cr_assert_gt(bk[i], bk[i + 1]);
                if (bk[0]) cr_assert_eq(bk[bk[0]], tmin < 1 ? 1 : tmin);
                groups_seen |= check_groups(l, r, it);
            }
        }
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    if (have_popcnt512()) {
        cr_assert_gt(checked, 1000);
        cr_assert_eq(groups_seen, 7, "whole groups, flipped lanes, packed slices: %d", groups_seen);
    }
}

/* The sorted path's corrections (position-major rows of ld) added to acc
 * [N][P] by xb_bits_apply_sorted against the definition, the int64 sum
 * clamped to int32: terms near both limits, so that many sums saturate up
 * and down and others do not; whole 16 x 16 blocks and the edges (N and pt
 * not multiples of 16, rows of zeros that the blocks skip). */
Test(crossbar, popcount_apply_sorted_saturates_as_int64_clamp) {
    if (!have_popcnt512()) return; /* the sorted path runs only there */
    rng_state = 2718;
    int64_t up = 0, down = 0;
    for (int it = 0; it < 40; it++) {
        int64_t N = 1 + rnd() % 48, pt = 1 + rnd() % 60, P = pt + rnd() % 20, p0 = P - pt;
        int64_t ld = xb_bits_corr_ld(N);
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        int32_t *corrT = calloc((size_t)(ld * pt), 4);
        for (int64_t i = 0; i < N * P; i++) {
            uint32_t r = rnd() << 16 ^ rnd(); /* rnd() has 31 bits */
            acc[i] = (int32_t)(r % 4 == 0 ? INT32_MAX - (int32_t)(r >> 8) % 1000
                               : r % 4 == 1 ? INT32_MIN + (int32_t)(r >> 8) % 1000
                                            : (int32_t)r);
        }
        for (int64_t q = 0; q < pt; q++)
            for (int64_t n = 0; n < N && !(q % 16 == 3 && it % 2); n++) { /* some zero rows */
                uint32_t r = rnd() << 16 ^ rnd(); /* rnd() has 31 bits */
                corrT[q * ld + n] = r % 3 == 0 ? (int32_t)(r >> 20) : (int32_t)r;
            }
        for (int64_t n = 0; n < N; n++)
            for (int64_t q = 0; q < pt; q++) {
                int64_t t = (int64_t)acc[n * P + p0 + q] + corrT[q * ld + n];
                up += t > INT32_MAX, down += t < INT32_MIN;
                want[n * P + p0 + q] = (int32_t)(t > INT32_MAX ? INT32_MAX
                                                 : t < INT32_MIN ? INT32_MIN : t);
            }
        for (int64_t n = 0; n < N; n++)
            for (int64_t q = 0; q < p0; q++) want[n * P + q] = acc[n * P + q];
        xb_bits_apply_sorted(acc + p0, P, corrT, ld, N, pt);
        for (int64_t i = 0; i < N * P; i++)
            cr_assert_eq(acc[i], want[i], "it=%d i=%lld: %d != %d", it, (long long)i, acc[i],
                         want[i]);
        free(acc);
        free(want);
        free(corrT);
    }
    cr_assert_gt(up, 100);
    cr_assert_gt(down, 100);
}

/* The digit masks of xb_bits_pack (GFNI transposes or byte transpose and
 * VPTESTMB, whichever the CPU runs) against the definition: bit b of word
 * (j, w) at position q is digit j of row k0 + 64w + b at p0 + q, zero for
 * rows past kb and positions past pt (up to the padded width). */
Test(crossbar, popcount_digit_masks_match_definition) {
    rng_state = 31337;
    int checked = 0;
    for (int it = 0; it < 30; it++) {
        int xb = 1 + (int)(rnd() % 8);
        int64_t K = 1 + rnd() % 300, P = 1 + rnd() % 300;
        xb_crossbar_config c = base_cfg(K, 2, 1, (rnd() & 1) ? 128 : 64, 8, xb, 1, 2, 0);
        int8_t *w = malloc((size_t)(2 * K));
        uint8_t *x = malloc((size_t)(K * P));
        fill(w, x, 2 * K, K * P, 8, xb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (l->levbits) {
            int64_t r = rnd() % l->R, p0 = rnd() % P, pt = 1 + rnd() % (P - p0);
            /* every other case a multiple of 16 or 64 (a 64-position tile of
             * padding only) and the last block (rows past kb) */
            if (it % 2 && P - p0 >= 16) pt = (it % 4 == 1 ? 16 : 64) * (1 + rnd() % ((P - p0) / 16));
            if (pt > P - p0) pt = P - p0;
            if (it % 3 == 0) r = l->R - 1;
            int64_t k0 = xb_block_start(K, c.rows, c.even_rows, r),
                    kb = xb_block_rows(K, c.rows, c.even_rows, r);
            int64_t pp = xb_bits_ppad(pt), W = l->lev_words;
            void *scratch = malloc(xb_bits_scratch_bytes(l, pt));
            uint64_t *bm = NULL;
            xb_bits_pack(l, x, P, k0, kb, p0, pt, scratch, &bm);
            for (int j = 0; j < c.input_slices; j++)
                for (int64_t wd = 0; wd < W; wd++)
                    for (int64_t q = 0; q < pp; q++) {
                        uint64_t m = 0;
                        for (int b = 0; b < 64; b++) {
                            int64_t k = 64 * wd + b;
                            if (k < kb && q < pt && ((x[(k0 + k) * P + p0 + q] >> j) & 1))
                                m |= (uint64_t)1 << b;
                        }
                        cr_assert_eq(bm[(j * W + wd) * pp + q], m, "it=%d j=%d w=%lld q=%lld", it,
                                     j, (long long)wd, (long long)q);
                    }
            free(scratch);
            checked++;
        }
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    if (have_popcnt512())
        cr_assert_eq(checked, 30);
}

/* Profile images of exact and correction layers skip the full simulation
 * (correction.c: all-zero digit runs counted, the rest from one GEMM): the
 * result equals the naive model, and every statistic (conversions,
 * saturations, observed values, zeros, maximum, histogram) equals the full
 * simulation's.  input_control (no noise: changes no value) forces the
 * full simulation on the twin layer. */
Test(crossbar, fast_profile_statistics_match_full_simulation) {
    rng_state = 777;
    int fast = 0, clipped = 0;
    for (int it = 0; it < 40; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 3);
        int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4), adc_bits = 3 + (int)(rnd() % 6);
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 20, P = 1 + rnd() % 200;
        if (it % 5 == 2) P = 1; /* one position (fully connected layers) */
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 48, wb, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        maybe_random_slices(&c);
        if (it % 4) { /* a clipping ADC, else lossless */
            c.lossless = false;
            c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
            c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        } else {
            c.code_lo = c.signed_pair ? -4096 : 0;
            c.code_hi = 4095;
        }
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc[2] = {malloc((size_t)(N * P) * 4), malloc((size_t)(N * P) * 4)};
        int32_t *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        for (int64_t k = 0; k < K; k++) /* bands: zero, small codes, full */
            for (int64_t p = 0; p < P; p++) {
                int band = (int)((p / 19) % 3);
                if (band == 0) x[k * P + p] = 0;
                if (band == 1) x[k * P + p] &= 3;
            }
        xb_crossbar_layer *l[2];
        xb_crossbar_stats st[2];
        profiled_pair(&c, w, x, P, 1, acc, l, st);
        fast += l[0]->path != XB_XPATH_FULL;
        ref_clip(&c, l[0]->center, w, x, P, c.code_lo, c.code_hi, want);
        for (int64_t i = 0; i < N * P; i++) {
            cr_assert_eq(acc[0][i], want[i], "it=%d i=%lld: %d != %d", it, (long long)i,
                         acc[0][i], want[i]);
            cr_assert_eq(acc[1][i], want[i], "it=%d i=%lld", it, (long long)i);
        }
        clipped += st[0].saturated > 0;
        same_stats_free(l, st, it, P);
        for (int v = 0; v < 2; v++) free(acc[v]);
        free(w);
        free(x);
        free(want);
    }
    cr_assert_gt(fast, 30);
    cr_assert_gt(clipped, 10);
}

/* The profile statistics the popcount sums feed to the bit-sliced counters
 * without storing them (hist.c's runs_classed and cls_sums), for one position per call
 * (fully connected layers: lanes are digits) and for a few positions,
 * against the full simulation's (input_control routes it there), on
 * lossless 1-bit-DAC layers of up to 128 rows with cell widths 1-4 (sums
 * up to 128 x 15: both counter levels and the values past them). */
Test(crossbar, fused_profile_sums_match_full_simulation) {
    rng_state = 4242;
    int fused = 0;
    for (int it = 0; it < 40; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), cell = 1 + (int)(rnd() % 4);
        int64_t K = 1 + rnd() % 400, N = 1 + rnd() % 40, P = it % 2 ? 1 : 1 + rnd() % 40;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 72, wb, xb, 1, cell,
                                        (int)(rnd() % 4));
        c.even_rows = it & 1;
        c.code_lo = 0;
        c.code_hi = 4095;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        if (it % 3 == 0) /* dense inputs: large sums */
            for (int64_t i = 0; i < K * P; i++) x[i] |= (uint8_t)((1u << xb) - 1);
        xb_crossbar_layer *l[2];
        xb_crossbar_stats st[2];
        /* two calls: the counters start over */
        profiled_pair(&c, w, x, P, 2, (int32_t *const[2]){acc, acc}, l, st);
        fused += l[0]->levbits && l[0]->path != XB_XPATH_FULL;
        same_stats_free(l, st, it, P);
        free(w);
        free(x);
        free(acc);
    }
    if (have_popcnt512()) cr_assert_gt(fused, 20, "the fused profile sums ran %d times", fused);
}

/* The same against the full simulation with many positions a call and
 * inputs of graded density (hist.c sorts positions by their digit sum X1:
 * X1 = 0 only counted, X1 x top < 32 and < 64 counted without the outlier
 * test, the rest by the full counters; a class is counted whenever it holds
 * 256 positions, the rest carried over): every position's bit planes set
 * with their own probability, so X1 crosses the class limits; weights at
 * their maximum in some layers put levels at the top, so sums land on the
 * limits and just past them (cells of 1-4 bits: top 1, 3, 7, 15). */
Test(crossbar, classed_profile_sums_match_full_simulation) {
    rng_state = 777;
    int fused = 0;
    for (int it = 0; it < 40; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), cell = 1 + (int)(rnd() % 4);
        /* (one position: wide enough that a class fills whole groups of 256 values) */
        int64_t K = 20 + rnd() % 300, P = it % 2 ? 1 : 200 + rnd() % 900,
                N = P == 1 ? 32 + rnd() % 48 : 1 + rnd() % 24;
        /* every third layer differential with every weight at +max: the
         * full slices' columns hold the top level in every row, S = X1 x top */
        bool top = it % 3 == 1;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 72, wb, xb, 1, cell,
                                        top ? 1 : (int)(rnd() % 3));
        c.even_rows = it & 1;
        c.code_lo = 0;
        c.code_hi = 4095;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        for (int64_t i = 0; i < N * K && top; i++) w[i] = (int8_t)((1 << (wb - 1)) - 1);
        for (int64_t p = 0; p < P; p++) /* X1 about ((p + 7 j + it) mod 29) / 64 of the rows */
            for (int64_t k = 0; k < K; k++) {
                unsigned v = 0;
                for (int j = 0; j < xb; j++) {
                    uint32_t dens = (uint32_t)((p + 7 * j + it) % 29) * 1000u / 64u;
                    /* one position: plane j in the first (it + 5 j) mod 36 rows
                     * (block 0), so X1 hits each limit exactly */
                    bool on = P == 1 ? k < (it + 5 * j) % 36 : rnd() % 1000u < dens;
                    v |= on ? 1u << j : 0;
                }
                x[k * P + p] = (uint8_t)v;
            }
        xb_crossbar_layer *l[2];
        xb_crossbar_stats st[2];
        profiled_pair(&c, w, x, P, 1, (int32_t *const[2]){acc, acc}, l, st);
        fused += l[0]->levbits && l[0]->path != XB_XPATH_FULL;
        same_stats_free(l, st, it, P);
        free(w);
        free(x);
        free(acc);
    }
    if (have_popcnt512()) cr_assert_gt(fused, 20, "the fused profile sums ran %d times", fused);
}

/* A rounding ADC (LSB > 1, the calibrated range): the fused conversion
 * (convert.c add_simple), which ordinary and profile images take, gives the
 * same outputs, saturation count and profile statistics as the batch path
 * (vbuf, adc_pass, the float statistics) that input control forces, for
 * every encoding, DAC width, chunk sizes down to a few positions and both
 * signs of the code range. */
Test(crossbar, rounding_adc_fused_matches_batch_path) {
    rng_state = 31337;
    int clipped = 0;
    for (int it = 0; it < 40; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 3);
        int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4), adc_bits = 3 + (int)(rnd() % 5);
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 12, P = 1 + rnd() % 300;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        maybe_random_slices(&c);
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc[3];
        fill(w, x, N * K, K * P, wb, xb);
        int64_t lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
        int64_t hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        double lsb = 1.0 + (double)(rnd() % 1000) / 137.0; /* 1 .. 8.3, mostly not integer */
        if (lsb == 1.0) lsb = 2.5;
        xb_crossbar_layer *l[3];
        xb_crossbar_stats st[3];
        /* 0: an ordinary image, 1: a profile image, 2: a profile image
         * through the batch path (input control keeps it there) */
        for (int v = 0; v < 3; v++) {
            xb_ctx ctx = {0};
            xb_crossbar_config cv = c;
            cv.input_control = v == 2;
            l[v] = xb_crossbar_layer_new(&cv, w, &ctx);
            cr_assert_not_null(l[v], "%s", ctx.msg);
            xb_crossbar_layer_set_adc(l[v], false, lsb, lo, hi);
            cr_assert_eq(l[v]->path, XB_XPATH_FULL);
            acc[v] = malloc((size_t)(N * P) * 4);
            cr_assert_eq(xb_crossbar_stats_init(&st[v], l[v], &ctx), XB_OK, "%s", ctx.msg);
            void *scratch = malloc(xb_crossbar_scratch_bytes(l[v], P));
            xb_crossbar_matmul(l[v], 0, x, P, 0, v > 0, acc[v], scratch, &st[v]);
            free(scratch);
        }
        for (int v = 1; v < 3; v++) {
            for (int64_t i = 0; i < N * P; i++)
                cr_assert_eq(acc[0][i], acc[v][i], "it=%d v=%d i=%lld: %d != %d", it, v,
                             (long long)i, acc[0][i], acc[v][i]);
            cr_assert_eq(st[0].saturated, st[v].saturated, "it=%d v=%d", it, v);
        }
        cr_assert_eq(st[0].observed, 0, "it=%d", it);
        cr_assert_gt(st[1].observed, 0, "it=%d", it);
        clipped += st[0].saturated > 0;
        free(acc[0]);
        xb_crossbar_stats_free(&st[0]);
        xb_crossbar_layer_free(l[0]);
        for (int v = 1; v < 3; v++) acc[v - 1] = acc[v];
        same_stats_free(l + 1, st + 1, it, P);
        free(acc[0]);
        free(acc[1]);
        free(w);
        free(x);
    }
    cr_assert_gt(clipped, 10);
}

/* Layer l run with a fused block (set_fused: the integer read noise's,
 * dnoise.c, or the rounding ADC's, direct.c) on and off over
 * every group and images img0 .. img0 + nimg - 1 (the first a profile
 * image when profile is set): the outputs, saturation counts and profile
 * statistics must be equal, and the fused block must not run while off.
 * Returns how many row-block chunks it ran while on. */
static int64_t fused_matches_unfused(void (*set_fused)(bool), const xb_crossbar_layer *l,
                                     const uint8_t *x, int64_t P, int64_t img0, int nimg,
                                     bool profile, int it) {
    int64_t K = l->cfg.K, NP = l->cfg.N * P, G = l->cfg.groups;
    xb_ctx ctx = {0};
    int32_t *acc[2];
    xb_crossbar_stats st[2];
    void *scr = malloc(xb_crossbar_scratch_bytes(l, P));
    for (int v = 0; v < 2; v++) {
        acc[v] = malloc((size_t)(G * NP) * 4);
        cr_assert_eq(xb_crossbar_stats_init(&st[v], l, &ctx), XB_OK);
        set_fused(v == 0);
        for (int64_t g = 0; g < G; g++)
            for (int64_t img = 0; img < nimg; img++)
                xb_crossbar_matmul(l, (int)g, x + g * K * P, P, img0 + img, profile && img == 0,
                                   acc[v] + g * NP, scr, &st[v]);
    }
    set_fused(true);
    cr_assert_eq(memcmp(acc[0], acc[1], (size_t)(G * NP) * 4), 0, "it %d: outputs differ", it);
    cr_assert_eq(st[0].saturated, st[1].saturated, "it %d: saturation %lld vs %lld", it,
                 (long long)st[0].saturated, (long long)st[1].saturated);
    cr_assert_eq(st[0].conversions, st[1].conversions);
    cr_assert_eq(st[1].fused_blocks, 0, "it %d: the fused block ran while off", it);
    /* a profile image's statistics of the values before the clamp */
    cr_assert_eq(st[0].observed, st[1].observed);
    cr_assert_eq(st[0].zeros, st[1].zeros, "it %d: zeros", it);
    cr_assert_eq(st[0].max_abs, st[1].max_abs, "it %d: max", it);
    cr_assert_eq(st[0].hist_bins, st[1].hist_bins);
    cr_assert_eq(memcmp(st[0].hist, st[1].hist, (size_t)st[0].hist_bins * sizeof *st[0].hist), 0,
                 "it %d: histograms differ", it);
    int64_t ran = st[0].fused_blocks;
    for (int v = 0; v < 2; v++) {
        free(acc[v]);
        xb_crossbar_stats_free(&st[v]);
    }
    free(scr);
    return ran;
}

/* The fused read-noise block sums only the 32-row halves a short last
 * block fills (dnoise.c, NH): last blocks of every size around the half
 * boundaries, ISAAC's 2-bit cells in 128-row crossbars, ordinary images
 * (profile images take the generic kernel), fused against unfused. */
Test(crossbar, int_read_noise_short_blocks_match_unfused) {
    rng_state = 4711;
    static const int64_t last[] = {1, 5, 16, 31, 32, 33, 40, 63, 64, 65, 96, 97, 127, 128};
    int64_t fused_blocks = 0;
    for (int it = 0; it < (int)(sizeof last / sizeof last[0]); it++) {
        int64_t K = 128 * (int64_t)(it % 2) + last[it], N = 3 + it % 5, P = 40 + 37 * it;
        xb_crossbar_config c = base_cfg(K, N, 1, 128, 8, 8, 1, 2, it % 3 == 2 ? 3 : 0);
        c.read_sigma = it % 4 ? 0.5 : 1.3;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        fill(w, x, N * K, K * P, 8, 8);
        /* half the positions with no active row in the last block's first
         * 32 rows: a run is active through its later halves only */
        for (int64_t k = K - last[it]; k < K - last[it] + 32 && k < K; k++)
            memset(x + k * P, 0, (size_t)P / 2);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        cr_assert(xb_crossbar_int_noise(l));
        fused_blocks +=
            fused_matches_unfused(xb_dnoise_set_fused, l, x, P, 5 + it, 1, false, (int)last[it]);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    if (xb_dnoise_fused_usable()) cr_assert_geq(fused_blocks, 14);
}

/* Hand-computed cell non-idealities. */
Test(crossbar, on_off_ratio_and_stuck_cells) {
    /* 1 input, 1 output, 2-bit weight, 1-bit cells, offset: w = 0 is
     * stored as u = 2 = binary 10, slices (0, 1).  Ratio 2: the off level
     * conducts g0 = 1/(2-1) = 1 unit.  x = 1: S0 = 0 + 1, S1 = 1 + 1, so
     * acc = 1 + 2*2 - 2*1 = 3 instead of 0. */
    xb_crossbar_config c = base_cfg(1, 1, 1, 128, 2, 1, 1, 1, false);
    c.on_off_ratio = 2;
    int8_t w = 0;
    uint8_t x = 1;
    int32_t acc;
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, &w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    cr_assert_eq(l->path, XB_XPATH_FULL);
    run_layer(l, &x, 1, false, &acc, 0);
    cr_assert_eq(acc, 3);
    xb_crossbar_layer_free(l);

    /* Every cell stuck high: 2-bit weights in one 2-bit cell hold level 3,
     * i.e. u = 3, w = 1 whatever was programmed: acc = sum x. */
    xb_crossbar_config c2 = base_cfg(5, 3, 1, 128, 2, 4, 1, 2, false);
    c2.stuck_high = 1;
    int8_t w2[15];
    uint8_t x2[5] = {1, 2, 3, 4, 5};
    for (int i = 0; i < 15; i++) w2[i] = (int8_t)(i % 3 - 1);
    int32_t acc2[3];
    l = xb_crossbar_layer_new(&c2, w2, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    run_layer(l, x2, 1, false, acc2, 0);
    for (int n = 0; n < 3; n++) cr_assert_eq(acc2[n], 15);
    xb_crossbar_layer_free(l);
}

Test(crossbar, rejects_weights_outside_encoding) {
    xb_crossbar_config c = base_cfg(2, 1, 1, 128, 4, 4, 1, 2, true);
    int8_t w[2] = {7, -8}; /* -8 needs 4 magnitude bits */
    xb_ctx ctx = {0};
    cr_assert_null(xb_crossbar_layer_new(&c, w, &ctx));
    cr_assert(strstr(ctx.msg, "does not fit"), "%s", ctx.msg);
    /* Offset encoding represents -8 in 4 bits. */
    xb_ctx_clear(&ctx);
    c.differential = false;
    c.w_slices = 2;
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    xb_crossbar_layer_free(l);
}

/* Read noise is keyed by (seed, image, layer, conversion): the same image
 * gives the same result, another image or seed another one; and the
 * generator is standard normal. */
Test(crossbar, seeded_noise_is_reproducible) {
    rng_state = 5;
    xb_crossbar_config c = base_cfg(100, 4, 1, 128, 8, 8, 1, 2, false);
    c.read_sigma = 0.7;
    c.prog_sigma = 0.05;
    int8_t w[400];
    uint8_t x[100 * 3];
    fill(w, x, 400, 300, 8, 8);
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    int32_t a[12], b[12], d[12], exact[12];
    void *scr = malloc(xb_crossbar_scratch_bytes(l, 3));
    xb_crossbar_matmul(l, 0, x, 3, 11, false, a, scr, NULL);
    xb_crossbar_matmul(l, 0, x, 3, 11, false, b, scr, NULL);
    xb_crossbar_matmul(l, 0, x, 3, 12, false, d, scr, NULL);
    ref_gemm(w, x, 100, 4, 3, exact);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    cr_assert_neq(memcmp(a, d, sizeof a), 0);
    cr_assert_neq(memcmp(a, exact, sizeof a), 0);
    free(scr);
    xb_crossbar_layer_free(l);

    double s1 = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = xb_hash_normal(xb_hash4(1, 2, 3, (uint64_t)i));
        s1 += z;
        s2 += z * z;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    /* 5 standard errors: 5/sqrt(n) for the mean, 5*sqrt(2/n) for the variance. */
    cr_assert_lt(fabs(mean), 5 / sqrt(n));
    cr_assert_lt(fabs(var - 1), 5 * sqrt(2.0 / n));
}

Test(crossbar, stats_count_saturation_and_zeros) {
    /* K = 4 rows of w = 1 (offset 2-bit: u = 3 in one 2-bit cell); x = 1
     * on all rows, 1 input bit: the single conversion sums 4 * 3 = 12.  A
     * 3-bit ADC clips at 7. */
    xb_crossbar_config c = base_cfg(4, 1, 1, 128, 2, 1, 1, 2, false);
    c.lossless = false;
    c.code_lo = 0;
    c.code_hi = 7;
    int8_t w[4] = {1, 1, 1, 1};
    uint8_t x[8] = {1, 0, 1, 0, 1, 0, 1, 0}; /* P = 2: p0 all ones, p1 all zeros */
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    cr_assert_eq(l->path, XB_XPATH_CORRECTION);
    xb_crossbar_stats st;
    cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
    int32_t acc[2];
    void *scr = malloc(xb_crossbar_scratch_bytes(l, 2));
    xb_crossbar_matmul(l, 0, x, 2, 0, true, acc, scr, &st);
    /* p0: 7 - 2*4 = -1 instead of 4; p1: 0. */
    cr_assert_eq(acc[0], 7 - 8);
    cr_assert_eq(acc[1], 0);
    cr_assert_eq(st.conversions, 2);
    cr_assert_eq(st.saturated, 1);
    cr_assert_eq(st.observed, 2);
    cr_assert_eq(st.zeros, 1);
    cr_assert_eq(st.max_abs, 12);
    cr_assert_eq(st.hist[12 - st.hist_lo], 1);
    /* The correction path counts the same saturation without observing. */
    xb_crossbar_stats st2;
    xb_crossbar_stats_init(&st2, l, &ctx);
    xb_crossbar_matmul(l, 0, x, 2, 0, false, acc, scr, &st2);
    cr_assert_eq(acc[0], -1);
    cr_assert_eq(st2.conversions, 2);
    cr_assert_eq(st2.saturated, 1);
    cr_assert_eq(st2.observed, 0);
    cr_assert_float_eq(xb_crossbar_stats_percentile(&st, 50), 0.0, 0);
    cr_assert_float_eq(xb_crossbar_stats_percentile(&st, 100), 12.0, 0);
    xb_crossbar_stats_free(&st);
    xb_crossbar_stats_free(&st2);
    free(scr);
    xb_crossbar_layer_free(l);
}

/* The fast normals: standard moments, and each value depends only on its
 * index (never on how a batch was cut), which is what makes read noise
 * independent of chunking and threads. */
Test(crossbar, fast_normals_moments_and_batching) {
    int n = 200000;
    float *z = malloc((size_t)n * sizeof *z);
    xb_fast_normals(42, 0, n, z);
    double s1 = 0, s2 = 0, s4 = 0, c01 = 0;
    for (int i = 0; i < n; i++) {
        s1 += z[i];
        s2 += (double)z[i] * z[i];
        s4 += (double)z[i] * z[i] * z[i] * z[i];
        if (i + 1 < n) c01 += (double)z[i] * z[i + 1];
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    cr_assert_lt(fabs(mean), 5 / sqrt(n));
    cr_assert_lt(fabs(var - 1), 5 * sqrt(2.0 / n));
    /* Kurtosis 3 (sd of the estimate ~ sqrt(96/n)); neighbours (the cos and
     * sin of one pair, or two pairs) uncorrelated. */
    cr_assert_lt(fabs(s4 / n - 3), 5 * sqrt(96.0 / n));
    cr_assert_lt(fabs(c01 / (n - 1)), 5 / sqrt(n));
    float part[777];
    xb_fast_normals(42, 12345, 777, part);
    cr_assert_eq(memcmp(part, z + 12345, sizeof part), 0);
    xb_fast_normals(42, 3, 2000, z + 100000);
    for (int i = 0; i < 2000; i++) cr_assert_eq(z[100000 + i], z[3 + i]);
    free(z);
}

/* Center+Offset: the center keeps every offset within the magnitude bits,
 * is 0 when the channel spans the whole range, and for a channel of
 * same-signed weights it cuts the signed ADC's saturation, which is what
 * the encoding is for (RAELLA, ISCA 2023). */
Test(crossbar, center_encoding_balances_columns) {
    rng_state = 77;
    enum { K = 256, N = 3, P = 64 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    for (int k = 0; k < K; k++) {
        w[0 * K + k] = (int8_t)(40 + (int)(rnd() % 41));         /* 40..80 */
        w[1 * K + k] = (int8_t)(k == 0 ? 127 : k == 1 ? -127 : 0); /* full span */
        w[2 * K + k] = (int8_t)(-100 + (int)(rnd() % 31));       /* -100..-70 */
    }
    fill_x(x, K * P, 8);
    int64_t sat[2];
    for (int enc = 1; enc <= 2; enc++) {
        xb_crossbar_config c = base_cfg(K, N, 1, 128, 8, 8, 1, 2, enc);
        c.signed_pair = true;
        c.lossless = false;
        c.code_lo = -32;
        c.code_hi = 31;
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (enc == 2) {
            cr_assert(l->center[0] >= 40 && l->center[0] <= 80, "c0 = %d", l->center[0]);
            cr_assert_eq(l->center[1], 0);
            cr_assert(l->center[2] >= -100 && l->center[2] <= -70, "c2 = %d", l->center[2]);
        }
        int32_t acc[N * P], want[N * P];
        int64_t ns = run_profiled(l, x, P, acc);
        ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, want);
        cr_assert_eq(memcmp(acc, want, sizeof acc), 0);
        sat[enc - 1] = ns;
        xb_crossbar_layer_free(l);
    }
    cr_assert_gt(sat[0], 0);
    cr_assert_lt(sat[1] * 4, sat[0], "center %lld vs differential %lld saturated",
                 (long long)sat[1], (long long)sat[0]);
}

/* ISAAC's flip: with 2-bit cells and 128 rows no column sum passes 192
 * (half of 128 x 3), so an 8-bit unsigned ADC never clips with 1-bit
 * DACs, where the unflipped columns of the same weights do. */
Test(crossbar, flip_halves_column_sums) {
    rng_state = 31;
    enum { K = 128, N = 8, P = 40 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    /* Mostly large weights: w + 128 has high levels in every slice. */
    for (int i = 0; i < N * K; i++) w[i] = (int8_t)(100 + (int)(rnd() % 28));
    for (int i = 0; i < K * P; i++) x[i] = (uint8_t)(rnd() | 0x0f);
    int64_t sat[2];
    for (int flip = 0; flip < 2; flip++) {
        xb_crossbar_config c = base_cfg(K, N, 1, 128, 8, 8, 1, 2, flip ? 3 : 0);
        c.lossless = false;
        c.code_lo = 0;
        c.code_hi = 255;
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (flip) cr_assert_leq(l->max_sum, 192);
        else cr_assert_gt(l->max_sum, 255);
        int32_t acc[N * P], want[N * P];
        int64_t ns = run_profiled(l, x, P, acc);
        ref_clip(&c, NULL, w, x, P, c.code_lo, c.code_hi, want);
        cr_assert_eq(memcmp(acc, want, sizeof acc), 0);
        if (flip) {
            ref_gemm(w, x, K, N, P, want);
            cr_assert_eq(memcmp(acc, want, sizeof acc), 0, "flip: exact at 8 bits");
        }
        sat[flip] = ns;
        xb_crossbar_layer_free(l);
    }
    cr_assert_gt(sat[0], 0);
    cr_assert_eq(sat[1], 0);
}

Test(crossbar, geometry_helpers) {
    cr_assert_eq(xb_row_blocks(300, 128), 3);
    cr_assert_eq(xb_row_blocks(256, 128), 2);
    cr_assert_eq(xb_block_rows(300, 128, false, 0), 128);
    cr_assert_eq(xb_block_rows(300, 128, false, 2), 44);
    cr_assert_eq(xb_block_rows(100, 128, false, 0), 100);
    cr_assert_eq(xb_block_start(300, 128, false, 2), 256);
    /* Even split, as CrossSim: 144 -> 72 + 72, 150 -> 75 + 75, 288 -> 3 x 96,
     * 400 -> 4 x 100; 385 -> 97 + 96 + 96 + 96. */
    cr_assert_eq(xb_block_rows(144, 128, true, 1), 72);
    cr_assert_eq(xb_block_rows(150, 128, true, 0), 75);
    cr_assert_eq(xb_block_start(150, 128, true, 1), 75);
    cr_assert_eq(xb_block_rows(288, 128, true, 2), 96);
    cr_assert_eq(xb_block_rows(400, 128, true, 3), 100);
    cr_assert_eq(xb_block_rows(385, 128, true, 0), 97);
    cr_assert_eq(xb_block_rows(385, 128, true, 3), 96);
    cr_assert_eq(xb_block_start(385, 128, true, 2), 193);
    /* Every row lies in the block that starts at or before it. */
    for (int even = 0; even < 2; even++)
        for (int64_t K = 1; K < 700; K += 7)
            for (int64_t k = 0; k < K; k++) {
                int64_t r = xb_row_block_of(K, 128, even, k), k0 = xb_block_start(K, 128, even, r);
                cr_assert(k >= k0 && k < k0 + xb_block_rows(K, 128, even, r), "K=%lld k=%lld",
                          (long long)K, (long long)k);
            }
    /* N = 3, two slices, signed pairs: conversion 4 is slice 1, output 1:
     * column 1 * 6 + 1; its negative column is 3 further. */
    cr_assert_eq(xb_conversion_col(true, 3, 4), 7);
    cr_assert_eq(xb_conversion_col(false, 3, 4), 4);
    cr_assert_eq(xb_conversions_per_block(true, 12), 6);
    cr_assert_eq(xb_conversions_per_block(false, 12), 12);
}

/* Random speculative slice widths (LSB first, each 1..4 bits) covering xb
 * input bits, as RAELLA's 2-4 bit speculative slices. */
static void random_spec(xb_crossbar_config *c, int xb) {
    int n = 0, left = c->input_slices * c->dac_bits;
    (void)xb;
    while (left > 0 && n < 8) {
        int w = 1 + (int)(rnd() % 4);
        if (w > left || n == 7) w = left;
        c->spec_bits[n++] = (int8_t)w;
        left -= w;
    }
    c->spec_n = n;
}

/* dac.speculation with a lossless ADC never recovers and is the integer
 * product; with a clipping ADC it is the naive model's speculation and
 * recovery, and the counts follow: conversions = units x spec slices +
 * recovered units x narrow slices. */
Test(crossbar, speculation_is_exact_lossless_and_matches_naive_model) {
    rng_state = 4242;
    int recovered_cases = 0;
    for (int it = 0; it < 90; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 2);
        int cell = 1 + (int)(rnd() % 4), diff = (int)(rnd() % 3), adc_bits = 3 + (int)(rnd() % 5);
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 10, P = 1 + rnd() % 40;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 512, wb, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 3);
        maybe_random_slices(&c);
        random_spec(&c, xb);
        bool lossless = it % 3 == 0;
        c.lossless = lossless;
        c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
        c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        if (diff == 2 && (rnd() & 1)) skew(w, N * K, wb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (lossless) ref_gemm(w, x, K, N, P, want);
        else ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, want);
        xb_crossbar_stats st;
        cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK, "%s", ctx.msg);
        void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
        xb_crossbar_matmul(l, 0, x, P, 0, it & 1, acc, scratch, &st);
        free(scratch);
        for (int64_t i = 0; i < N * P; i++)
            cr_assert_eq(acc[i], want[i], "it=%d lossless=%d i=%lld: %d != %d", it, lossless,
                         (long long)i, acc[i], want[i]);
        int64_t ncc = xb_crossbar_convs_per_block(l);
        cr_assert_eq(st.spec_units, l->R * ncc * P);
        cr_assert_eq(st.conversions,
                     st.spec_units * c.spec_n + st.spec_recovered * c.input_slices);
        if (lossless) cr_assert_eq(st.spec_recovered, 0);
        recovered_cases += st.spec_recovered > 0;
        xb_crossbar_stats_free(&st);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
    }
    cr_assert_gt(recovered_cases, 15); /* recovery must actually be exercised */
}

/* --- DATE'24 ADC co-design (sar.h) ---------------------------------------
 * Naive model of the data-dependent SAR for one ADC per crossbar and a
 * crossbar wide enough for the whole layer (cols = 0: every column on one
 * ADC, converted in physical order: for offset (s, n); for differential
 * (s, n, +/-) side by side).  Per (row block, digit, position) the ADC
 * knows the static bound dmax x level sum, the digit sum D times the
 * column's largest level, and T minus the values it already converted
 * (T = the sum of all the group's column sums); it runs bits(bound) trials
 * less e when the code lands at or above F (non-uniform transfer, midpoint
 * of its 2^e interval).  Returns the trials; acc gets the result. */
static int64_t ref_sar(const xb_crossbar_config *c, const int8_t *w, const uint8_t *x, int64_t P,
                       int64_t hi, int64_t F, int e, int32_t *acc) {
    int B = c->weight_bits, d = c->dac_bits, cb = c->cell_bits, u = c->differential ? 2 : 1;
    int wd[16], sh[16], mbits = c->differential ? B - 1 : B;
    for (int s = 0, at = 0; s < c->w_slices; s++) {
        wd[s] = c->slice_bits[0] ? c->slice_bits[s] : (mbits - at < cb ? mbits - at : cb);
        sh[s] = at;
        at += wd[s];
    }
    int64_t dmax = (1 << d) - 1, trials = 0, R = (c->K + c->rows - 1) / c->rows;
    double *tot = calloc((size_t)(c->N * P), sizeof *tot);
    for (int64_t r = 0; r < R; r++) {
        int64_t k0 = r * c->rows, k1 = k0 + c->rows < c->K ? k0 + c->rows : c->K;
        for (int j = 0; j < c->input_slices; j++)
            for (int64_t p = 0; p < P; p++) {
                int64_t D = 0, T = 0, run = 0;
                for (int64_t k = k0; k < k1; k++) D += (x[k * P + p] >> (j * d)) & dmax;
                /* level of (k, s, n, pol) */
#define LEV(k, s, n, pol)                                                                          \
    (c->differential ? ((pol) == (w[(n) * c->K + (k)] < 0) ? (abs(w[(n) * c->K + (k)]) >> sh[s]) & \
                                                                 ((1 << wd[s]) - 1)               \
                                                           : 0)                                    \
                     : ((w[(n) * c->K + (k)] + (1 << (B - 1))) >> sh[s]) & ((1 << wd[s]) - 1))
                for (int s = 0; s < c->w_slices; s++)
                    for (int64_t n = 0; n < c->N; n++)
                        for (int pol = 0; pol < u; pol++)
                            for (int64_t k = k0; k < k1; k++)
                                T += ((x[k * P + p] >> (j * d)) & dmax) * LEV(k, s, n, pol);
                for (int s = 0; s < c->w_slices; s++)
                    for (int64_t n = 0; n < c->N; n++)
                        for (int pol = 0; pol < u; pol++) {
                            int64_t S = 0, ls = 0, cm = 0;
                            for (int64_t k = k0; k < k1; k++) {
                                int64_t lv = LEV(k, s, n, pol);
                                S += ((x[k * P + p] >> (j * d)) & dmax) * lv;
                                ls += lv;
                                cm = lv > cm ? lv : cm;
                            }
                            int64_t b = dmax * ls;
                            if (D * cm < b) b = D * cm;
                            if (T - run < b) b = T - run;
                            if (b > hi) b = hi;
                            int nb = 0;
                            while (nb < 62 && ((int64_t)1 << nb) <= b) nb++;
                            int64_t y = S > hi ? hi : S;
                            double out = (double)y;
                            int low = 0;
                            if (F > 0 && y >= F) {
                                low = e;
                                out = (double)((y >> e) << e) + ((double)(1 << e) - 1) / 2;
                            }
                            trials += nb - low;
                            run += low ? (y >> e) << e : y;
                            tot[n * P + p] += (pol ? -out : out) * ldexp(1.0, j * d + sh[s]);
                        }
#undef LEV
            }
    }
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t p = 0; p < P; p++) {
            double xs = 0;
            for (int64_t k = 0; k < c->K; k++) xs += x[k * P + p];
            if (!c->differential) tot[n * P + p] -= xs * ldexp(1.0, B - 1);
            acc[n * P + p] = (int32_t)llrint(tot[n * P + p]);
        }
    free(tot);
    return trials;
}

/* Data-dependent skipping with an ideal or clipping ADC loses nothing:
 * every encoding equals the naive clip model (ref_clip), on the full path
 * it forces, and never runs more trials than the static bounds. */
Test(crossbar, sar_data_skipping_is_exact) {
    rng_state = 2024;
    int cases = 0, fewer = 0;
    for (int it = 0; it < 60; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 2);
        int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4), adc_bits = 4 + (int)(rnd() % 5);
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 12, P = 1 + rnd() % 20;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        c.cols = (rnd() & 1) ? 0 : 32;
        c.adcs_per_xbar = 1 + (int)(rnd() % 2);
        maybe_random_slices(&c);
        bool clip = rnd() & 1;
        c.lossless = !clip;
        c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
        c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (clip) {
            ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, want);
        } else {
            xb_crossbar_layer_set_adc(l, true, 1, c.code_lo, c.code_hi + 4096); /* no clipping */
            ref_gemm(w, x, K, N, P, want);
        }
        int mode = (it & 2) ? XB_SAR_COLUMN : XB_SAR_DATA; /* with and without running sums */
        cr_assert_eq(xb_sar_attach(l, mode, adc_bits, NULL, &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_eq(l->path, XB_XPATH_FULL);
        for (int prof = 0; prof < 2; prof++) {
            xb_crossbar_stats st;
            cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
            void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
            xb_crossbar_matmul(l, 0, x, P, 0, prof, acc, scratch, &st);
            free(scratch);
            for (int64_t i = 0; i < N * P; i++)
                cr_assert_eq(acc[i], want[i], "it=%d diff=%d pair=%d clip=%d i=%lld: %d != %d", it,
                             diff, c.signed_pair, clip, (long long)i, acc[i], want[i]);
            cr_assert_eq(st.sar_convs, st.conversions);
            double t, u;
            xb_sar_static_units(l, adc_bits, &t, &u);
            cr_assert_leq((double)st.sar_trials, t * (double)st.sar_convs + 1e-6, "it=%d", it);
            cr_assert_leq(st.sar_trials, st.sar_trials_col);
            if (mode == XB_SAR_COLUMN) cr_assert_eq(st.sar_trials, st.sar_trials_col);
            fewer += (double)st.sar_trials < t * (double)st.sar_convs;
            xb_crossbar_stats_free(&st);
        }
        cases++;
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
    }
    cr_assert_eq(cases, 60);
    cr_assert_gt(fewer, 60); /* the data bounds do skip more than the static ones */
}

/* The trials counted and the non-uniform transfer's values both equal the
 * naive model (one ADC for the whole layer, unsigned conversions). */
Test(crossbar, sar_trials_and_nonuniform_match_naive_model) {
    rng_state = 77;
    for (int it = 0; it < 40; it++) {
        int wb = 3 + (int)(rnd() % 6), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 2);
        int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 2), adc_bits = 5 + (int)(rnd() % 4);
        int64_t K = 1 + rnd() % 200, N = 1 + rnd() % 8, P = 1 + rnd() % 12;
        xb_crossbar_config c = base_cfg(K, N, 1, 64, wb, xb, dac, cell, diff);
        maybe_random_slices(&c);
        c.lossless = false;
        c.code_lo = 0;
        c.code_hi = (1 << adc_bits) - 1;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        int m = 1 + (int)(rnd() % (uint32_t)(adc_bits - 1)), e = 1 + (int)(rnd() % (uint32_t)m);
        xb_nu_quant q = {.fine = (it & 1) ? (int64_t)1 << m : 0, .coarse_log2 = e};
        cr_assert_eq(xb_sar_attach(l, XB_SAR_DATA, adc_bits, &q, &ctx), XB_OK, "%s", ctx.msg);
        int64_t trials = ref_sar(&c, w, x, P, c.code_hi, q.fine, e, want);
        xb_crossbar_stats st;
        cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
        void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
        xb_crossbar_matmul(l, 0, x, P, 0, false, acc, scratch, &st);
        free(scratch);
        for (int64_t i = 0; i < N * P; i++)
            cr_assert_eq(acc[i], want[i], "it=%d F=%lld e=%d i=%lld: %d != %d", it,
                         (long long)q.fine, e, (long long)i, acc[i], want[i]);
        cr_assert_eq(st.sar_trials, trials, "it=%d: %lld != %lld", it, (long long)st.sar_trials,
                     (long long)trials);
        xb_crossbar_stats_free(&st);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
    }
}

/* A zero error budget never picks a lossy transfer (so adc.quantizer=
 * nonuniform with adc.nonuniform_error=0 is exact), and a generous one
 * picks a transfer whose estimated error stays within it. */
Test(crossbar, nonuniform_choice_respects_budget) {
    rng_state = 5;
    xb_crossbar_config c = base_cfg(200, 16, 1, 128, 8, 8, 1, 2, 0);
    c.lossless = false;
    c.code_hi = 255;
    int64_t K = 200, N = 16, P = 40;
    int8_t *w = malloc((size_t)(N * K));
    uint8_t *x = malloc((size_t)(K * P));
    int32_t *acc = malloc((size_t)(N * P) * 4);
    fill(w, x, N * K, K * P, 8, 8);
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    xb_crossbar_stats st;
    cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
    void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
    xb_crossbar_matmul(l, 0, x, P, 0, true, acc, scratch, &st);
    free(scratch);
    xb_nu_quant q0 = xb_nu_choose(&st, 0, 255, 1, 0);
    cr_assert_eq(q0.fine, 0);
    xb_nu_quant q1 = xb_nu_choose(&st, 0, 255, 1, 0.05);
    cr_assert_gt(q1.fine, 0);
    cr_assert_leq(q1.rel_rms, 0.05);
    cr_assert_gt(q1.coarse_share, 0);
    xb_crossbar_stats_free(&st);
    xb_crossbar_layer_free(l);
    free(w);
    free(x);
    free(acc);
}

/* Binary weights (weight_bits 1, ORSS'23): +/-1 on one offset cell ((w+1)/2,
 * with and without flip) or on a differential pair, any DAC, cell and ADC
 * width, with sparsity-aware input control on or off: the full simulation
 * and the fast paths equal the naive model, and with a lossless ADC the
 * integer product. */
Test(crossbar, binary_weights_and_input_control_match_naive_model) {
    rng_state = 4242;
    for (int it = 0; it < 80; it++) {
        int xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 3), cell = 1 + (int)(rnd() % 3);
        int enc = (int)(rnd() % 3), diff = enc == 0 ? 0 : enc == 1 ? 1 : 3; /* offset, pair, flip */
        if (dac > xb) dac = 1;
        int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 12, P = 1 + rnd() % 40;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 32, 1, xb, dac, cell, diff);
        c.even_rows = it & 1;
        c.signed_pair = c.differential && (rnd() & 1);
        c.input_control = rnd() & 1;
        int adc_bits = 2 + (int)(rnd() % 6);
        c.lossless = it % 3 == 0;
        c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
        c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        if (c.lossless) c.code_lo = -(1 << 30), c.code_hi = 1 << 30;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        for (int64_t i = 0; i < N * K; i++) w[i] = (rnd() & 1) ? 1 : -1;
        fill_x(x, K * P, xb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        if (c.lossless) ref_gemm(w, x, K, N, P, want);
        else ref_clip(&c, NULL, w, x, P, c.code_lo, c.code_hi, want);
        for (int prof = 0; prof < 2; prof++) {
            run_layer(l, x, P, prof, acc, 0);
            for (int64_t i = 0; i < N * P; i++)
                cr_assert_eq(acc[i], want[i], "it=%d enc=%d path=%d full=%d i=%lld: %d != %d", it,
                             enc, l->path, prof, (long long)i, acc[i], want[i]);
        }
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
    }
}

/* Binary weights refuse 0 (and anything but +/-1). */
Test(crossbar, binary_weights_reject_zero) {
    xb_crossbar_config c = base_cfg(4, 1, 1, 128, 1, 8, 1, 2, 0);
    int8_t w[4] = {1, -1, 0, 1};
    xb_ctx ctx = {0};
    cr_assert_null(xb_crossbar_layer_new(&c, w, &ctx));
    cr_assert(strstr(ctx.msg, "does not fit 1-bit"), "%s", ctx.msg);
}

/* Input control under read noise: a position whose inputs are all zero gets
 * exactly 0 (no noise reaches it) and its conversions are counted as
 * skipped; without input control the same position is noisy. */
Test(crossbar, input_control_silences_idle_blocks) {
    rng_state = 77;
    int64_t K = 200, N = 6, P = 8;
    xb_crossbar_config c = base_cfg(K, N, 1, 64, 1, 2, 1, 1, 0);
    c.read_sigma = 2.0;
    int8_t w[1200];
    uint8_t x[1600];
    for (int64_t i = 0; i < N * K; i++) w[i] = (rnd() & 1) ? 1 : -1;
    fill_x(x, K * P, 2);
    for (int64_t k = 0; k < K; k++) x[k * P + 3] = 0; /* position 3 idle */
    int32_t on[48], off[48];
    xb_ctx ctx = {0};
    for (int ic = 0; ic < 2; ic++) {
        c.input_control = ic;
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        xb_crossbar_stats st;
        cr_assert_eq(xb_crossbar_stats_init(&st, l, &ctx), XB_OK);
        void *scratch = malloc(xb_crossbar_scratch_bytes(l, P));
        xb_crossbar_matmul(l, 0, x, P, 0, true, ic ? on : off, scratch, &st);
        if (ic) cr_assert_geq(st.skipped, l->R * c.input_slices * N, "skipped %lld", (long long)st.skipped);
        else cr_assert_eq(st.skipped, 0);
        free(scratch);
        xb_crossbar_stats_free(&st);
        xb_crossbar_layer_free(l);
    }
    int noisy = 0;
    for (int64_t n = 0; n < N; n++) {
        cr_assert_eq(on[n * P + 3], 0, "output %lld", (long long)n);
        noisy += off[n * P + 3] != 0;
    }
    cr_assert_gt(noisy, 0);
}

/* Analog buffers (TIMELY / LayCO, analog_buffer.h): a layer built with rows
 * = chain x xbar_rows equals, with the buffer noise off, the integer
 * product under a lossless ADC and the naive model (which adds the chain's
 * per-crossbar psums explicitly) under a clipping ADC. */
Test(crossbar, analog_buffer_chain_matches_naive_model) {
    rng_state = 2024;
    int clipped_cases = 0;
    for (int it = 0; it < 80; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 7), dac = 1 + (int)(rnd() % 8);
        int cell = 1 + (int)(rnd() % 4), diff = (int)(rnd() % 3), adc_bits = 4 + (int)(rnd() % 8);
        if (dac > xb) dac = xb;
        static const int xr[] = {16, 32, 50, 128}, ch[] = {1, 2, 3, 12};
        int xbar_rows = xr[rnd() % 4], chain = ch[rnd() % 4];
        int64_t K = 1 + rnd() % 700, N = 1 + rnd() % 10, P = 1 + rnd() % 6;
        xb_crossbar_config c =
            base_cfg(K, N, 1, xbar_rows * chain, wb, xb, dac, cell, diff);
        c.xbar_rows = xbar_rows;
        c.signed_pair = c.differential && (rnd() & 1);
        maybe_random_slices(&c);
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, wb, xb);
        xb_ctx ctx = {0};
        for (int lossless = 1; lossless >= 0; lossless--) {
            c.lossless = lossless;
            c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
            c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
            xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
            cr_assert_not_null(l, "%s", ctx.msg);
            if (lossless) ref_gemm(w, x, K, N, P, want);
            else ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, want);
            if (!lossless) {
                int32_t *exact = malloc((size_t)(N * P) * 4);
                ref_gemm(w, x, K, N, P, exact);
                clipped_cases += memcmp(want, exact, (size_t)(N * P) * 4) != 0;
                free(exact);
            }
            for (int prof = 0; prof < 2; prof++) {
                run_layer(l, x, P, prof, acc, 0);
                for (int64_t i = 0; i < N * P; i++)
                    cr_assert_eq(acc[i], want[i], "it=%d lossless=%d full=%d i=%lld: %d != %d", it,
                                 lossless, prof, (long long)i, acc[i], want[i]);
            }
            xb_crossbar_layer_free(l);
        }
        free(w);
        free(x);
        free(acc);
        free(want);
    }
    cr_assert_gt(clipped_cases, 10);
}

/* Each buffer stage adds independent noise: the error of a conversion over
 * a chain of s crossbars has variance s x sigma^2 (+ 1/12 of the rounding).
 * One slice, one input digit, offset weights: acc = ADC(S) - 2^(B-1) sum x,
 * so the error of acc is the error of the one conversion. */
Test(crossbar, analog_buffer_noise_grows_with_stages) {
    rng_state = 77;
    int64_t N = 8, P = 1500;
    double var[2];
    for (int t = 0; t < 2; t++) {
        int stages = t ? 4 : 1, xbar_rows = 32;
        int64_t K = (int64_t)stages * xbar_rows;
        xb_crossbar_config c = base_cfg(K, N, 1, xbar_rows * 4, 4, 4, 4, 4, 0);
        c.xbar_rows = xbar_rows;
        c.buf_sigma = 3.0;
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        int32_t *acc = malloc((size_t)(N * P) * 4), *want = malloc((size_t)(N * P) * 4);
        fill(w, x, N * K, K * P, 4, 4);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        cr_assert_eq(l->path, XB_XPATH_FULL);
        ref_gemm(w, x, K, N, P, want);
        run_layer(l, x, P, false, acc, 0);
        double s2 = 0;
        for (int64_t i = 0; i < N * P; i++) s2 += (double)(acc[i] - want[i]) * (acc[i] - want[i]);
        var[t] = s2 / (double)(N * P);
        double expect = stages * 9.0 + 1.0 / 12;
        cr_assert(fabs(var[t] - expect) < 0.08 * expect, "stages %d: variance %g, expected %g",
                  stages, var[t], expect);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
        free(acc);
        free(want);
    }
    cr_assert_gt(var[1], 3 * var[0]);
}

/* dac.model = pulse (pulses.c): a pulse-train DAC sends d unit pulses for
 * an input digit d.  With 1-bit slices that is the popcount of every code;
 * 2-bit slices count the digits' values; speculation adds its wide slices'
 * digits to the bit-serial recovery's (every row runs both passes). */
Test(crossbar, dac_pulses_count_digit_values) {
    rng_state = 91;
    int64_t K = 37, N = 3, P = 5;
    int8_t w[111];
    uint8_t x[185];
    for (int64_t i = 0; i < N * K; i++) w[i] = (int8_t)(rnd() % 7 - 3);
    fill_x(x, K * P, 8);
    int64_t pop = 0, d2 = 0, spec = 0;
    for (int64_t i = 0; i < K * P; i++) {
        int v = x[i];
        for (int b = 0; b < 8; b++) pop += (v >> b) & 1;
        for (int b = 0; b < 8; b += 2) d2 += (v >> b) & 3;
        spec += (v & 3) + ((v >> 2) & 3) + (v >> 4); /* 4/2/2, MSB first */
    }
    xb_ctx ctx = {0};
    const int dac[3] = {1, 2, 1};
    const int64_t want[3] = {pop, d2, pop + spec};
    for (int t = 0; t < 3; t++) {
        xb_crossbar_config c = base_cfg(K, N, 1, 16, 4, 8, dac[t], 2, 1);
        if (t == 2) {
            c.spec_n = 3;
            c.spec_bits[0] = 2, c.spec_bits[1] = 2, c.spec_bits[2] = 4;
        }
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        cr_assert_eq(xb_crossbar_count_pulses(l, x, P), want[t], "case %d: %lld, want %lld", t,
                     (long long)xb_crossbar_count_pulses(l, x, P), (long long)want[t]);
        xb_crossbar_layer_free(l);
    }
}

/* Integer read noise (dnoise.h, since session 8) against the naive model
 * with float normals, y = clamp(round(S + sigma z)): over many images (each
 * its own draws) every output's mean and variance agree within sampling
 * error, for 1- and 2-bit DACs, offset, differential, signed-pair and
 * flipped columns, clipping and lossless ADCs and several sigma.  The
 * clamp makes the noise biased where sums are small (max(n, 0) at S = 0),
 * so the means also test that the clamp sees S + n, not S. */
Test(crossbar, int_read_noise_matches_naive_model_in_distribution) {
    rng_state = 31337;
    enum { T = 1500 };
    static const double sig[] = {0.3, 0.5, 1.0, 2.0};
    int biased = 0, outputs = 0;
    for (int it = 0; it < 12; it++) {
        int wb = 2 + (int)(rnd() % 7), xb = 2 + (int)(rnd() % 3), dac = it % 3 == 2 ? 2 : 1;
        int cell = 1 + (int)(rnd() % 2), diff = it % 4, adc_bits = 3 + (int)(rnd() % 4);
        int64_t K = 1 + rnd() % 150, N = 1 + rnd() % 3, P = 1 + rnd() % 3;
        xb_crossbar_config c = base_cfg(K, N, 1, (rnd() & 1) ? 128 : 64, wb, xb, dac, cell, diff);
        c.signed_pair = c.differential && (it & 4);
        c.read_sigma = sig[it % 4];
        if (it % 5) {
            c.lossless = false;
            c.code_lo = c.signed_pair ? -(1 << (adc_bits - 1)) : 0;
            c.code_hi = c.signed_pair ? (1 << (adc_bits - 1)) - 1 : (1 << adc_bits) - 1;
        } else {
            c.code_lo = -(1 << 30), c.code_hi = 1 << 30;
        }
        int8_t *w = malloc((size_t)(N * K));
        uint8_t *x = malloc((size_t)(K * P));
        fill(w, x, N * K, K * P, wb, xb);
        xb_ctx ctx = {0};
        xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
        cr_assert_not_null(l, "%s", ctx.msg);
        cr_assert(xb_crossbar_int_noise(l), "it %d: the integer read noise does not apply", it);
        int64_t NP = N * P;
        double *m = calloc((size_t)(4 * NP), sizeof *m); /* sum, sum^2: layer, then naive */
        int32_t *acc = malloc((size_t)NP * 4), *exact = malloc((size_t)NP * 4);
        void *scr = malloc(xb_crossbar_scratch_bytes(l, P));
        for (int t = 0; t < T; t++) {
            xb_crossbar_matmul(l, 0, x, P, t, false, acc, scr, NULL);
            for (int64_t i = 0; i < NP; i++) m[i] += acc[i], m[NP + i] += (double)acc[i] * acc[i];
            ref_rsigma = c.read_sigma;
            ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, acc);
            ref_rsigma = 0;
            for (int64_t i = 0; i < NP; i++)
                m[2 * NP + i] += acc[i], m[3 * NP + i] += (double)acc[i] * acc[i];
        }
        ref_clip(&c, l->center, w, x, P, c.code_lo, c.code_hi, exact);
        for (int64_t i = 0; i < NP; i++) {
            double ma = m[i] / T, va = m[NP + i] / T - ma * ma;
            double mb = m[2 * NP + i] / T, vb = m[3 * NP + i] / T - mb * mb;
            double se = sqrt((va + vb) / T);
            cr_assert_leq(fabs(ma - mb), 5 * se + 1e-9, "it %d out %lld: mean %.3f vs naive %.3f",
                          it, (long long)i, ma, mb);
            /* variance: standard error about v sqrt(2 / T) for near-normal sums */
            cr_assert_leq(fabs(va - vb), 6 * sqrt(2.0 / T) * (va > vb ? va : vb) + 1e-9,
                          "it %d out %lld: variance %.3f vs naive %.3f", it, (long long)i, va, vb);
            biased += fabs(mb - exact[i]) > 5 * sqrt(vb / T) + 1e-9;
            outputs++;
        }
        free(m);
        free(acc);
        free(exact);
        free(scr);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    /* the clamp's bias is visible in the naive model (its mean departs from
     * the noise-free result by more than 5 standard errors), so the means
     * would reject noise added after the clamp */
    cr_assert_gt(biased, 0, "%d of %d outputs biased", biased, outputs);
}

/* Where the integer read noise is not exact (a rounding ADC, LSB > 1) the
 * float normals stay: same seeds, same results as before session 8
 * (crossbar/fast_normals_stream_is_pinned pins that stream). */
Test(crossbar, int_read_noise_only_where_exact) {
    xb_crossbar_config c = base_cfg(50, 2, 1, 128, 8, 8, 1, 2, 0);
    c.read_sigma = 0.5;
    c.lossless = false;
    c.code_lo = 0, c.code_hi = 255;
    int8_t w[100];
    uint8_t x[50];
    rng_state = 5;
    fill(w, x, 100, 50, 8, 8);
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    cr_assert(xb_crossbar_int_noise(l));
    xb_crossbar_layer_set_adc(l, false, 1.5, 0, 255);
    cr_assert_not(xb_crossbar_int_noise(l));
    xb_crossbar_layer_free(l);
    c.read_current_sigma = 0.1;
    l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not(xb_crossbar_int_noise(l));
    xb_crossbar_layer_free(l);
    c.read_current_sigma = 0;
    c.input_control = true;
    l = xb_crossbar_layer_new(&c, w, &ctx);
    cr_assert_not(xb_crossbar_int_noise(l));
    xb_crossbar_layer_free(l);
}

/* A random layer with 1-bit digits for the fused-kernel tests (dnoise.c,
 * direct.c): weight, input and cell bits, encoding (no signed pairs unless
 * pairs), 1-2 groups, 64- or 128-row crossbars, K, N and P >= pmin, and a
 * random code width; the caller sets the ADC and noise before
 * fused_case_layer builds it on random sparse inputs (ReLU layers: runs of
 * 16 positions with no active row). */
typedef struct {
    xb_crossbar_config c;
    int64_t P;
    int wb, xb, adc_bits;
} fused_case;

static fused_case random_fused_case(int64_t pmin, bool pairs) {
    fused_case f;
    f.wb = 2 + (int)(rnd() % 7), f.xb = 1 + (int)(rnd() % 8);
    int cell = 1 + (int)(rnd() % 3), diff = (int)(rnd() % 4);
    f.adc_bits = 3 + (int)(rnd() % 6);
    if (!pairs && diff == 1) diff = 0;
    int64_t K = 1 + rnd() % 300, N = 1 + rnd() % 9;
    f.P = pmin + rnd() % 700;
    f.c = base_cfg(K, N, 1 + (int)(rnd() % 2), (rnd() & 1) ? 128 : 64, f.wb, f.xb, 1, cell, diff);
    return f;
}

static xb_crossbar_layer *fused_case_layer(const fused_case *f, int8_t **w, uint8_t **x) {
    const xb_crossbar_config *c = &f->c;
    int64_t nw = c->groups * c->N * c->K, nx = c->groups * c->K * f->P;
    *w = malloc((size_t)nw);
    *x = malloc((size_t)nx);
    fill(*w, *x, nw, nx, f->wb, f->xb);
    int zshare = (int)(rnd() % 4);
    for (int64_t i = 0; i < nx; i++)
        if ((int)(rnd() % 4) < zshare) (*x)[i] = 0;
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(c, *w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    return l;
}

/* The fused block of the integer read noise (dnoise.h, xb_dnoise_block:
 * popcount sums and conversions in one pass) against the sums-then-columns
 * path it replaces: the same outputs and saturation counts, bit for bit,
 * over random layers (1-bit DACs, 64- and 128-row blocks so one or two mask
 * words, 1-3 level planes, offset, differential, center and flipped
 * columns, clipping and lossless ADCs, sigma with 1-4 and more thresholds,
 * sparse inputs so that some 16-position runs have no active row, and
 * position counts that end in a partial run and span several chunks), and
 * a profile image's statistics of the values before the clamp. */
Test(crossbar, int_read_noise_fused_matches_unfused) {
    rng_state = 2718;
    static const double sig[] = {0.2, 0.5, 0.9, 1.3, 2.5};
    int fused_layers = 0, isaac_shaped = 0;
    int64_t fused_blocks = 0;
    for (int it = 0; it < 40; it++) {
        fused_case f = random_fused_case(1, true);
        xb_crossbar_config *c = &f.c;
        c->read_sigma = sig[it % 5];
        if (it % 4) {
            c->lossless = false;
            c->code_lo = 0, c->code_hi = (1 << f.adc_bits) - 1;
        } else {
            c->code_lo = -(1 << 30), c->code_hi = 1 << 30;
        }
        int8_t *w;
        uint8_t *x;
        xb_crossbar_layer *l = fused_case_layer(&f, &w, &x);
        int64_t P = f.P;
        cr_assert(xb_crossbar_int_noise(l), "it %d: the integer read noise does not apply", it);
        fused_layers += l->levbits != NULL;
        /* 2-bit cells in blocks of up to 128 rows: the fused block's constant-shape loops,
         * for the profile image (its statistics compared too) as for the others */
        isaac_shaped += l->levbits && l->lev_planes == 2 && l->lev_words == 2;
        fused_blocks += fused_matches_unfused(xb_dnoise_set_fused, l, x, P, 10 * it, 3, true, it);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    /* the fused block serves layers with popcount planes (CPU with VPOPCNTDQ) */
    if (xb_dnoise_fused_usable()) {
        cr_assert_gt(fused_layers, 20);
        cr_assert_gt(isaac_shaped, 3, "%d layers had isaac's shape", isaac_shaped);
        cr_assert_gt(fused_blocks, 20, "the fused block ran %lld times", (long long)fused_blocks);
    }
}

/* A rounding ADC's conversions fused with the popcount sums (direct.c)
 * against the sums-then-conversions path (convert.c's add_simple): the same
 * int32 outputs and clamp counts (fused_matches_unfused) for random shapes,
 * LSBs and code ranges, 1-bit digits (the popcount planes), short last
 * blocks and partial runs, ISAAC's flip (which stays unfused) and the
 * center encoding. */
Test(crossbar, direct_fused_matches_unfused) {
    rng_state = 4242;
    static const double lsbs[] = {1.5, 2.0, 2.75, 3.3, 7.0};
    int64_t ran = 0;
    int popcount_layers = 0;
    for (int it = 0; it < 40; it++) {
        fused_case f = random_fused_case(8, false); /* signed pairs stay unfused */
        f.c.lossless = false;
        f.c.lsb = lsbs[it % 5];
        f.c.code_lo = 0, f.c.code_hi = (1 << f.adc_bits) - 1;
        int8_t *w;
        uint8_t *x;
        xb_crossbar_layer *l = fused_case_layer(&f, &w, &x);
        int64_t P = f.P;
        cr_assert_eq(l->path, XB_XPATH_FULL);
        popcount_layers += l->levbits != NULL;
        ran += fused_matches_unfused(xb_direct_set_fused, l, x, P, 0, 1, false, it);
        xb_crossbar_layer_free(l);
        free(w);
        free(x);
    }
    /* the fused block serves the layers with popcount planes (CPU with VPOPCNTDQ) */
    if (popcount_layers > 0)
        cr_assert_gt(ran, 20, "%d popcount layers, the fused block ran %lld times",
                     popcount_layers, (long long)ran);
}
