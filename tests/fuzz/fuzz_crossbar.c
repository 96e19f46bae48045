/* Differential fuzzing of one crossbar layer's fast paths against its full
 * simulation (backend/crossbar/crossbar.h).
 *
 * The input's first 16 bytes choose a layer: shape, rows and row split,
 * weight, input, DAC and cell bits, slice widths, encoding (offset,
 * differential, center, offset with flip; a signed ADC on pairs) and the
 * ADC (lossless, clipping with LSB 1, or rounding with LSB > 1); the rest
 * gives the weights and the input codes (repeated when short), with bands of
 * positions whose codes are zero or masked small, so that whole digit runs
 * are empty, as ReLU activations make them.
 *
 * The same layer is built twice: once as the configuration says, so it
 * takes the exact or correction path (popcount sums, per-column thresholds,
 * sorted corrections, fused profile statistics), and once set to the full
 * path, which simulates every conversion (the reference).  Both run the positions as an
 * ordinary image and as a profiled one; the outputs and every statistic
 * (conversions, saturations, observed values, zeros, maximum, histogram)
 * must be equal, and a lossless layer must give the integer product.  When
 * the layer sorts its corrections, a third run with stale thresholds (the
 * unsorted correction path) must agree too.
 *
 * With read noise (header byte 13), on the integer read-noise path of
 * 1-LSB ADCs (dnoise.c), the fused AVX-512 block of sums and conversions
 * must give the same outputs and statistics as the sums-then-columns path,
 * on an ordinary and on a profiled image: the same draws either way.  Any
 * difference aborts, which libFuzzer records as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/bitsums.h"
#include "backend/crossbar/crossbar.h"
#include "backend/crossbar/dnoise.h"
#include "backend/crossbar/internal.h"

enum { HDR = 16 };

typedef struct {
    const uint8_t *d;
    size_t n, i;
} src;

static uint8_t next(src *s) {
    if (s->n == 0) return 0;
    uint8_t v = s->d[s->i % s->n];
    s->i++;
    return v;
}

static void cfg_slices(xb_crossbar_config *c, uint8_t b) {
    if (!(b & 1)) return; /* uniform slices of cell_bits */
    int mb = c->weight_bits == 1 ? 1 : c->differential ? c->weight_bits - 1 : c->weight_bits;
    int n = 0;
    for (unsigned r = b >> 1; mb > 0 && n < 16; r = r * 5 + 3) {
        int w = 1 + (int)(r % (unsigned)c->cell_bits);
        if (w > mb) w = mb;
        c->slice_bits[n++] = (int8_t)w;
        mb -= w;
    }
    c->w_slices = n;
}

static void cfg_adc(xb_crossbar_config *c, uint8_t mode, uint8_t bits_b) {
    int bits = 1 + bits_b % 10;
    c->lsb = 1;
    c->lossless = mode % 3 == 0;
    if (c->lossless) {
        c->code_lo = c->signed_pair ? -(1 << 20) : 0;
        c->code_hi = 1 << 20;
        return;
    }
    c->code_lo = c->signed_pair ? -(1 << (bits - 1)) : 0;
    c->code_hi = c->signed_pair ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    if (mode % 3 == 2) c->lsb = 1 + (bits_b >> 4); /* rounding: always the full path */
}

/* The configuration from the header; false if it is not one a layer takes. */
static bool make_cfg(const uint8_t *h, xb_crossbar_config *c, int64_t *P) {
    static const int rows[] = {16, 32, 48, 64, 128, 256};
    memset(c, 0, sizeof *c);
    c->K = 1 + (int64_t)((h[0] | h[1] << 8) % 400);
    c->N = 1 + h[2] % 40;
    c->groups = 1 + (h[3] >> 7);
    c->rows = rows[h[3] % 6];
    c->even_rows = (h[3] >> 3) & 1;
    c->weight_bits = 1 + h[4] % 8;
    int xb = 2 + (h[4] >> 3) % 7;
    c->dac_bits = 1 + h[5] % 3;
    if (c->dac_bits > xb) c->dac_bits = 1;
    c->input_slices = (xb + c->dac_bits - 1) / c->dac_bits;
    c->cell_bits = 1 + (h[5] >> 2) % 4;
    int enc = h[6] % 4; /* offset, differential, center, offset with flip */
    c->differential = enc == 1 || enc == 2;
    c->center = enc == 2;
    c->flip = enc == 3;
    c->signed_pair = c->differential && (h[6] & 16);
    int mb = c->weight_bits == 1 ? 1 : c->differential ? c->weight_bits - 1 : c->weight_bits;
    c->w_slices = (mb + c->cell_bits - 1) / c->cell_bits;
    cfg_slices(c, h[7]);
    cfg_adc(c, h[8], h[9]);
    static const double sigma[8] = {0, 0, 0, 0, 0.2, 0.5, 1.0, 2.5};
    c->read_sigma = sigma[h[13] % 8];
    c->seed = 7;
    *P = h[10] % 4 == 0 ? 1 : 1 + h[11] % 96;
    return c->w_slices <= 16;
}

/* A weight the encoding holds: binary +-1, offset [-2^(B-1), 2^(B-1)),
 * differential and center magnitudes below 2^(B-1). */
static int8_t weight(const xb_crossbar_config *c, uint8_t v) {
    int B = c->weight_bits;
    if (B == 1) return (v & 1) ? 1 : -1;
    int half = 1 << (B - 1);
    if (!c->differential) return (int8_t)((int)(v % (unsigned)(2 * half)) - half);
    return (int8_t)((int)(v % (unsigned)(2 * half - 1)) - (half - 1));
}

static void fill(src *s, const xb_crossbar_config *c, int xb, int64_t P, uint8_t band, int8_t *w,
                 uint8_t *x) {
    int64_t nw = c->groups * c->N * c->K;
    for (int64_t i = 0; i < nw; i++) w[i] = weight(c, next(s));
    int width = 1 + band % 24;
    uint8_t small = (uint8_t)((1u << (1 + (band >> 5) % 3)) - 1);
    for (int64_t k = 0; k < c->K; k++)
        for (int64_t p = 0; p < P; p++) {
            uint8_t v = (uint8_t)(next(s) & ((1u << xb) - 1));
            int b = (int)((p / width) % 3);
            x[k * P + p] = b == 0 ? 0 : b == 1 ? (uint8_t)(v & small) : v;
        }
}

static void check(bool ok, const char *what, int way) {
    if (ok) return;
    fprintf(stderr, "fuzz_crossbar: %s differs (way %d)\n", what, way);
    abort();
}

/* Conversions and saturations are counted on every image; the observed
 * values only on profiled ones (the full simulation observes them all). */
static void same_stats(const xb_crossbar_stats *a, const xb_crossbar_stats *b, bool profile,
                       int way) {
    check(a->conversions == b->conversions, "conversions", way);
    check(a->saturated == b->saturated, "saturated", way);
    if (!profile) return;
    check(a->observed == b->observed, "observed", way);
    check(a->zeros == b->zeros, "zeros", way);
    check(a->max_abs == b->max_abs, "max_abs", way);
    check(a->hist_bins == b->hist_bins, "hist_bins", way);
    for (int i = 0; i < a->hist_bins; i++) check(a->hist[i] == b->hist[i], "histogram", way);
}

/* One call of every group: outputs into acc[group][N][P], statistics into st. */
static void run(const xb_crossbar_layer *l, const uint8_t *x, int64_t P, bool profile,
                int32_t *acc, xb_crossbar_stats *st, void *scratch) {
    for (int g = 0; g < (int)l->cfg.groups; g++)
        xb_crossbar_matmul(l, g, x, P, profile ? 0 : 1000, profile, acc + (int64_t)g * l->cfg.N * P,
                           scratch, st);
}

static void product(const xb_crossbar_config *c, const int8_t *w, const uint8_t *x, int64_t P,
                    int32_t *want) {
    for (int64_t g = 0; g < c->groups; g++)
        for (int64_t n = 0; n < c->N; n++)
            for (int64_t p = 0; p < P; p++) {
                int64_t s = 0;
                for (int64_t k = 0; k < c->K; k++)
                    s += (int64_t)w[(g * c->N + n) * c->K + k] * x[k * P + p];
                want[(g * c->N + n) * P + p] = (int32_t)s;
            }
}

typedef struct {
    xb_crossbar_layer *l;
    xb_crossbar_stats st;
    int32_t *acc;
    void *scratch;
} way_t;

static bool way_open(way_t *v, const xb_crossbar_config *c, const int8_t *w, int64_t P, int64_t out) {
    xb_ctx ctx = {0};
    memset(v, 0, sizeof *v);
    v->l = xb_crossbar_layer_new(c, w, &ctx);
    if (!v->l) {
        check(ctx.status != XB_OK && ctx.msg[0], "error contract (no message)", -1);
        return false;
    }
    check(xb_crossbar_stats_init(&v->st, v->l, &ctx) == XB_OK, "stats_init", -1);
    v->acc = malloc((size_t)out * sizeof(int32_t));
    v->scratch = malloc(xb_crossbar_scratch_bytes(v->l, P));
    check(v->acc && v->scratch, "allocation", -1);
    return true;
}

static void way_close(way_t *v) {
    if (!v->l) return;
    xb_crossbar_stats_free(&v->st);
    xb_crossbar_layer_free(v->l);
    free(v->acc);
    free(v->scratch);
}

static void compare(way_t *ref, way_t *fast, const uint8_t *x, int64_t P, int64_t out, int way) {
    for (int profile = 1; profile >= 0; profile--) {
        xb_crossbar_stats_clear(&ref->st);
        xb_crossbar_stats_clear(&fast->st);
        run(ref->l, x, P, profile, ref->acc, &ref->st, ref->scratch);
        run(fast->l, x, P, profile, fast->acc, &fast->st, fast->scratch);
        check(!memcmp(ref->acc, fast->acc, (size_t)out * sizeof(int32_t)), "output",
              way * 2 + profile);
        same_stats(&ref->st, &fast->st, profile, way * 2 + profile);
    }
}

/* Read noise: the fused block against the unfused path, same layer. */
static void compare_noise(way_t *v, const uint8_t *x, int64_t P, int64_t out) {
    int32_t *acc0 = malloc((size_t)out * sizeof(int32_t));
    check(acc0 != NULL, "allocation", -1);
    xb_ctx ctx = {0};
    xb_crossbar_stats st0;
    check(xb_crossbar_stats_init(&st0, v->l, &ctx) == XB_OK, "stats_init", -1);
    for (int profile = 1; profile >= 0; profile--) {
        xb_crossbar_stats_clear(&st0);
        xb_crossbar_stats_clear(&v->st);
        xb_dnoise_set_fused(false);
        run(v->l, x, P, profile, acc0, &st0, v->scratch);
        xb_dnoise_set_fused(true);
        run(v->l, x, P, profile, v->acc, &v->st, v->scratch);
        /* the comparison is only one if the reference did not run the block too */
        check(st0.fused_blocks == 0, "fused block ran while off", 4 + profile);
        check(!memcmp(acc0, v->acc, (size_t)out * sizeof(int32_t)), "noisy output", 4 + profile);
        same_stats(&st0, &v->st, true, 4 + profile);
    }
    xb_crossbar_stats_free(&st0);
    free(acc0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < HDR) return 0;
    xb_crossbar_config c;
    int64_t P;
    if (!make_cfg(data, &c, &P)) return 0;
    int xb = 2 + (data[4] >> 3) % 7;
    src s = {data + HDR, size - HDR, 0};
    int64_t out = c.groups * c.N * P;
    int8_t *w = malloc((size_t)(c.groups * c.N * c.K));
    uint8_t *x = malloc((size_t)(c.K * P));
    int32_t *want = malloc((size_t)out * sizeof(int32_t));
    check(w && x && want, "allocation", -1);
    fill(&s, &c, xb, P, data[12], w, x);
    way_t ref, fast;
    bool ok = way_open(&ref, &c, w, P, out);
    check(way_open(&fast, &c, w, P, out) == ok, "layer build (one way failed)", -1);
    if (ok && c.read_sigma > 0) {
        if (xb_crossbar_int_noise(fast.l)) compare_noise(&fast, x, P, out);
    } else if (ok) {
        ref.l->path = XB_XPATH_FULL; /* every conversion simulated: the reference */
        compare(&ref, &fast, x, P, out, 0);
        if (c.lossless && c.lsb == 1) {
            product(&c, w, x, P, want);
            check(!memcmp(want, fast.acc, (size_t)out * sizeof(int32_t)), "lossless product", 0);
        }
        if (xb_bits_sorted_ok(fast.l)) { /* stale thresholds: the unsorted corrections */
            fast.l->lev_thr_hi = c.code_hi + 1;
            compare(&ref, &fast, x, P, out, 1);
        }
    }
    way_close(&ref);
    way_close(&fast);
    free(w);
    free(x);
    free(want);
    return 0;
}
