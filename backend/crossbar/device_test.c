/* Device and circuit non-idealities (device.c, table.c, convert.c): each
 * at 0 leaves the exact result and path; hand-computed and naive
 * references; seeded draws independent of the thread count. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/crossbar/crossbar.h"

static uint64_t rs;
static uint32_t rnd(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rs >> 33);
}

/* diff: 0 offset, 1 differential, 3 offset with flip. */
static xb_crossbar_config cfg_of(int64_t K, int64_t N, int rows, int wb, int xb, int cell,
                                 int diff) {
    xb_crossbar_config c;
    memset(&c, 0, sizeof c);
    c.K = K;
    c.N = N;
    c.groups = 1;
    c.rows = rows;
    c.dac_bits = 1;
    c.input_slices = xb;
    c.cell_bits = cell;
    c.weight_bits = wb;
    c.differential = diff == 1;
    c.flip = diff == 3;
    int mb = c.differential ? wb - 1 : wb;
    c.w_slices = (mb + cell - 1) / cell;
    c.lossless = true;
    c.lsb = 1;
    c.seed = 3;
    c.drift_t0 = 20;
    return c;
}

static void fill(int8_t *w, int64_t nw, uint8_t *x, int64_t nx, int wb, int xb) {
    int wmax = (1 << (wb - 1)) - 1;
    for (int64_t i = 0; i < nw; i++) w[i] = (int8_t)((int)(rnd() % (2 * wmax + 1)) - wmax);
    for (int64_t i = 0; i < nx; i++) x[i] = (rnd() & 3) ? (uint8_t)(rnd() % (1u << xb)) : 0;
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

static xb_crossbar_layer *build(const xb_crossbar_config *c, const int8_t *w) {
    xb_ctx ctx = {0};
    xb_crossbar_layer *l = xb_crossbar_layer_new(c, w, &ctx);
    cr_assert_not_null(l, "%s", ctx.msg);
    return l;
}

static void run(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, int64_t image,
                int32_t *acc) {
    void *scr = malloc(xb_crossbar_scratch_bytes(l, P));
    xb_crossbar_matmul(l, 0, x, P, image, false, acc, scr, NULL);
    free(scr);
}

/* Every new field at 0 (off compensation on, the arch default) keeps the
 * exact path and the int8 product, for a lossless and a clipping ADC. */
Test(device, zero_is_exact_and_keeps_fast_paths) {
    rs = 1;
    enum { K = 200, N = 5, P = 9 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    fill(w, N * K, x, K * P, 8, 8);
    int32_t acc[N * P], want[N * P];
    ref_gemm(w, x, K, N, P, want);
    for (int diff = 0; diff < 4; diff += (diff == 1 ? 2 : 1)) {
        xb_crossbar_config c = cfg_of(K, N, 128, 8, 8, 2, diff);
        c.off_comp = true;
        c.cols = 128;
        c.adcs_per_xbar = 1;
        xb_crossbar_layer *l = build(&c, w);
        cr_assert_eq(l->path, XB_XPATH_EXACT);
        cr_assert_null(l->cond);
        cr_assert_null(l->adc_err);
        run(l, x, P, 0, acc);
        cr_assert_eq(memcmp(acc, want, sizeof acc), 0);
        xb_crossbar_layer_set_adc(l, false, 1, 0, 255);
        cr_assert_neq(l->path, XB_XPATH_FULL, "a clipping 8-bit ADC keeps exact/correction");
        xb_crossbar_layer_free(l);
    }
}

/* Off-state current: ratio 2 with 1-bit cells gives g0 = 1; uncompensated
 * the hand example of crossbar_test gives 3, compensated 0.  With g0 an
 * integer (2-bit cells, ratio 4: g0 = 1) every column sum stays an integer,
 * so compensation restores the int8 product exactly, for offset, flip,
 * differential and signed pairs. */
Test(device, off_state_compensation_is_exact) {
    xb_crossbar_config c = cfg_of(1, 1, 128, 2, 1, 1, 0);
    c.on_off_ratio = 2;
    int8_t w1 = 0;
    uint8_t x1 = 1;
    int32_t a1;
    for (int comp = 0; comp < 2; comp++) {
        c.off_comp = comp;
        xb_crossbar_layer *l = build(&c, &w1);
        run(l, &x1, 1, 0, &a1);
        cr_assert_eq(a1, comp ? 0 : 3);
        xb_crossbar_layer_free(l);
    }
    rs = 2;
    enum { K = 300, N = 6, P = 7 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    fill(w, N * K, x, K * P, 8, 8);
    int32_t acc[N * P], want[N * P];
    ref_gemm(w, x, K, N, P, want);
    for (int diff = 0; diff < 5; diff++) {
        if (diff == 2) continue;
        xb_crossbar_config d = cfg_of(K, N, 128, 8, 8, 2, diff == 4 ? 1 : diff);
        d.signed_pair = diff == 4;
        d.on_off_ratio = 4;
        d.off_comp = true;
        xb_crossbar_layer *l = build(&d, w);
        cr_assert_eq(l->path, XB_XPATH_FULL);
        run(l, x, P, 0, acc);
        for (int i = 0; i < N * P; i++) cr_assert_eq(acc[i], want[i], "diff %d i %d", diff, i);
        xb_crossbar_layer_free(l);
    }
}

/* The ADC transfer as docs/ARCH.md states it, in float like the ADC pass:
 * v (1 + gain) + (offset + a 4x(1-x)) LSB, x = position in the code range. */
static float transfer(const xb_crossbar_config *c, const float *e, float v) {
    float x = (v / (float)c->lsb - (float)c->code_lo) / (float)(c->code_hi - c->code_lo);
    if (x < 0) x = 0;
    if (x > 1) x = 1;
    return v * (1.0f + e[1]) + (e[0] + e[2] * 4.0f * x * (1.0f - x)) * (float)c->lsb;
}

/* Naive reference for the ADC errors (offset encoding and differential,
 * unsigned or signed pair; clipping ADC with LSB 1): conversion by
 * conversion, each through the transfer of its own ADC's drawn errors. */
static void ref_adc(const xb_crossbar_layer *l, const int8_t *w, const uint8_t *x, int64_t P,
                    int32_t *acc) {
    const xb_crossbar_config *c = &l->cfg;
    int B = c->weight_bits, cb = c->cell_bits, u = c->differential ? 2 : 1;
    int64_t ncc = c->signed_pair ? c->w_slices * c->N : l->C;
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t p = 0; p < P; p++) {
            double total = 0;
            int64_t xsum = 0;
            for (int64_t k = 0; k < c->K; k++) xsum += x[k * P + p];
            for (int64_t r = 0; r * c->rows < c->K; r++)
                for (int j = 0; j < c->input_slices; j++)
                    for (int s = 0; s < c->w_slices; s++) {
                        int64_t S[2] = {0, 0};
                        for (int64_t k = r * c->rows; k < c->K && k < (r + 1) * c->rows; k++) {
                            int wv = w[n * c->K + k], dg = (x[k * P + p] >> j) & 1;
                            int pol = c->differential && wv < 0;
                            unsigned mag = c->differential ? (unsigned)abs(wv)
                                                           : (unsigned)(wv + (1 << (B - 1)));
                            S[pol] += dg * (int64_t)((mag >> (s * cb)) & ((1u << cb) - 1));
                        }
                        for (int pol = 0; pol < (c->signed_pair ? 1 : u); pol++) {
                            int64_t cc = c->signed_pair ? s * c->N + n : (s * u + pol) * c->N + n;
                            const float *e = l->adc_err + (r * ncc + cc) * 3;
                            float v = (float)(c->signed_pair ? S[0] - S[1] : S[pol]);
                            float y = nearbyintf(transfer(c, e, v));
                            y = y > (float)c->code_hi ? (float)c->code_hi
                                : y < (float)c->code_lo ? (float)c->code_lo : y;
                            total += (pol ? -1.0 : 1.0) * ldexp(y, j + s * cb);
                        }
                    }
            if (!c->differential) total -= (double)(xsum << (B - 1));
            acc[n * P + p] = (int32_t)llrint(total);
        }
}

Test(device, adc_errors_match_naive_model) {
    rs = 3;
    enum { K = 150, N = 7, P = 5 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    fill(w, N * K, x, K * P, 8, 8);
    int32_t acc[N * P], want[N * P], exact[N * P];
    ref_gemm(w, x, K, N, P, exact);
    for (int mode = 0; mode < 3; mode++) {
        xb_crossbar_config c = cfg_of(K, N, 128, 8, 8, 2, mode ? 1 : 0);
        c.signed_pair = mode == 2;
        c.cols = 16;
        c.adcs_per_xbar = 2;
        c.adc_offset = 0.4;
        c.adc_gain = 0.01;
        c.adc_inl = 1.5;
        c.lossless = false;
        c.code_lo = c.signed_pair ? -128 : 0;
        c.code_hi = c.signed_pair ? 127 : 255;
        xb_crossbar_layer *l = build(&c, w);
        cr_assert_not_null(l->adc_err);
        cr_assert_eq(l->path, XB_XPATH_FULL);
        run(l, x, P, 0, acc);
        ref_adc(l, w, x, P, want);
        cr_assert_eq(memcmp(acc, want, sizeof acc), 0, "mode %d", mode);
        cr_assert_neq(memcmp(acc, exact, sizeof acc), 0, "mode %d: errors had no effect", mode);
        /* One ADC serves 8 columns (16 columns, 2 ADCs): neighbours share. */
        const float *e = l->adc_err;
        if (!c.signed_pair && !c.differential) cr_assert_eq(e[0], e[3]);
        xb_crossbar_layer_free(l);
    }
}

/* IR drop against the definition, on one small crossbar (no off state):
 * G_eff = G (1 - ir (sum_{m<=p} sum_{n>=m} g[i][n] + sum_{m>=i} sum_{k<=m}
 * g[k][p])), g = G / G_on. */
Test(device, ir_drop_matches_definition) {
    rs = 4;
    enum { K = 5, N = 3 };
    int8_t w[N * K];
    uint8_t x[K];
    fill(w, N * K, x, K, 4, 1);
    xb_crossbar_config c = cfg_of(K, N, 8, 4, 1, 2, 0);
    c.cols = 8; /* 2 slices x 3 outputs = 6 columns on one crossbar */
    c.ir_drop = 0.002;
    xb_crossbar_layer *l = build(&c, w);
    cr_assert_not_null(l->cond);
    int64_t C = l->C;
    double gon = 3;
    for (int64_t i = 0; i < K; i++)
        for (int64_t p = 0; p < C; p++) {
            double drop = 0;
            for (int64_t m = 0; m <= p; m++)
                for (int64_t n = m; n < C; n++) drop += l->lev[i * C + n] / gon;
            for (int64_t m = i; m < K; m++)
                for (int64_t k = 0; k <= m; k++) drop += l->lev[k * C + p] / gon;
            double want = l->lev[i * C + p] * (1 - c.ir_drop * drop);
            cr_assert_float_eq(l->cond[i * C + p], want, 1e-5, "cell %lld,%lld", (long long)i,
                               (long long)p);
        }
    xb_crossbar_layer_free(l);
}

/* Drift with a constant exponent scales every conductance by
 * ((t + t0) / t0)^-nu; the global compensation gain is its inverse. */
Test(device, drift_power_law_and_compensation) {
    rs = 5;
    enum { K = 40, N = 4 };
    int8_t w[N * K];
    uint8_t x[K];
    fill(w, N * K, x, K, 8, 1);
    xb_crossbar_config c = cfg_of(K, N, 128, 8, 1, 2, 0);
    c.drift_seconds = 3600;
    c.drift_nu = 0.05;
    c.drift_comp = true;
    xb_crossbar_layer *l = build(&c, w);
    double f = pow((3600.0 + 20) / 20, -0.05);
    for (int64_t i = 0; i < K * l->C; i++) cr_assert_float_eq(l->cond[i], l->lev[i] * f, 1e-5);
    cr_assert_float_eq(l->drift_alpha * f, 1.0, 1e-9);
    xb_crossbar_layer_free(l);
    /* PCM exponents (nu per level): lower levels drift faster. */
    c.drift_nu = 0;
    c.drift_comp = false;
    l = build(&c, w);
    double r[4] = {0}, cnt[4] = {0};
    for (int64_t i = 0; i < K * l->C; i++)
        if (l->lev[i]) r[l->lev[i]] += l->cond[i] / l->lev[i], cnt[l->lev[i]]++;
    cr_assert_lt(r[1] / cnt[1], r[3] / cnt[3]);
    cr_assert_eq(l->drift_alpha, 1.0);
    xb_crossbar_layer_free(l);
}

/* The programming floor varies off cells too; without it they stay exact. */
Test(device, programming_floor_reaches_off_cells) {
    rs = 6;
    enum { K = 64, N = 4 };
    int8_t w[N * K];
    uint8_t x[K];
    fill(w, N * K, x, K, 8, 1);
    for (int fl = 0; fl < 2; fl++) {
        xb_crossbar_config c = cfg_of(K, N, 128, 8, 1, 2, 0);
        c.prog_sigma = 0.05;
        c.prog_floor = fl ? 0.01 : 0;
        xb_crossbar_layer *l = build(&c, w);
        int64_t moved = 0, zeros = 0;
        for (int64_t i = 0; i < K * l->C; i++)
            if (!l->lev[i]) zeros++, moved += l->cond[i] != 0;
        cr_assert_gt(zeros, 10);
        if (fl) cr_assert_gt(moved, zeros / 4);
        else cr_assert_eq(moved, 0);
        xb_crossbar_layer_free(l);
    }
}

/* Read noise sigma^2 = E^2 I + s^2 n on a single conversion (2-bit weight
 * in one 2-bit cell, 1 input bit, 10 rows of w = 1: S = 30, n = 10). */
Test(device, read_noise_variance_follows_current_and_rows) {
    xb_crossbar_config c = cfg_of(10, 1, 128, 2, 1, 2, 0);
    int8_t w[10];
    uint8_t x[10];
    for (int k = 0; k < 10; k++) w[k] = 1, x[k] = 1;
    const double E = 0.6, s = 1.1, want[2] = {E * E * 30, s * s * 10};
    for (int m = 0; m < 2; m++) {
        c.read_current_sigma = m ? 0 : E;
        c.read_row_sigma = m ? s : 0;
        xb_crossbar_layer *l = build(&c, w);
        double s1 = 0, s2 = 0;
        int n = 6000;
        for (int img = 0; img < n; img++) {
            int32_t a;
            run(l, x, 1, img, &a);
            s1 += a - 10;
            s2 += (double)(a - 10) * (a - 10);
        }
        double mean = s1 / n, var = s2 / n - mean * mean, v = want[m] + 1.0 / 12;
        cr_assert_lt(fabs(mean), 5 * sqrt(v / n), "mode %d mean %g", m, mean);
        cr_assert_lt(fabs(var - v), 5 * v * sqrt(2.0 / n), "mode %d var %g want %g", m, var, v);
        xb_crossbar_layer_free(l);
    }
}

/* Tables: the identity table (mean = S, sigma = 0) gives the int8 product;
 * mean = S + 1 adds one level to every conversion; malformed files name
 * the line. */
Test(device, measured_table) {
    xb_ctx ctx = {0};
    xb_noise_table *id = xb_noise_table_parse("# identity\nsum,mean,sigma\n0,0,0\n400,400,0\n",
                                              "id.csv", &ctx);
    cr_assert_not_null(id, "%s", ctx.msg);
    cr_assert_eq(id->n, 401);
    xb_noise_table *plus = xb_noise_table_parse("sum, mean, sigma\n0,1,0\n10,11,0\n", "p.csv", &ctx);
    cr_assert_not_null(plus, "%s", ctx.msg);
    float m, sg;
    xb_noise_table_at(plus, 300, &m, &sg);
    cr_assert_float_eq(m, 301.0f, 0);
    rs = 7;
    enum { K = 200, N = 3, P = 4 };
    static int8_t w[N * K];
    static uint8_t x[K * P];
    fill(w, N * K, x, K * P, 8, 8);
    int32_t acc[N * P], want[N * P];
    ref_gemm(w, x, K, N, P, want);
    xb_crossbar_config c = cfg_of(K, N, 128, 8, 8, 2, 0);
    c.table = id;
    xb_crossbar_layer *l = build(&c, w);
    cr_assert_eq(l->path, XB_XPATH_FULL);
    run(l, x, P, 0, acc);
    cr_assert_eq(memcmp(acc, want, sizeof acc), 0);
    xb_crossbar_layer_free(l);
    c.table = plus;
    l = build(&c, w);
    run(l, x, P, 0, acc);
    /* 2 row blocks x 8 digits x 4 slices: sum of 2^(j + 2s) = 255 x 85. */
    for (int i = 0; i < N * P; i++) cr_assert_eq(acc[i], want[i] + 2 * 255 * 85, "i %d", i);
    xb_crossbar_layer_free(l);
    xb_noise_table_free(id);
    xb_noise_table_free(plus);
    static const char *bad[][2] = {
        {"sum,mean\n0,0\n", ":1:"},          {"sum,mean,sigma\n0,0,x\n", ":2: sigma"},
        {"sum,mean,sigma\n1,0,0\n1,0,0\n", ":3: sums must increase"},
        {"sum,mean,sigma\n0,0,-1\n", ":2: sigma is negative"},
        {"sum,mean,sigma\n\n0,0,0,0\n", ":3:"}, {"sum,mean,sigma\n", "no data rows"},
        /* decimal only, as every number (runtime/num.h) */
        {"sum,mean,sigma\n0x1,0,0\n", ":2: sum"}, {"sum,mean,sigma\n0,inf,0\n", ":2: mean"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xb_ctx_clear(&ctx);
        cr_assert_null(xb_noise_table_parse(bad[i][0], "t.csv", &ctx));
        cr_assert(strstr(ctx.msg, "t.csv") && strstr(ctx.msg, bad[i][1]), "%zu: %s", i, ctx.msg);
    }
    xb_ctx_clear(&ctx);
    cr_assert_null(xb_noise_table_load("/nonexistent/t.csv", &ctx));
    cr_assert(strstr(ctx.msg, "/nonexistent/t.csv"), "%s", ctx.msg);
}

/* Every new non-ideality on: images run on 1 and 2 threads give identical
 * results (all draws keyed by seed, layer, cell/ADC and image). */
Test(device, results_do_not_depend_on_threads) {
    rs = 8;
    enum { K = 150, N = 6, P = 20, IMG = 12 };
    static int8_t w[N * K];
    static uint8_t x[IMG][K * P];
    fill(w, N * K, x[0], K * P, 8, 8);
    for (int i = 1; i < IMG; i++) fill(w, 0, x[i], K * P, 8, 8);
    xb_ctx ctx = {0};
    xb_noise_table *t =
        xb_noise_table_parse("sum,mean,sigma\n0,0,0.2\n400,401,0.6\n", "t.csv", &ctx);
    for (int knob = 0; knob < 8; knob++) {
        xb_crossbar_config c = cfg_of(K, N, 128, 8, 8, 2, 0);
        c.cols = 32;
        c.adcs_per_xbar = 2;
        c.off_comp = true;
        switch (knob) {
        case 0: c.on_off_ratio = 15; break;
        case 1: c.prog_sigma = 0.02, c.prog_floor = 0.01; break;
        case 2: c.read_current_sigma = 0.05, c.read_row_sigma = 0.05; break;
        case 3: c.drift_seconds = 86400, c.drift_comp = true; break;
        case 4: c.ir_drop = 1e-5; break;
        case 5: c.adc_offset = 0.3, c.adc_gain = 0.01, c.adc_inl = 1; break;
        case 6: c.table = t; break;
        default: c.on_off_ratio = 15, c.read_current_sigma = 0.05, c.drift_seconds = 3600; break;
        }
        xb_crossbar_layer *l = build(&c, w);
        static int32_t out[2][IMG][N * P];
        for (int th = 1; th <= 2; th++) {
#pragma omp parallel num_threads(th)
            {
                void *scr = malloc(xb_crossbar_scratch_bytes(l, P));
#pragma omp for schedule(dynamic, 1)
                for (int i = 0; i < IMG; i++)
                    xb_crossbar_matmul(l, 0, x[i], P, i, false, out[th - 1][i], scr, NULL);
                free(scr);
            }
        }
        cr_assert_eq(memcmp(out[0], out[1], sizeof out[0]), 0, "knob %d", knob);
        xb_crossbar_layer_free(l);
    }
    xb_noise_table_free(t);
}
