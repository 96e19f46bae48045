/* The analog mode's engine glue: arch -> per-layer crossbar configuration,
 * per-worker state, statistics merging. */
#include "backend/engine.h"

#include <stdlib.h>

#include "backend/adc_sar.h"
#include "backend/analog_buffer.h"
#include "backend/crossbar/from_arch.h"
#include "backend/dac.h"
#include "backend/raella.h"
#include "kernels/qlayer.h"

typedef struct {
    int n;
    xb_crossbar_stats *stats;
    void *scratch;
    int64_t images;
    uint8_t *xr;    /* row map: summed, reordered inputs of one call */
    int64_t **act;  /* activity pass: [layer][K] nonzero input counts */
} worker_state;

static void adc_codes(const xb_arch *a, int b, int64_t *lo, int64_t *hi) {
    if (b > 40) b = 40;
    if (a->adc_signed) {
        *lo = -((int64_t)1 << (b - 1));
        *hi = ((int64_t)1 << (b - 1)) - 1;
    } else {
        *lo = 0;
        *hi = ((int64_t)1 << b) - 1;
    }
}

/* The ADC configuration the arch asks for, given a full scale for
 * calibrated mode (<= 0: not calibrated yet, run lossless). */
static void configure_adc(const xb_arch *a, xb_crossbar_layer *l, double full_scale, int layer,
                          int n) {
    int64_t lo, hi;
    bool lossless;
    adc_codes(a, xb_arch_layer_adc_bits(a, layer, n, &lossless), &lo, &hi);
    if (lossless) {
        xb_crossbar_layer_set_adc(l, true, 1, lo, hi);
        return;
    }
    double lsb = 1;
    if (a->adc_range == XB_ADC_MAX) {
        lsb = (double)xb_arch_max_column_sum(a) / (double)hi;
    } else if (a->adc_range == XB_ADC_CALIBRATED) {
        if (full_scale <= 0) {
            xb_crossbar_layer_set_adc(l, true, 1, lo, hi);
            return;
        }
        lsb = full_scale / (double)hi;
    }
    xb_crossbar_layer_set_adc(l, false, lsb < 1 ? 1 : lsb, lo, hi);
}

void xb_backend_configure_adc(const xb_arch *a, xb_crossbar_layer *l, double full_scale,
                              int layer, int n) {
    configure_adc(a, l, full_scale, layer, n);
}

static void *state_new(void *self, xb_ctx *ctx) {
    xb_backend *b = self;
    worker_state *s = xb_calloc(ctx, 1, sizeof *s);
    if (!s) return NULL;
    s->n = b->n;
    s->stats = xb_calloc(ctx, (size_t)(b->n ? b->n : 1), sizeof *s->stats);
    size_t scratch = 64;
    for (int i = 0; i < b->n; i++) {
        size_t need = xb_crossbar_scratch_bytes(b->layers[i], b->P[i]);
        if (need > scratch) scratch = need;
    }
    if (b->calibrating && xb_autoslice_scratch_bytes(b->autos) > scratch)
        scratch = xb_autoslice_scratch_bytes(b->autos);
    s->scratch = xb_malloc(ctx, scratch);
    if (!s->stats || !s->scratch) goto fail;
    if (xb_backend_worker_rowmap(b, &s->xr, &s->act, ctx) != XB_OK) goto fail;
    for (int i = 0; i < b->n; i++)
        if (xb_crossbar_stats_init(&s->stats[i], b->layers[i], ctx) != XB_OK) goto fail;
    return s;
fail:
    if (s->stats)
        for (int i = 0; i < b->n; i++) xb_crossbar_stats_free(&s->stats[i]);
    free(s->stats);
    free(s->scratch);
    xb_backend_worker_rowmap_free(b->n, s->xr, s->act);
    free(s);
    return NULL;
}

static void state_free(void *state) {
    worker_state *s = state;
    if (!s) return;
    for (int i = 0; i < s->n; i++) xb_crossbar_stats_free(&s->stats[i]);
    free(s->stats);
    free(s->scratch);
    xb_backend_worker_rowmap_free(s->n, s->xr, s->act);
    free(s);
}

static void state_merge(void *self, void *state) {
    xb_backend *b = self;
    worker_state *s = state;
    if (!s) return;
    for (int i = 0; i < b->n; i++) {
        xb_crossbar_stats_merge(&b->stats[i], &s->stats[i]);
        xb_backend_sar_charge(b, i); /* counted trials -> ADC energy */
    }
    b->images += s->images;
    xb_raella_update_map(b); /* speculation: the conversions counted */
    xb_dac_update_map(b);    /* dac.model = pulse: the pulses counted */
    xb_backend_merge_activity(b, s->act);
}

/* Whether image i is a profile image: one of the first profile_images of
 * the evaluated window (an --offset run profiles its own first images; a
 * shard of the window keeps the window's, so merged shards equal the run
 * without --shard). */
static bool profiled(const xb_backend *b, int64_t i) {
    return i >= b->profile_first && i - b->profile_first < b->profile_images;
}

/* The call's shape is the one the layer was built and its scratch sized for. */
static bool same_shape(const xb_backend *b, int layer, int group, int64_t K, int64_t N,
                       int64_t P) {
    const xb_crossbar_config *c = xb_crossbar_cfg(b->layers[layer]);
    int64_t Kl = b->rowmaps && b->rowmaps[layer] ? b->rowmaps[layer]->K : c->K; /* logical */
    return K == Kl && N == c->N && group >= 0 && group < c->groups && P <= b->P[layer];
}

static xb_status qmatmul(void *self, xb_exec *e, const xb_node *node, int layer, int group,
                         const uint8_t *x, const int8_t *w, int64_t K, int64_t N, int64_t P,
                         int32_t *acc, xb_ctx *ctx) {
    (void)w;
    xb_backend *b = self;
    worker_state *s = e->engine_state;
    if (!s)
        return xb_fail(ctx, XB_ERR_RUNTIME,
                       "analog engine: no per-worker state (the runner must call state_new)");
    if (layer < 0 || layer >= b->n)
        return xb_fail(ctx, XB_ERR_RUNTIME, "analog engine: layer %d of '%s' was not compiled",
                       layer, node->name);
    if (!same_shape(b, layer, group, K, N, P))
        return xb_fail(ctx, XB_ERR_RUNTIME, "analog engine: layer '%s' shape changed since compile",
                       node->name);
    if (layer == 0 && group == 0) s->images++;
    bool profile = b->calibrating || profiled(b, e->image_index);
    x = xb_backend_layer_input(b, layer, x, P, s->act ? s->act[layer] : NULL,
                               s->xr);
    /* crossbar.slices = auto calibrates on exact products (the layer's own
     * conversions are not needed: auto excludes a calibrated range) */
    if (b->autos && b->calibrating) {
        xb_autoslice_observe(b->autos, layer, group, x, P, e->image_index, acc, s->scratch);
        return XB_OK;
    }
    /* dac.model = pulse counts the pulses of the inputs actually run */
    if (b->arch.dac_model == XB_DAC_PULSE)
        s->stats[layer].dac_pulses += xb_crossbar_count_pulses(b->layers[layer], x, P);
    xb_crossbar_matmul(b->layers[layer], group, x, P, e->image_index, profile, acc, s->scratch,
                       &s->stats[layer]);
    return XB_OK;
}

/* Exact layers off the profile images run the caller's int8 kernel
 * (exec.h): the same checks as qmatmul, which reports any mismatch. */
static bool exact(void *self, xb_exec *e, int layer, int group, int64_t K, int64_t N,
                  int64_t P) {
    xb_backend *b = self;
    worker_state *s = e->engine_state;
    if (!s || layer < 0 || layer >= b->n) return false;
    const xb_crossbar_layer *l = b->layers[layer];
    if (xb_crossbar_path(l) != XB_XPATH_EXACT || !same_shape(b, layer, group, K, N, P))
        return false;
    if (b->calibrating || b->recording || profiled(b, e->image_index)) return false;
    if (b->arch.dac_model == XB_DAC_PULSE) return false; /* qmatmul counts the pulses */
    if (layer == 0 && group == 0) s->images++;
    xb_crossbar_count_exact(l, P, &s->stats[layer]);
    return true;
}

xb_backend *xb_backend_new(const xb_graph *g, const xb_arch *a, xb_ctx *ctx) {
    xb_noise_table *table = NULL;
    xb_backend *b = xb_calloc(ctx, 1, sizeof *b);
    if (!b) return NULL;
    b->arch = *a;
    b->profile_images = 16;
    b->map = xb_compile_graph(a, g, ctx);
    if (!b->map) goto fail;
    b->n = b->map->n;
    /* Packed groups run as the blocks of their crossbar (one per group):
     * exact only while groups cannot disturb each other. */
    for (int i = 0; i < b->n && !xb_arch_groups_independent(a); i++)
        if (b->map->layers[i].groups_per_xbar > 1) {
            xb_fail(ctx, XB_ERR_UNSUPPORTED,
                    "layer '%s': mapping.pack_groups=true with device non-idealities that couple "
                    "the groups packed on a crossbar (on/off ratio, floor, stuck-high cells, row "
                    "noise, IR drop, drift or per-ADC errors) is not simulated; use "
                    "mapping.pack_groups=auto or false",
                    b->map->layers[i].s.name);
            goto fail;
        }
    size_t n1 = (size_t)(b->n ? b->n : 1);
    b->layers = xb_calloc(ctx, n1, sizeof *b->layers);
    b->P = xb_calloc(ctx, n1, sizeof *b->P);
    b->stats = xb_calloc(ctx, n1, sizeof *b->stats);
    b->full_scale = xb_calloc(ctx, n1, sizeof *b->full_scale);
    if (!b->layers || !b->P || !b->stats || !b->full_scale) goto fail;
    if (xb_arch_check_simulable(a, ctx) != XB_OK) goto fail;
    /* A measured noise table is read once; each layer keeps a copy. */
    if (a->noise_table[0] && !(table = xb_noise_table_load(a->noise_table, ctx))) goto fail;
    for (int i = 0; i < b->n; i++) {
        const xb_node *node = NULL;
        const xb_qlayer *q = xb_qlayer_get(g, i, &node);
        xb_arch la; /* the layer's weight and input bits (layer_*_bits) */
        xb_arch_layer_view(a, i, b->n, &la);
        if (q->x_bits > la.input_bits) {
            xb_fail(ctx, XB_ERR_INVALID,
                    "layer '%s' has %d-bit inputs but the arch streams input_bits = %d; quantize "
                    "with --x-bits %d",
                    node->name, q->x_bits, la.input_bits, la.input_bits);
            goto fail;
        }
        if (xb_backend_build_layer(b, g, i, table, ctx) != XB_OK) goto fail;
        configure_adc(a, b->layers[i], 0, i, b->n);
        if (xb_backend_sar_attach(b, i, ctx) != XB_OK) goto fail;
        xb_backend_sar_charge(b, i);
        b->P[i] = q->P;
        if (xb_crossbar_stats_init(&b->stats[i], b->layers[i], ctx) != XB_OK) goto fail;
    }
    b->engine.self = b;
    b->engine.state_new = state_new;
    b->engine.state_merge = state_merge;
    b->engine.state_free = state_free;
    b->engine.qmatmul = qmatmul;
    b->engine.exact = exact;
    if (xb_raella_auto_slices(a) && !(b->autos = xb_autoslice_new(b, g, ctx))) goto fail;
    xb_noise_table_free(table);
    return b;
fail:
    xb_noise_table_free(table);
    xb_backend_free(b);
    return NULL;
}

void xb_backend_free(xb_backend *b) {
    if (!b) return;
    for (int i = 0; i < b->n; i++) {
        if (b->layers) xb_crossbar_layer_free(b->layers[i]);
        if (b->stats) xb_crossbar_stats_free(&b->stats[i]);
    }
    free(b->layers);
    free(b->P);
    free(b->stats);
    free(b->full_scale);
    xb_autoslice_free(b->autos);
    xb_backend_rowmap_free(b);
    xb_mapping_free(b->map);
    free(b);
}

const xb_engine *xb_backend_engine(xb_backend *b) { return &b->engine; }

void xb_backend_reset_stats(xb_backend *b) {
    for (int i = 0; i < b->n; i++) xb_crossbar_stats_clear(&b->stats[i]);
    b->images = 0;
}

void xb_backend_calibration_begin(xb_backend *b) {
    b->calibrating = true;
    xb_backend_reset_stats(b);
    for (int i = 0; i < b->n; i++) {
        configure_adc(&b->arch, b->layers[i], 0, i, b->n);
        xb_backend_sar_uniform(b, i);
        xb_backend_sar_charge(b, i);
    }
}

xb_status xb_backend_calibration_end(xb_backend *b, xb_ctx *ctx) {
    b->calibrating = false;
    if (b->autos) { /* crossbar.slices = auto (never with a calibrated range) */
        XB_TRY(xb_autoslice_finish(b, ctx));
        xb_backend_reset_stats(b);
        return XB_OK;
    }
    for (int i = 0; i < b->n; i++) {
        if (b->stats[i].observed == 0)
            return xb_fail(ctx, XB_ERR_INVALID,
                           "calibration: layer %d saw no column sums (no calibration images?)", i);
        double fs = xb_crossbar_stats_percentile(&b->stats[i], b->arch.adc_percentile);
        /* (a non-uniform transfer calibrates too; its clip ADC has no full scale) */
        if (b->arch.adc_range == XB_ADC_CALIBRATED) b->full_scale[i] = fs < 1 ? 1 : fs;
        configure_adc(&b->arch, b->layers[i], b->full_scale[i], i, b->n);
        XB_TRY(xb_backend_sar_choose(b, i, ctx));
        xb_backend_sar_charge(b, i);
    }
    xb_backend_reset_stats(b);
    return XB_OK;
}
