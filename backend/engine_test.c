#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "backend/adc_sar.h"
#include "backend/cost.h"
#include "backend/dac.h"
#include "backend/crossbar/sar.h"
#include "backend/engine.h"
#include "kernels/qlayer.h"
#include "tests/test_util.h"

static uint64_t rs = 77;
static uint32_t rnd(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rs >> 33);
}

/* Two independent matrix layers: XbarQConv x [1,4,9,9] -> 8 channels,
 * 3x3, pad 1, 2 groups (K = 18 per group); XbarQGemm x2 [3,300] -> 10
 * (K = 300: three 128-row blocks, the last one partial). */
static void build(xb_test_graph *tg, int wbits) {
    xb_test_begin(tg);
    int wmax = (1 << (wbits - 1)) - 1;
    int64_t xd[4] = {1, 4, 9, 9}, wd[4] = {8, 2, 3, 3}, sd[1] = {8};
    static int8_t wc[8 * 2 * 9], wg[10 * 300];
    static float ws[8], wsg[10], bg[10];
    for (int i = 0; i < 8 * 18; i++) wc[i] = (int8_t)((int)(rnd() % (2 * wmax + 1)) - wmax);
    for (int i = 0; i < 3000; i++) wg[i] = (int8_t)((int)(rnd() % (2 * wmax + 1)) - wmax);
    for (int i = 0; i < 8; i++) ws[i] = 0.01f * (float)(i + 1);
    for (int i = 0; i < 10; i++) wsg[i] = 0.02f, bg[i] = (float)i;
    int in[4];
    in[0] = xb_test_input(tg, "x", XB_F32, 4, xd);
    in[1] = xb_test_const(tg, "w", XB_I8, 4, wd, wc);
    in[2] = xb_test_const(tg, "ws", XB_F32, 1, sd, ws);
    int y = xb_test_tensor(tg, "y");
    int node = xb_graph_add_node(tg->g, "conv", "XbarQConv", "xbar", 1, in, 3, &y, 1, &tg->ctx);
    xb_test_output(tg, y);
    int64_t pads[4] = {1, 1, 1, 1}, st[2] = {1, 1}, dl[2] = {1, 1}, ks[2] = {3, 3};
    xb_test_attr_ints(tg, node, "pads", 4, pads);
    xb_test_attr_ints(tg, node, "strides", 2, st);
    xb_test_attr_ints(tg, node, "dilations", 2, dl);
    xb_test_attr_ints(tg, node, "kernel_shape", 2, ks);
    xb_test_attr_int(tg, node, "group", 2);
    xb_test_attr_float(tg, node, "x_scale", 0.05f);
    xb_test_attr_int(tg, node, "x_zero_point", 0);
    xb_test_attr_int(tg, node, "x_bits", 8);
    xb_test_attr_int(tg, node, "w_bits", wbits);

    int64_t x2d[2] = {3, 300}, w2d[2] = {10, 300}, s2d[1] = {10};
    int in2[4];
    in2[0] = xb_test_input(tg, "x2", XB_F32, 2, x2d);
    in2[1] = xb_test_const(tg, "w2", XB_I8, 2, w2d, wg);
    in2[2] = xb_test_const(tg, "ws2", XB_F32, 1, s2d, wsg);
    in2[3] = xb_test_const(tg, "b2", XB_F32, 1, s2d, bg);
    int y2 = xb_test_tensor(tg, "y2");
    int n2 = xb_graph_add_node(tg->g, "fc", "XbarQGemm", "xbar", 1, in2, 4, &y2, 1, &tg->ctx);
    xb_test_output(tg, y2);
    xb_test_attr_float(tg, n2, "x_scale", 0.03f);
    xb_test_attr_int(tg, n2, "x_zero_point", 100);
    xb_test_attr_int(tg, n2, "x_bits", 8);
    xb_test_attr_int(tg, n2, "w_bits", wbits);
}

/* The two-layer graph with wbits-bit weights, prepared, and a preset. */
static void setup(xb_test_graph *tg, int wbits, const char *preset, xb_arch *a) {
    build(tg, wbits);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
    xb_ctx ctx = {0};
    cr_assert_eq(xb_arch_load(a, preset, &ctx), XB_OK, "%s", ctx.msg);
}

static float xin[4 * 81], x2in[900];

static void run_outputs(xb_test_graph *tg, float *y1, float *y2) {
    const void *ins[2] = {xin, x2in};
    cr_assert_not_null(xb_test_run(tg, ins, 0), "%s", tg->ctx.msg);
    memcpy(y1, tg->e->buf[tg->g->outputs[0]], 8 * 81 * sizeof(float));
    memcpy(y2, tg->e->buf[tg->g->outputs[1]], 30 * sizeof(float));
}

static void inputs(void) {
    for (int i = 0; i < 4 * 81; i++) xin[i] = (rnd() % 4 == 0) ? 0.0f : (float)(rnd() % 256) * 0.05f;
    for (int i = 0; i < 900; i++) x2in[i] = ((float)(rnd() % 256) - 100.0f) * 0.03f;
}

/* The ideal preset reproduces the int8 reference bit for bit through the
 * real XbarQConv / XbarQGemm ops. */
Test(engine, ideal_equals_int8_reference) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "ideal", &a);
    inputs();
    float r1[8 * 81], r2[30], a1[8 * 81], a2[30];
    run_outputs(&tg, r1, r2);
    /* the 2 conv groups (K = 18, N = 4) on one crossbar (packed, the
     * default here) and on their own: both equal int8 */
    for (int c = 0; c < 6; c++) {
        int enc = c % 3;
        a.encoding = (xb_encoding)enc;
        a.pack_groups = c < 3 ? XB_PACK_TRUE : XB_PACK_FALSE;
        xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        cr_assert_eq(b->n, 2);
        cr_assert_eq(b->map->layers[0].groups_per_xbar, c < 3 ? 2 : 1);
        cr_assert_eq(b->map->layers[0].xbars, c < 3 ? 1 : 2);
        tg.e->engine = xb_backend_engine(b);
        tg.e->engine_state = b->engine.state_new(b, &ctx);
        tg.e->image_index = 0; /* profiled: full simulation */
        run_outputs(&tg, a1, a2);
        cr_assert_eq(memcmp(a1, r1, sizeof r1), 0);
        cr_assert_eq(memcmp(a2, r2, sizeof r2), 0);
        tg.e->image_index = 1000; /* fast path */
        run_outputs(&tg, a1, a2);
        cr_assert_eq(memcmp(a1, r1, sizeof r1), 0);
        cr_assert_eq(memcmp(a2, r2, sizeof r2), 0);
        b->engine.state_merge(b, tg.e->engine_state);
        b->engine.state_free(tg.e->engine_state);
        tg.e->engine_state = NULL;
        tg.e->engine = NULL;
        /* Counts: two images of every conversion the mapping predicts. */
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(b->stats[i].conversions, 2 * b->map->layers[i].conversions, "layer %d enc %d: %lld vs %lld", i, enc, (long long)b->stats[i].conversions, (long long)b->map->layers[i].conversions);
            cr_assert_eq(b->stats[i].saturated, 0);
            cr_assert_eq(b->stats[i].observed, b->map->layers[i].conversions);
        }
        cr_assert_eq(b->images, 2);
        xb_backend_free(b);
    }
    xb_test_end(&tg);
}

/* isaac (8-bit clip ADC): fast and full paths agree; read noise is
 * reproducible per image. */
Test(engine, isaac_paths_agree_and_noise_is_seeded) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "isaac", &a);
    inputs();
    a.adc_bits = 5;
    float f1[8 * 81], f2[30], s1[8 * 81], s2[30];
    xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    cr_assert_not_null(xb_test_run(&tg, (const void *[]){xin, x2in}, 0), "%s", tg.ctx.msg);
    tg.e->engine = xb_backend_engine(b);
    tg.e->engine_state = b->engine.state_new(b, &ctx);
    tg.e->image_index = 0;
    run_outputs(&tg, f1, f2);
    tg.e->image_index = 99;
    run_outputs(&tg, s1, s2);
    cr_assert_eq(memcmp(f1, s1, sizeof f1), 0);
    cr_assert_eq(memcmp(f2, s2, sizeof f2), 0);
    b->engine.state_free(tg.e->engine_state);
    xb_backend_free(b);

    a.read_sigma = 2.0;
    b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    tg.e->engine = xb_backend_engine(b);
    tg.e->engine_state = b->engine.state_new(b, &ctx);
    tg.e->image_index = 5;
    run_outputs(&tg, f1, f2);
    run_outputs(&tg, s1, s2);
    cr_assert_eq(memcmp(f1, s1, sizeof f1), 0);
    tg.e->image_index = 6;
    run_outputs(&tg, s1, s2);
    cr_assert_neq(memcmp(f1, s1, sizeof f1), 0);
    b->engine.state_free(tg.e->engine_state);
    tg.e->engine_state = NULL;
    tg.e->engine = NULL;
    xb_backend_free(b);
    xb_test_end(&tg);
}

Test(engine, rejects_weights_wider_than_arch) {
    xb_test_graph tg;
    build(&tg, 8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_arch a;
    xb_ctx ctx = {0};
    xb_arch_defaults(&a);
    a.weight_bits = 4;
    cr_assert_null(xb_backend_new(tg.g, &a, &ctx));
    cr_assert(strstr(ctx.msg, "conv") && strstr(ctx.msg, "--w-bits 4"), "%s", ctx.msg);
    xb_test_end(&tg);
}

/* Calibrated ADC: after a calibration image the full scale of each layer
 * is the percentile of the |column sums| it saw, and the LSB follows. */
Test(engine, calibration_sets_full_scale) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "isaac", &a);
    inputs();
    a.adc_range = XB_ADC_CALIBRATED;
    a.adc_bits = 4;
    a.adc_percentile = 100; /* full scale = the largest sum seen */
    xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    float y1[8 * 81], y2[30];
    cr_assert_not_null(xb_test_run(&tg, (const void *[]){xin, x2in}, 0), "%s", tg.ctx.msg);
    tg.e->engine = xb_backend_engine(b);
    tg.e->engine_state = b->engine.state_new(b, &ctx);
    xb_backend_calibration_begin(b);
    tg.e->image_index = 500;
    run_outputs(&tg, y1, y2);
    b->engine.state_merge(b, tg.e->engine_state);
    int64_t seen_max[2] = {b->stats[0].max_abs, b->stats[1].max_abs};
    cr_assert_eq(xb_backend_calibration_end(b, &ctx), XB_OK, "%s", ctx.msg);
    for (int i = 0; i < 2; i++) {
        cr_assert_gt(seen_max[i], 0);
        /* Histogram bins are exact integers here, so the 100th percentile is
         * the maximum itself. */
        cr_assert_float_eq(b->full_scale[i], (double)seen_max[i], 0);
        double lsb = seen_max[i] / 15.0;
        cr_assert_float_eq(b->layers[i]->cfg.lsb, lsb < 1 ? 1 : lsb, 1e-12);
        cr_assert_eq(b->stats[i].conversions, 0); /* cleared for the real run */
    }
    b->engine.state_free(tg.e->engine_state);
    tg.e->engine_state = NULL;
    tg.e->engine = NULL;
    xb_backend_free(b);
    xb_test_end(&tg);
}

/* xb_engine.exact: when it answers yes the layers run their own int8
 * kernel (qmatmul, which here would fail, is never called), asked once per
 * group of the conv and once for the gemm; when it answers no, qmatmul
 * runs. */
typedef struct {
    int exact_calls, qmatmul_calls;
    bool answer;
} fake_engine;

static bool fake_exact(void *self, xb_exec *e, int layer, int group, int64_t K, int64_t N,
                       int64_t P) {
    (void)e, (void)layer, (void)group, (void)K, (void)N, (void)P;
    fake_engine *f = self;
    f->exact_calls++;
    return f->answer;
}

static xb_status fake_qmatmul(void *self, xb_exec *e, const xb_node *node, int layer, int group,
                              const uint8_t *x, const int8_t *w, int64_t K, int64_t N, int64_t P,
                              int32_t *acc, xb_ctx *ctx) {
    (void)e, (void)node, (void)layer, (void)group, (void)x, (void)w, (void)K, (void)N, (void)P;
    (void)acc;
    fake_engine *f = self;
    f->qmatmul_calls++;
    return xb_fail(ctx, XB_ERR_RUNTIME, "fake qmatmul");
}

Test(engine, exact_hook_runs_int8_kernel) {
    xb_test_graph tg;
    build(&tg, 8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    inputs();
    float r1[8 * 81], r2[30], a1[8 * 81], a2[30];
    run_outputs(&tg, r1, r2);
    fake_engine f = {0, 0, true};
    xb_engine eng = {.self = &f, .qmatmul = fake_qmatmul, .exact = fake_exact};
    tg.e->engine = &eng;
    run_outputs(&tg, a1, a2);
    cr_assert_eq(memcmp(a1, r1, sizeof r1), 0);
    cr_assert_eq(memcmp(a2, r2, sizeof r2), 0);
    cr_assert_eq(f.exact_calls, 3); /* conv: 2 groups, gemm: 1 */
    cr_assert_eq(f.qmatmul_calls, 0);
    f.answer = false;
    const void *ins[2] = {xin, x2in};
    cr_assert_null(xb_test_run(&tg, ins, 0));
    cr_assert_eq(f.qmatmul_calls, 1);
    cr_assert_eq(f.exact_calls, 4); /* the conv stops asking at the first no */
    tg.e->engine = NULL;
    xb_test_end(&tg);
}

/* SAR cycle skipping: with 3-bit weights in 8-bit differential slices only
 * the lowest 2-bit slice holds levels, so the three upper slices need no
 * trials; the conv layer's 18-row sums stay below 64 (6 of 8 trials).  The
 * cost model charges the ADC that fraction of its energy, nothing else. */
Test(engine, skip_cycles_charges_the_trials_left) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 3, "isaac", &a);
    a.encoding = XB_ENC_DIFFERENTIAL;
    xb_cost *c[2];
    double frac[2][2];
    for (int skip = 0; skip < 2; skip++) {
        a.adc_skip_cycles = skip;
        xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        c[skip] = xb_cost_compute(b->map, &ctx);
        cr_assert_not_null(c[skip], "%s", ctx.msg);
        for (int i = 0; i < 2; i++) frac[skip][i] = b->map->layers[i].adc_cycle_frac;
        xb_backend_free(b);
    }
    cr_assert_eq(frac[0][0], 1.0);
    cr_assert_eq(frac[0][1], 1.0);
    cr_assert(frac[1][0] > 0 && frac[1][0] <= 6.0 / 32, "conv %g", frac[1][0]);
    cr_assert(frac[1][1] > 0 && frac[1][1] <= 8.0 / 32, "fc %g", frac[1][1]);
    for (int i = 0; i < 2; i++) {
        cr_assert_float_eq(c[1]->layers[i].pj[XB_E_ADC], c[0]->layers[i].pj[XB_E_ADC] * frac[1][i],
                           1e-9 * c[0]->layers[i].pj[XB_E_ADC]);
        cr_assert_float_eq(c[1]->layers[i].pj[XB_E_DAC], c[0]->layers[i].pj[XB_E_DAC], 0);
    }
    xb_cost_free(c[0]);
    xb_cost_free(c[1]);
    xb_test_end(&tg);
}

/* adc.layer_bits: each layer converts with its own resolution, and the
 * cost model charges each its own ADC energy. */
Test(engine, per_layer_adc_bits) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "isaac", &a);
    cr_assert_eq(xb_arch_set(&a, "adc.layer_bits=0=4", &ctx), XB_OK, "%s", ctx.msg);
    xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    cr_assert_eq(b->layers[0]->cfg.code_hi, 15);
    cr_assert(!b->layers[0]->cfg.lossless);
    cr_assert_eq(b->layers[1]->cfg.code_hi, 255);
    cr_assert_eq(b->map->layers[0].adc_bits, 4);
    cr_assert_eq(b->map->layers[1].adc_bits, 8);
    xb_cost *c = xb_cost_compute(b->map, &ctx);
    cr_assert_not_null(c, "%s", ctx.msg);
    cr_assert_float_eq(c->layers[0].pj[XB_E_ADC],
                       (double)b->map->layers[0].conversions * xb_arch_adc_energy_pj(&a, 4), 1e-6);
    cr_assert_float_eq(c->layers[1].pj[XB_E_ADC],
                       (double)b->map->layers[1].conversions * xb_arch_adc_energy_pj(&a, 8), 1e-6);
    xb_cost_free(c);
    xb_backend_free(b);
    xb_test_end(&tg);
}

/* mapping.pack_groups=true with an on/off ratio (off cells of one group's
 * rows would add current to another group's columns) is not simulated:
 * refused, naming the layer. */
Test(engine, packed_groups_need_independent_groups) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "ideal", &a);
    a.pack_groups = XB_PACK_TRUE;
    a.on_off_ratio = 50;
    cr_assert_null(xb_backend_new(tg.g, &a, &ctx));
    cr_assert(strstr(ctx.msg, "'conv'") && strstr(ctx.msg, "pack_groups"), "%s", ctx.msg);
    a.pack_groups = XB_PACK_AUTO; /* auto: not packed, runs */
    xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    cr_assert_eq(b->map->layers[0].groups_per_xbar, 1);
    xb_backend_free(b);
    xb_test_end(&tg);
}

/* Runs the two-layer graph on backend b for image `image`. */
static void run_on(xb_test_graph *tg, xb_backend *b, int64_t image, float *y1, float *y2) {
    xb_ctx ctx = {0};
    tg->e->engine = xb_backend_engine(b);
    tg->e->engine_state = b->engine.state_new(b, &ctx);
    tg->e->image_index = image;
    run_outputs(tg, y1, y2);
    b->engine.state_free(tg->e->engine_state);
    tg->e->engine_state = NULL;
    tg->e->engine = NULL;
}

/* crossbar.on_off_ratio=15 and crossbar.g_on_us=750 + g_off_us=50 are the
 * same device: identical outputs with the off-state current uncompensated,
 * programming noise with its floor at G_off, and current-dependent read
 * noise, on the full and the fast path. */
Test(engine, ratio_and_conductance_forms_agree) {
    xb_test_graph tg;
    xb_arch r, g;
    xb_ctx ctx = {0};
    setup(&tg, 8, "isaac", &r);
    inputs();
    cr_assert_not_null(xb_test_run(&tg, (const void *[]){xin, x2in}, 0), "%s", tg.ctx.msg);
    const char *common[] = {"crossbar.off_compensation=false", "nonideal.programming_sigma=0.05",
                            "nonideal.programming_sigma_floor=0.01",
                            "nonideal.read_current_sigma=0.2"};
    g = r;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(xb_arch_set(&r, common[i], &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_eq(xb_arch_set(&g, common[i], &ctx), XB_OK, "%s", ctx.msg);
    }
    cr_assert_eq(xb_arch_set(&r, "crossbar.on_off_ratio=15", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_arch_set(&g, "crossbar.g_on_us=750", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_arch_set(&g, "crossbar.g_off_us=50", &ctx), XB_OK, "%s", ctx.msg);
    xb_backend *br = xb_backend_new(tg.g, &r, &ctx), *bg = xb_backend_new(tg.g, &g, &ctx);
    cr_assert(br && bg, "%s", ctx.msg);
    float r1[8 * 81], r2[30], g1[8 * 81], g2[30], i1[8 * 81], i2[30];
    run_outputs(&tg, i1, i2); /* int8 */
    for (int64_t image = 0; image <= 1000; image += 1000) {
        run_on(&tg, br, image, r1, r2);
        run_on(&tg, bg, image, g1, g2);
        cr_assert_eq(memcmp(r1, g1, sizeof r1), 0, "image %lld", (long long)image);
        cr_assert_eq(memcmp(r2, g2, sizeof r2), 0, "image %lld", (long long)image);
    }
    /* the device model did act */
    cr_assert_neq(memcmp(r1, i1, sizeof r1), 0);
    xb_backend_free(br);
    xb_backend_free(bg);
    xb_test_end(&tg);
}

/* RAELLA's switches cannot lose information with a lossless ADC: per-layer
 * slicing, Center+Offset, speculation with recovery, and the whole raella
 * preset with crossbar.slices = auto (chosen on a calibration image) give
 * the int8 outputs bit for bit; speculation's measured conversions become
 * the mapping's count. */
Test(engine, raella_switches_are_exact_when_lossless) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "ideal", &a);
    inputs();
    float r1[8 * 81], r2[30], a1[8 * 81], a2[30];
    run_outputs(&tg, r1, r2);
    static const char *const sets[][6] = {
        {"crossbar.bits_per_cell=4", "encoding=center", "adc.signed=true",
         "crossbar.layer_slices=0=4/2/1;-1=1/1/1/1/1/1/1", NULL},
        {"crossbar.bits_per_cell=4", "encoding=center", "adc.signed=true",
         "dac.speculation=true", "dac.speculation_slices=4/2/2", NULL},
        {"raella", "adc.bits=0", NULL},
    };
    for (size_t v = 0; v < sizeof sets / sizeof sets[0]; v++) {
        int k = 0;
        if (!strcmp(sets[v][0], "raella")) {
            cr_assert_eq(xb_arch_load(&a, "raella", &ctx), XB_OK, "%s", ctx.msg);
            k = 1;
        } else {
            cr_assert_eq(xb_arch_load(&a, "ideal", &ctx), XB_OK, "%s", ctx.msg);
        }
        for (; sets[v][k]; k++)
            cr_assert_eq(xb_arch_set(&a, sets[v][k], &ctx), XB_OK, "%s", ctx.msg);
        xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        tg.e->engine = xb_backend_engine(b);
        if (b->autos) { /* crossbar.slices = auto: one calibration image */
            xb_backend_calibration_begin(b);
            tg.e->engine_state = b->engine.state_new(b, &ctx);
            run_outputs(&tg, a1, a2);
            b->engine.state_free(tg.e->engine_state);
            cr_assert_eq(xb_backend_calibration_end(b, &ctx), XB_OK, "%s", ctx.msg);
            /* lossless: every candidate is exact, so the fewest slices win */
            for (int i = 0; i < b->n; i++) cr_assert_eq(b->map->layers[i].w_slices, 2);
        }
        if (v == 0) {
            cr_assert_eq(b->map->layers[0].w_slices, 3);
            cr_assert_eq(b->map->layers[1].w_slices, 7);
        }
        tg.e->engine_state = b->engine.state_new(b, &ctx);
        for (int img = 0; img < 2; img++) {
            tg.e->image_index = img ? 1000 : 0;
            run_outputs(&tg, a1, a2);
            cr_assert_eq(memcmp(a1, r1, sizeof r1), 0, "variant %zu image %d", v, img);
            cr_assert_eq(memcmp(a2, r2, sizeof r2), 0, "variant %zu image %d", v, img);
        }
        b->engine.state_merge(b, tg.e->engine_state);
        b->engine.state_free(tg.e->engine_state);
        tg.e->engine_state = NULL;
        tg.e->engine = NULL;
        for (int i = 0; i < b->n; i++) {
            if (!b->arch.dac_speculation) continue;
            cr_assert_eq(b->stats[i].spec_recovered, 0); /* nothing saturates */
            cr_assert_eq(b->map->layers[i].conversions, b->stats[i].conversions / 2);
        }
        xb_backend_free(b);
    }
    xb_test_end(&tg);
}

/* DATE'24 ADC co-design through the engine: data-dependent SAR skipping,
 * and a non-uniform transfer chosen with a zero error budget, are exact on
 * the ideal preset (every encoding); the counted trials reach the cost
 * model as an ADC energy fraction below the static bounds' one. */
Test(engine, sar_data_and_lossless_nonuniform_equal_int8) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "ideal", &a);
    inputs();
    float r1[8 * 81], r2[30], a1[8 * 81], a2[30];
    run_outputs(&tg, r1, r2);
    for (int enc = 0; enc < 3; enc++) {
        a.encoding = (xb_encoding)enc;
        a.adc_skip_cycles = XB_SKIP_DATA;
        a.adc_quantizer = XB_QUANT_NONUNIFORM;
        a.adc_nu_error = 0;
        xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        cr_assert(xb_arch_needs_calibration(&a));
        /* calibration on the same inputs, then the run */
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 0) xb_backend_calibration_begin(b);
            tg.e->engine = xb_backend_engine(b);
            tg.e->engine_state = b->engine.state_new(b, &ctx);
            tg.e->image_index = 1000;
            run_outputs(&tg, a1, a2);
            cr_assert_eq(memcmp(a1, r1, sizeof r1), 0, "enc %d pass %d", enc, pass);
            cr_assert_eq(memcmp(a2, r2, sizeof r2), 0, "enc %d pass %d", enc, pass);
            b->engine.state_merge(b, tg.e->engine_state);
            b->engine.state_free(tg.e->engine_state);
            tg.e->engine_state = NULL;
            tg.e->engine = NULL;
            if (pass == 0) cr_assert_eq(xb_backend_calibration_end(b, &ctx), XB_OK, "%s", ctx.msg);
        }
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(xb_sar_quantizer(b->layers[i]).fine, 0); /* budget 0: uniform */
            cr_assert_gt(b->stats[i].sar_convs, 0);
            double f = b->map->layers[i].adc_cycle_frac;
            cr_assert(f > 0 && f < 1, "layer %d frac %g", i, f);
            /* the data bounds never need more trials than the static ones
             * (the bound logic adds a little energy, so compare trials) */
            double t, u;
            xb_sar_static_units(b->layers[i], b->map->layers[i].adc_bits, &t, &u);
            cr_assert_leq((double)b->stats[i].sar_trials,
                          t * (double)b->stats[i].sar_convs + 1e-9);
        }
        xb_backend_free(b);
    }
    xb_test_end(&tg);
}

/* dac.model = pulse (backend/dac.h): the same outputs as the level model;
 * every image's inputs are counted on whatever path it takes (profile and
 * exact-path images alike, so the exact hook declines), and the DAC energy
 * is the counted pulses per image times the 1-bit pulse energy.  With a
 * 1-bit DAC a pulse is a 1 bit, so pulses never exceed activations. */
Test(engine, dac_pulse_model_counts_the_inputs_run) {
    xb_test_graph tg;
    xb_arch a;
    xb_ctx ctx = {0};
    setup(&tg, 8, "isaac", &a);
    inputs();
    float r1[8 * 81], r2[30], a1[8 * 81], a2[30];
    run_outputs(&tg, r1, r2);
    cr_assert_eq(xb_arch_set(&a, "adc.bits=0", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_arch_set(&a, "dac.model=pulse", &ctx), XB_OK, "%s", ctx.msg);
    xb_backend *b = xb_backend_new(tg.g, &a, &ctx);
    cr_assert_not_null(b, "%s", ctx.msg);
    tg.e->engine = xb_backend_engine(b);
    tg.e->engine_state = b->engine.state_new(b, &ctx);
    for (int img = 0; img < 2; img++) {
        tg.e->image_index = img ? 1000 : 0; /* a profile image, then an exact-path one */
        run_outputs(&tg, a1, a2);
        cr_assert_eq(memcmp(a1, r1, sizeof r1), 0, "image %d", img);
        cr_assert_eq(memcmp(a2, r2, sizeof r2), 0, "image %d", img);
    }
    b->engine.state_merge(b, tg.e->engine_state);
    b->engine.state_free(tg.e->engine_state);
    tg.e->engine_state = NULL;
    tg.e->engine = NULL;
    xb_cost *c = xb_cost_compute(b->map, &ctx);
    cr_assert_not_null(c, "%s", ctx.msg);
    for (int i = 0; i < b->n; i++) {
        const xb_layer_map *m = &b->map->layers[i];
        cr_assert_gt(b->stats[i].dac_pulses, 0, "layer %d", i);
        cr_assert_float_eq(m->dac_pulses,
                           (double)b->stats[i].dac_pulses / 2 * (double)m->col_blocks, 1e-9);
        cr_assert_leq(m->dac_pulses, (double)m->dac_acts, "layer %d", i);
        cr_assert_float_eq(c->layers[i].pj[XB_E_DAC], m->dac_pulses * xb_dac_pulse_pj(&a),
                           1e-9 * c->layers[i].pj[XB_E_DAC]);
    }
    xb_cost_free(c);
    xb_backend_free(b);
    xb_test_end(&tg);
}
