/* Per-layer mixed precision end to end: the arch's layer_weight_bits and
 * layer_input_bits reach the quantizer (each layer's integers at its own
 * widths), the compiler (weight slices, input slices, crossbars, time) and
 * the crossbar simulation, which with a lossless ADC equals the int8
 * reference at those widths bit for bit.  Also the budget check of
 * replication and the arch checks of the two fields. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cost.h"
#include "backend/engine.h"
#include "eval/mixed_precision.h"
#include "kernels/qlayer.h"
#include "tests/test_util.h"

static uint64_t rng(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static float uni(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)(rng(s) >> 40) / (float)(1 << 24);
}

/* x [1,3,8,8] -> Conv(6, 3x3, pad 1) -> Relu -> Flatten -> Gemm(10, K 384). */
enum { CIN = 3, HW = 8, COUT = 6, FC_IN = COUT * HW * HW, FC_OUT = 10, IMG = CIN * HW * HW };
enum { NCAL = 8 };

static void build(xb_test_graph *tg, float *images) {
    uint64_t s = 99;
    static float w1[COUT * CIN * 9], b1[COUT], w2[FC_OUT * FC_IN], b2[FC_OUT];
    for (int i = 0; i < COUT * CIN * 9; i++) w1[i] = uni(&s, -0.5f, 0.5f);
    for (int i = 0; i < COUT; i++) b1[i] = uni(&s, -0.2f, 0.2f);
    for (int i = 0; i < FC_OUT * FC_IN; i++) w2[i] = uni(&s, -0.1f, 0.1f);
    for (int i = 0; i < FC_OUT; i++) b2[i] = uni(&s, -0.2f, 0.2f);
    for (int i = 0; i < NCAL * IMG; i++) images[i] = uni(&s, -1.0f, 1.0f);
    xb_test_begin(tg);
    int64_t xd[4] = {1, CIN, HW, HW}, w1d[4] = {COUT, CIN, 3, 3}, b1d[1] = {COUT};
    int64_t w2d[2] = {FC_OUT, FC_IN}, b2d[1] = {FC_OUT};
    int x = xb_test_input(tg, "x", XB_F32, 4, xd);
    int cin[3] = {x, xb_test_const(tg, "w1", XB_F32, 4, w1d, w1),
                  xb_test_const(tg, "b1", XB_F32, 1, b1d, b1)};
    int tc = xb_test_tensor(tg, "conv"), tr = xb_test_tensor(tg, "relu");
    int tf = xb_test_tensor(tg, "flat"), ty = xb_test_tensor(tg, "y");
    int cn = xb_test_node(tg, "Conv", 13, cin, 3, &tc, 1);
    int64_t pads[4] = {1, 1, 1, 1};
    xb_test_attr_ints(tg, cn, "pads", 4, pads);
    xb_test_node(tg, "Relu", 13, &tc, 1, &tr, 1);
    xb_test_node(tg, "Flatten", 13, &tr, 1, &tf, 1);
    int gin[3] = {tf, xb_test_const(tg, "w2", XB_F32, 2, w2d, w2),
                  xb_test_const(tg, "b2", XB_F32, 1, b2d, b2)};
    int gn = xb_test_node(tg, "Gemm", 13, gin, 3, &ty, 1);
    xb_test_attr_int(tg, gn, "transB", 1);
    xb_test_output(tg, ty);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
}

static void run(const xb_graph *g, xb_exec *e, const float *img, int64_t index, float *y) {
    xb_ctx ctx = {0};
    memcpy(e->buf[g->inputs[0]], img, IMG * sizeof(float));
    e->image_index = index;
    cr_assert_eq(xb_exec_run(e, &ctx), XB_OK, "%s", ctx.msg);
    memcpy(y, e->buf[g->outputs[0]], FC_OUT * sizeof(float));
}

/* Quantize the float graph with the arch's per-layer bits. */
static xb_graph *quantize(const xb_graph *fg, const xb_arch *a, const float *images) {
    xb_ctx ctx = {0};
    xb_quant_opts qo = xb_quant_opts_default();
    qo.w_bits = a->weight_bits;
    qo.x_bits = a->input_bits;
    cr_assert_eq(xb_quant_opts_layers_from_arch(fg, a, &qo, &ctx), XB_OK, "%s", ctx.msg);
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize(fg, images, NCAL, &qo, &qg, &ctx), XB_OK, "%s", ctx.msg);
    return qg;
}

Test(mixed_precision, lossless_equals_int8_at_each_layers_widths) {
    xb_test_graph tg;
    static float images[NCAL * IMG];
    build(&tg, images);
    xb_ctx ctx = {0};
    const int wb[2] = {4, 6}, xb[2] = {5, 3};
    for (int enc = 0; enc < 3; enc++) {
        xb_arch a;
        cr_assert_eq(xb_arch_load(&a, "ideal", &ctx), XB_OK, "%s", ctx.msg);
        a.encoding = (xb_encoding)enc;
        cr_assert_eq(xb_arch_set(&a, "layer_weight_bits=0=4/-1=6", &ctx), XB_OK, "%s", ctx.msg);
        cr_assert_eq(xb_arch_set(&a, "layer_input_bits=0=5/1=3", &ctx), XB_OK, "%s", ctx.msg);
        xb_graph *qg = quantize(tg.g, &a, images);
        for (int i = 0; i < 2; i++) {
            const xb_qlayer *q = xb_qlayer_get(qg, i, NULL);
            cr_assert_eq(q->w_bits, wb[i]);
            cr_assert_eq(q->x_bits, xb[i]);
            int wmax = (1 << (wb[i] - 1)) - 1, seen = 0;
            for (int64_t k = 0; k < q->N * q->K * q->groups; k++) {
                cr_assert_leq(abs(q->w[k]), wmax);
                seen = seen > abs(q->w[k]) ? seen : abs(q->w[k]);
            }
            cr_assert_eq(seen, wmax, "per-channel max maps to the top code");
        }
        xb_backend *b = xb_backend_new(qg, &a, &ctx);
        cr_assert_not_null(b, "%s", ctx.msg);
        for (int i = 0; i < 2; i++) {
            int mb = enc == XB_ENC_OFFSET ? wb[i] : wb[i] - 1;
            cr_assert_eq(b->map->layers[i].w_slices, (mb + 1) / 2, "enc %d layer %d", enc, i);
            cr_assert_eq(b->map->layers[i].input_slices, xb[i]);
            cr_assert_eq(b->layers[i]->cfg.weight_bits, wb[i]);
            cr_assert_eq(b->layers[i]->cfg.input_slices, xb[i]);
        }
        xb_exec *e0 = xb_exec_new_keep(qg, &ctx), *e1 = xb_exec_new_keep(qg, &ctx);
        cr_assert(e0 && e1, "%s", ctx.msg);
        e1->engine = xb_backend_engine(b);
        e1->engine_state = b->engine.state_new(b, &ctx);
        for (int img = 0; img < NCAL; img++) {
            float r[FC_OUT], y[FC_OUT];
            run(qg, e0, images + img * IMG, img, r);
            run(qg, e1, images + img * IMG, img, y); /* < 16: fully simulated */
            cr_assert_eq(memcmp(r, y, sizeof r), 0, "enc %d image %d", enc, img);
            run(qg, e1, images + img * IMG, 1000 + img, y); /* the exact fast path */
            cr_assert_eq(memcmp(r, y, sizeof r), 0, "enc %d image %d (fast path)", enc, img);
        }
        b->engine.state_free(e1->engine_state);
        e1->engine_state = NULL;
        xb_exec_free(e0);
        xb_exec_free(e1);
        xb_backend_free(b);
        xb_graph_free(qg);
    }
    xb_test_end(&tg);
}

/* Fewer weight bits, fewer crossbar columns; fewer input bits, a shorter
 * stage; the cost model charges each layer at its own slices. */
Test(mixed_precision, compile_and_cost_per_layer) {
    xb_ctx ctx = {0};
    xb_layer_shape sh[2] = {{.name = "a", .K = 27, .N = 32, .groups = 1, .P = 1024},
                            {.name = "b", .K = 288, .N = 64, .groups = 1, .P = 64}};
    for (int i = 0; i < 2; i++) sh[i].x_bits = sh[i].w_bits = 8;
    xb_arch a;
    xb_arch_defaults(&a);
    xb_mapping *m8 = xb_compile_shapes(&a, sh, 2, &ctx);
    cr_assert_eq(xb_arch_set(&a, "layer_weight_bits=1=4", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_eq(xb_arch_set(&a, "layer_input_bits=0=4", &ctx), XB_OK, "%s", ctx.msg);
    xb_mapping *m = xb_compile_shapes(&a, sh, 2, &ctx);
    cr_assert(m8 && m, "%s", ctx.msg);
    cr_assert_eq(m->layers[0].w_slices, 4);
    cr_assert_eq(m->layers[1].w_slices, 2);
    cr_assert_eq(m->layers[0].input_slices, 4);
    cr_assert_eq(m->layers[1].input_slices, 8);
    cr_assert_eq(m8->layers[1].xbars, 2 * m->layers[1].xbars, "64 x 4 slices: 2 col blocks -> 1");
    cr_assert_float_eq(xb_layer_latency_ns(&a, &m->layers[0]),
                       xb_layer_latency_ns(&m8->arch, &m8->layers[0]) / 2, 1e-6);
    xb_cost *c = xb_cost_compute(m, &ctx), *c8 = xb_cost_compute(m8, &ctx);
    cr_assert(c && c8);
    cr_assert_float_eq(c->layers[0].pj[XB_E_DAC] * 2, c8->layers[0].pj[XB_E_DAC], 1e-6);
    cr_assert_lt(c->layers[1].pj[XB_E_ADC], c8->layers[1].pj[XB_E_ADC]);
    xb_cost_free(c), xb_cost_free(c8);
    xb_mapping_free(m), xb_mapping_free(m8);
}

Test(mixed_precision, arch_checks) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    cr_assert_neq(xb_arch_set(&a, "layer_weight_bits=0=9", &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "2..8"), "%s", ctx.msg);
    xb_arch_defaults(&a); /* a failed --set may leave the value in place */
    ctx = (xb_ctx){0};    /* and the context keeps its first message */
    cr_assert_neq(xb_arch_set(&a, "layer_input_bits=0=", &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "layer_input_bits"), "%s", ctx.msg);
    xb_arch_defaults(&a);
    ctx = (xb_ctx){0};
    cr_assert_eq(xb_arch_set(&a, "crossbar.slices=2/2/2/2", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert_neq(xb_arch_set(&a, "layer_weight_bits=0=4", &ctx), XB_OK);
    cr_assert(strstr(ctx.msg, "uniform slices (crossbar.slices"), "%s", ctx.msg);
    xb_arch_defaults(&a);
    ctx = (xb_ctx){0};
    cr_assert_eq(xb_arch_set(&a, "layer_input_bits=5=4", &ctx), XB_OK, "%s", ctx.msg);
    xb_layer_shape s = {.name = "a", .K = 9, .N = 4, .groups = 1, .P = 16, .x_bits = 8, .w_bits = 8};
    cr_assert_null(xb_compile_shapes(&a, &s, 1, &ctx));
    cr_assert(strstr(ctx.msg, "layer 5 does not exist"), "%s", ctx.msg);
}

/* A replication budget below one copy of every layer is an error naming
 * both numbers, for balance and milp alike; none ignores the budget. */
Test(mixed_precision, budget_below_minimum_mapping_is_an_error) {
    xb_ctx ctx = {0};
    xb_arch a;
    xb_arch_defaults(&a);
    xb_layer_shape sh[30];
    for (int i = 0; i < 30; i++)
        sh[i] = (xb_layer_shape){.name = "l", .K = 300, .N = 64, .groups = 1, .P = 64,
                                 .x_bits = 8, .w_bits = 8};
    xb_mapping *m = xb_compile_shapes(&a, sh, 30, &ctx); /* 30 partitions: 3 tiles */
    cr_assert_not_null(m, "%s", ctx.msg);
    cr_assert_eq(m->tiles, 3);
    xb_mapping_free(m);
    a.budget_tiles = 2;
    for (int r = XB_REP_BALANCE; r <= XB_REP_MILP; r++) {
        a.replication = (xb_replication)r;
        ctx = (xb_ctx){0};
        cr_assert_null(xb_compile_shapes(&a, sh, 30, &ctx));
        cr_assert(strstr(ctx.msg, "below the minimum mapping") && strstr(ctx.msg, "3 tiles"), "%s",
                  ctx.msg);
    }
    a.replication = XB_REP_NONE;
    m = xb_compile_shapes(&a, sh, 30, &ctx);
    cr_assert_not_null(m, "%s", ctx.msg);
    xb_mapping_free(m);
}
