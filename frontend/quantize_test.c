#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/qlayer.h"
#include "frontend/quantize.h"
#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static float uni(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_next(s) >> 40) / (float)(1 << 24);
}

/* x [1,2,8,8] -> Conv(4 filters 3x3, pad 1, bias) -> Relu -> Flatten ->
 * Gemm(10 outputs, transB = 1, bias) -> y [1,10]. */
enum { CIN = 2, HW = 8, COUT = 4, KK = CIN * 9, FC_IN = COUT * HW * HW, FC_OUT = 10 };
enum { IMG = CIN * HW * HW, NCAL = 16 };

typedef struct {
    xb_test_graph tg;
    int t_conv, t_relu, t_flat, t_y;
    float images[NCAL * IMG];
} model;

static void build_model(model *m) {
    uint64_t s = 2024;
    static float w1[COUT * KK], b1[COUT], w2[FC_OUT * FC_IN], b2[FC_OUT];
    for (int i = 0; i < COUT * KK; i++) w1[i] = uni(&s, -0.5f, 0.5f);
    for (int i = 0; i < COUT; i++) b1[i] = uni(&s, -0.2f, 0.2f);
    for (int i = 0; i < FC_OUT * FC_IN; i++) w2[i] = uni(&s, -0.1f, 0.1f);
    for (int i = 0; i < FC_OUT; i++) b2[i] = uni(&s, -0.2f, 0.2f);
    for (int i = 0; i < NCAL * IMG; i++) m->images[i] = uni(&s, -1.0f, 1.0f);
    xb_test_graph *tg = &m->tg;
    xb_test_begin(tg);
    int64_t xd[4] = {1, CIN, HW, HW}, w1d[4] = {COUT, CIN, 3, 3}, b1d[1] = {COUT};
    int64_t w2d[2] = {FC_OUT, FC_IN}, b2d[1] = {FC_OUT};
    int x = xb_test_input(tg, "x", XB_F32, 4, xd);
    int cin[3] = {x, xb_test_const(tg, "w1", XB_F32, 4, w1d, w1), xb_test_const(tg, "b1", XB_F32, 1, b1d, b1)};
    m->t_conv = xb_test_tensor(tg, "conv");
    int cn = xb_test_node(tg, "Conv", 13, cin, 3, &m->t_conv, 1);
    int64_t pads[4] = {1, 1, 1, 1};
    xb_test_attr_ints(tg, cn, "pads", 4, pads);
    m->t_relu = xb_test_tensor(tg, "relu");
    xb_test_node(tg, "Relu", 13, &m->t_conv, 1, &m->t_relu, 1);
    m->t_flat = xb_test_tensor(tg, "flat");
    xb_test_node(tg, "Flatten", 13, &m->t_relu, 1, &m->t_flat, 1);
    int gin[3] = {m->t_flat, xb_test_const(tg, "w2", XB_F32, 2, w2d, w2),
                  xb_test_const(tg, "b2", XB_F32, 1, b2d, b2)};
    m->t_y = xb_test_tensor(tg, "y");
    int gn = xb_test_node(tg, "Gemm", 13, gin, 3, &m->t_y, 1);
    xb_test_attr_int(tg, gn, "transB", 1);
    xb_test_output(tg, m->t_y);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
}

static const float *run(const xb_graph *g, xb_exec **e, const float *img, int tensor) {
    xb_ctx ctx = {0};
    if (!*e) *e = xb_exec_new_keep(g, &ctx);
    cr_assert_not_null(*e, "%s", ctx.msg);
    memcpy((*e)->buf[g->inputs[0]], img, IMG * sizeof(float));
    cr_assert_eq(xb_exec_run(*e, &ctx), XB_OK, "%s", ctx.msg);
    return (*e)->buf[tensor];
}

static float attr_f(const xb_node *n, const char *name) { return xb_attr_float(n, name, NAN); }

/* Rigorous error bound for one matrix layer y = W x + b whose quantized
 * version computes W' Q(x~) + b, where x~ is the input the quantized graph
 * actually sees (|x~ - x| <= ein[k]) and Q rounds to the grid (error
 * <= scale/2, plus up to ein[k] more if x~ left the calibrated range):
 *   |y' - y| <= sum_k |W'| (2 ein[k] + xs/2) + (ws/2) |x[k]|  + float slack. */
static void layer_bound(const xb_qlayer *q, const float *xin, const float *ein, int64_t P,
                        int64_t (*col)(const xb_qlayer *, int64_t n, int64_t k, int64_t p),
                        float *eout) {
    for (int64_t n = 0; n < q->N; n++)
        for (int64_t p = 0; p < P; p++) {
            double b = 0, mag = 0;
            for (int64_t k = 0; k < q->K; k++) {
                int64_t xi = col(q, n, k, p);
                double wq = fabs((double)q->w[n * q->K + k] * q->w_scale[n]);
                double xv = xi < 0 ? 0.0 : fabs(xin[xi]), ev = xi < 0 ? 0.0 : ein[xi];
                b += wq * (2 * ev + (xi < 0 ? 0 : q->x_scale / 2)) + q->w_scale[n] / 2 * xv;
                mag += wq * (xv + ev + q->x_scale);
            }
            eout[n * P + p] = (float)(b + 1e-5 * mag + 1e-6);
        }
}

/* Input element feeding conv output channel n, position p, column k, or -1
 * for padding. */
static int64_t conv_col(const xb_qlayer *q, int64_t n, int64_t k, int64_t p) {
    (void)n;
    int64_t c = k / 9, i = (k % 9) / 3, j = k % 3, oy = p / HW, ox = p % HW;
    int64_t iy = oy - 1 + i, ix = ox - 1 + j;
    (void)q;
    if (iy < 0 || iy >= HW || ix < 0 || ix >= HW) return -1;
    return (c * HW + iy) * HW + ix;
}
static int64_t gemm_col(const xb_qlayer *q, int64_t n, int64_t k, int64_t p) {
    (void)q, (void)n, (void)p;
    return k;
}

static void check_close(model *m, const xb_graph *qg, int bits_w, int bits_x) {
    const xb_node *cn, *gn;
    const xb_qlayer *qc = xb_qlayer_get(qg, 0, &cn), *qf = xb_qlayer_get(qg, 1, &gn);
    cr_assert_eq(xb_qlayer_count(qg), 2);
    cr_assert_eq(qc->kind, XB_QL_CONV);
    cr_assert_eq(qf->kind, XB_QL_GEMM);
    cr_assert_str_eq(cn->op_type, "XbarQConv");
    cr_assert_str_eq(gn->op_type, "XbarQGemm");
    cr_assert_eq(qc->w_bits, bits_w);
    cr_assert_eq(qc->x_bits, bits_x);
    cr_assert_eq(qf->K, FC_IN);
    cr_assert_eq(qf->N, FC_OUT);
    xb_exec *ef = NULL, *eq = NULL;
    static float e1[COUT * HW * HW], e2[FC_OUT], x1[IMG];
    double worst = 0, scale = 0;
    for (int i = 0; i < NCAL; i += 5) {
        const float *img = m->images + i * IMG;
        const float *yf = run(m->tg.g, &ef, img, m->t_y);
        const float *yq = run(qg, &eq, img, m->t_y);
        const float *relu_f = ef->buf[m->t_relu];
        memset(x1, 0, sizeof x1);
        layer_bound(qc, img, x1, HW * HW, conv_col, e1);
        layer_bound(qf, relu_f, e1, 1, gemm_col, e2);
        for (int o = 0; o < FC_OUT; o++) {
            double d = fabs((double)yq[o] - yf[o]);
            cr_assert(d <= e2[o], "image %d out %d: |%g - %g| = %g > bound %g", i, o, yq[o], yf[o],
                      d, e2[o]);
            if (d > worst) worst = d;
            if (fabs(yf[o]) > scale) scale = fabs(yf[o]);
        }
    }
    /* Quantization really happened: the outputs differ from float. */
    cr_assert(worst > 0, "quantized output identical to float");
    if (bits_w == 8 && bits_x == 8) cr_assert(worst < 0.05 * scale, "8-bit error %g of %g", worst, scale);
    xb_exec_free(ef);
    xb_exec_free(eq);
}

static void check_weights(const xb_graph *qg, int bits) {
    int qmax = (1 << (bits - 1)) - 1;
    for (int l = 0; l < xb_qlayer_count(qg); l++) {
        const xb_qlayer *q = xb_qlayer_get(qg, l, NULL);
        for (int64_t r = 0; r < q->groups * q->N; r++) {
            int m = 0;
            for (int64_t k = 0; k < q->K; k++) {
                int v = q->w[r * q->K + k];
                cr_assert(v >= -qmax && v <= qmax, "layer %d weight %d outside %d bits", l, v, bits);
                if (abs(v) > m) m = abs(v);
            }
            /* The largest weight of each channel lands on the end of the range. */
            cr_assert_eq(m, qmax, "layer %d row %lld max %d", l, (long long)r, m);
        }
        cr_assert(q->x_zp >= 0 && q->x_zp <= (1 << q->x_bits) - 1);
    }
}

Test(quantize, int8_close_to_float_within_bound) {
    model m;
    build_model(&m);
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize_default(m.tg.g, m.images, NCAL, &qg, &m.tg.ctx), XB_OK, "%s", m.tg.ctx.msg);
    check_weights(qg, 8);
    check_close(&m, qg, 8, 8);
    cr_assert_not_null(xb_graph_meta(qg, "xbar.quant"));
    /* The input of the first conv is the image: its range is [-1, 1] up to
     * sampling, so the zero point sits near the middle of 0..255. */
    const xb_qlayer *qc = xb_qlayer_get(qg, 0, NULL);
    cr_assert(qc->x_zp > 120 && qc->x_zp < 136, "zp %d", qc->x_zp);
    /* The Gemm's input is a ReLU output: range [0, max], zero point 0. */
    cr_assert_eq(xb_qlayer_get(qg, 1, NULL)->x_zp, 0);
    xb_graph_free(qg);
    xb_test_end(&m.tg);
}

Test(quantize, two_bit_weights_and_activations) {
    model m;
    build_model(&m);
    xb_quant_opts o = xb_quant_opts_default();
    o.w_bits = 2, o.x_bits = 2;
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize(m.tg.g, m.images, NCAL, &o, &qg, &m.tg.ctx), XB_OK, "%s", m.tg.ctx.msg);
    check_weights(qg, 2);
    check_close(&m, qg, 2, 2);
    xb_graph_free(qg);
    xb_test_end(&m.tg);
}

Test(quantize, xbar_qconv_output_is_exact_integer_product) {
    /* The conv output of the quantized graph equals acc * x_scale * w_scale
     * + bias with acc from a plain integer loop over the codes; the Relu is
     * fused, and since the output reaches the Gemm only through Flatten,
     * the layer writes the Gemm's input codes (frontend/chain_qcodes.c):
     * the Gemm's quantization of that float, bit for bit. */
    model m;
    build_model(&m);
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize_default(m.tg.g, m.images, NCAL, &qg, &m.tg.ctx), XB_OK, "%s", m.tg.ctx.msg);
    const xb_node *cn, *gn;
    const xb_qlayer *q = xb_qlayer_get(qg, 0, &cn), *qf = xb_qlayer_get(qg, 1, &gn);
    cr_assert_float_eq(q->x_scale, attr_f(cn, "x_scale"), 0.0f);
    xb_exec *e = NULL;
    const float *img = m.images + 3 * IMG;
    /* The model's Relu reads only the conv output, so quantization fuses
     * it into the layer (frontend/fuse_qrelu.c): the layer now writes the
     * Relu's tensor, max(product, 0) bit for bit. */
    cr_assert_eq(cn->out[0], m.t_relu);
    cr_assert_eq(xb_attr_int(cn, "relu", 0), 1);
    cr_assert_eq(qg->tensors[m.t_relu].dtype, XB_U8);
    cr_assert_eq(qg->tensors[m.t_flat].dtype, XB_U8);
    cr_assert_float_eq(attr_f(cn, "y_scale"), qf->x_scale, 0.0f);
    cr_assert_eq(xb_attr_int(cn, "y_zero_point", -1), qf->x_zp);
    cr_assert_eq(xb_attr_int(cn, "y_bits", -1), qf->x_bits);
    const uint8_t *y = (const uint8_t *)run(qg, &e, img, m.t_relu);
    int codes[IMG];
    for (int i = 0; i < IMG; i++) {
        float v = nearbyintf(img[i] / q->x_scale) + (float)q->x_zp;
        codes[i] = v < 0 ? 0 : v > 255 ? 255 : (int)v;
    }
    int nonzero = 0;
    for (int o = 0; o < COUT; o++)
        for (int p = 0; p < HW * HW; p++) {
            int64_t acc = 0;
            for (int k = 0; k < KK; k++) {
                int64_t xi = conv_col(q, o, k, p);
                if (xi >= 0) acc += (int64_t)q->w[o * KK + k] * (codes[xi] - q->x_zp);
            }
            float want = (float)acc * (q->x_scale * q->w_scale[o]) + q->bias[o];
            want = want > 0.0f ? want : 0.0f;
            float c = nearbyintf(want / qf->x_scale) + (float)qf->x_zp;
            int code = c < 0 ? 0 : c > 255 ? 255 : (int)c;
            cr_assert_eq(y[o * HW * HW + p], code, "o=%d p=%d", o, p);
            nonzero += code != qf->x_zp;
        }
    cr_assert(nonzero > 0);
    xb_exec_free(e);
    xb_graph_free(qg);
    xb_test_end(&m.tg);
}

Test(quantize, deterministic_and_percentile_narrows_range) {
    model m;
    build_model(&m);
    xb_graph *a = NULL, *b = NULL, *p = NULL;
    cr_assert_eq(xb_quantize_default(m.tg.g, m.images, NCAL, &a, &m.tg.ctx), XB_OK);
    cr_assert_eq(xb_quantize_default(m.tg.g, m.images, NCAL, &b, &m.tg.ctx), XB_OK);
    for (int l = 0; l < 2; l++) {
        const xb_qlayer *qa = xb_qlayer_get(a, l, NULL), *qb = xb_qlayer_get(b, l, NULL);
        cr_assert_eq(qa->x_scale, qb->x_scale);
        cr_assert_eq(qa->x_zp, qb->x_zp);
        cr_assert_eq(memcmp(qa->w, qb->w, (size_t)(qa->N * qa->K)), 0);
        cr_assert_eq(memcmp(qa->w_scale, qb->w_scale, (size_t)qa->N * 4), 0);
    }
    xb_quant_opts o = xb_quant_opts_default();
    o.method = XB_QUANT_PERCENTILE;
    o.percentile = 90.0;
    cr_assert_eq(xb_quantize(m.tg.g, m.images, NCAL, &o, &p, &m.tg.ctx), XB_OK, "%s", m.tg.ctx.msg);
    for (int l = 0; l < 2; l++) {
        float sa = xb_qlayer_get(a, l, NULL)->x_scale, sp = xb_qlayer_get(p, l, NULL)->x_scale;
        cr_assert(sp < sa, "layer %d: percentile scale %g not below minmax %g", l, sp, sa);
    }
    /* The float graph is untouched. */
    cr_assert_str_eq(m.tg.g->nodes[0].op_type, "Conv");
    xb_graph_free(a);
    xb_graph_free(b);
    xb_graph_free(p);
    xb_test_end(&m.tg);
}

Test(quantize, matmul_and_gemm_alpha_beta) {
    /* x [3,6] -> MatMul(B [6,4]) -> Gemm(alpha 0.5, beta 2, B [4,5] not
     * transposed, C [5]) : both become XbarQGemm with alpha/beta folded. */
    uint64_t s = 9;
    float B1[24], B2[20], C[5], imgs[4 * 18];
    for (int i = 0; i < 24; i++) B1[i] = uni(&s, -1, 1);
    for (int i = 0; i < 20; i++) B2[i] = uni(&s, -1, 1);
    for (int i = 0; i < 5; i++) C[i] = uni(&s, -1, 1);
    for (int i = 0; i < 4 * 18; i++) imgs[i] = uni(&s, -2, 2);
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[2] = {3, 6}, b1d[2] = {6, 4}, b2d[2] = {4, 5}, cd[1] = {5};
    int x = xb_test_input(&tg, "x", XB_F32, 2, xd);
    int in1[2] = {x, xb_test_const(&tg, "B1", XB_F32, 2, b1d, B1)};
    int h = xb_test_tensor(&tg, "h"), y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "MatMul", 13, in1, 2, &h, 1);
    int in2[3] = {h, xb_test_const(&tg, "B2", XB_F32, 2, b2d, B2), xb_test_const(&tg, "C", XB_F32, 1, cd, C)};
    int gn = xb_test_node(&tg, "Gemm", 13, in2, 3, &y, 1);
    xb_test_attr_float(&tg, gn, "alpha", 0.5f);
    xb_test_attr_float(&tg, gn, "beta", 2.0f);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize_default(tg.g, imgs, 4, &qg, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_qlayer_count(qg), 2);
    const xb_qlayer *q2 = xb_qlayer_get(qg, 1, NULL);
    for (int n = 0; n < 5; n++) cr_assert_float_eq(q2->bias[n], 2.0f * C[n], 0.0f);
    /* Dequantized weights approximate alpha * B^T within half a step. */
    for (int n = 0; n < 5; n++)
        for (int k = 0; k < 4; k++)
            cr_assert(fabsf(q2->w[n * 4 + k] * q2->w_scale[n] - 0.5f * B2[k * 5 + n]) <=
                      q2->w_scale[n] * 0.5001f);
    xb_ctx ctx = {0};
    xb_exec *ef = xb_exec_new_keep(tg.g, &ctx), *eq = xb_exec_new_keep(qg, &ctx);
    memcpy(ef->buf[tg.g->inputs[0]], imgs, 18 * 4);
    memcpy(eq->buf[qg->inputs[0]], imgs, 18 * 4);
    cr_assert_eq(xb_exec_run(ef, &ctx), XB_OK);
    cr_assert_eq(xb_exec_run(eq, &ctx), XB_OK, "%s", ctx.msg);
    const float *yf = ef->buf[y], *yq = eq->buf[y];
    for (int i = 0; i < 15; i++) cr_assert(fabsf(yf[i] - yq[i]) < 0.05f, "%d: %g vs %g", i, yf[i], yq[i]);
    xb_exec_free(ef);
    xb_exec_free(eq);
    xb_graph_free(qg);
    xb_test_end(&tg);
}

Test(quantize, rejects_bad_options) {
    model m;
    build_model(&m);
    xb_graph *qg = NULL;
    xb_quant_opts o = xb_quant_opts_default();
    o.w_bits = 9;
    cr_assert_eq(xb_quantize(m.tg.g, m.images, NCAL, &o, &qg, &m.tg.ctx), XB_ERR_INVALID);
    cr_assert_null(qg);
    xb_ctx_clear(&m.tg.ctx);
    o = xb_quant_opts_default();
    cr_assert_eq(xb_quantize(m.tg.g, m.images, 0, &o, &qg, &m.tg.ctx), XB_ERR_INVALID);
    xb_test_end(&m.tg);
}

/* The cancel flag (Ctrl-C) stops calibration with XB_ERR_INTERRUPTED and
 * no graph; a clear flag changes nothing. */
Test(quantize, cancel_flag_stops_calibration) {
    model m;
    build_model(&m);
    xb_graph *qg = NULL;
    volatile sig_atomic_t stop = 1;
    xb_quant_opts o = xb_quant_opts_default();
    o.cancel = &stop;
    cr_assert_eq(xb_quantize(m.tg.g, m.images, NCAL, &o, &qg, &m.tg.ctx), XB_ERR_INTERRUPTED);
    cr_assert_null(qg);
    cr_assert(strstr(m.tg.ctx.msg, "0 of 16 images"), "%s", m.tg.ctx.msg);
    xb_ctx_clear(&m.tg.ctx);
    stop = 0;
    cr_assert_eq(xb_quantize(m.tg.g, m.images, NCAL, &o, &qg, &m.tg.ctx), XB_OK, "%s", m.tg.ctx.msg);
    xb_graph_free(qg);
    xb_test_end(&m.tg);
}

/* x [1,n] -> MatMul(B [n,1]) -> y; the MatMul's input is the image. */
static void build_matmul(xb_test_graph *tg, int64_t n) {
    float *B = calloc((size_t)n, sizeof(float));
    B[0] = 1.0f;
    xb_test_begin(tg);
    int64_t xd[2] = {1, n}, bd[2] = {n, 1};
    int in[2] = {xb_test_input(tg, "x", XB_F32, 2, xd), xb_test_const(tg, "B", XB_F32, 2, bd, B)};
    int y = xb_test_tensor(tg, "y");
    xb_test_node(tg, "MatMul", 13, in, 2, &y, 1);
    xb_test_output(tg, y);
    free(B);
    cr_assert_eq(xb_test_prepare(tg), XB_OK, "%s", tg->ctx.msg);
}

Test(quantize, minmax_parameters_hand_computed) {
    /* Values over both images span [-1, 3]: scale 4/255, zero point
     * rint(1 / (4/255)) = rint(63.75) = 64. */
    xb_test_graph tg;
    build_matmul(&tg, 4);
    float imgs[8] = {-1, 0, 2, 3, 0.5f, 1, -0.5f, 2.5f};
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize_default(tg.g, imgs, 2, &qg, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    const xb_qlayer *q = xb_qlayer_get(qg, 0, NULL);
    cr_assert_eq(q->x_scale, 4.0f / 255.0f);
    cr_assert_eq(q->x_zp, 64);
    xb_graph_free(qg);
    /* All positive values: the range still starts at 0 (zero point 0). */
    float pos[4] = {1, 2, 3, 5.1f};
    cr_assert_eq(xb_quantize_default(tg.g, pos, 1, &qg, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    q = xb_qlayer_get(qg, 0, NULL);
    cr_assert_eq(q->x_zp, 0);
    cr_assert_eq(q->x_scale, 5.1f / 255.0f);
    xb_graph_free(qg);
    xb_test_end(&tg);
}

Test(quantize, percentile_parameters_hand_computed) {
    /* 1000 values -500..499, percentile 99: the 11th smallest (-490) and
     * the 990th (489) bound the range, up to one histogram bin (999/4096)
     * outward: lo in [-490.25, -490], hi in [489, 489.25]. */
    xb_test_graph tg;
    build_matmul(&tg, 1000);
    float *img = malloc(1000 * sizeof(float));
    for (int i = 0; i < 1000; i++) img[i] = (float)(i - 500);
    xb_quant_opts o = xb_quant_opts_default();
    o.method = XB_QUANT_PERCENTILE;
    o.percentile = 99.0;
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize(tg.g, img, 1, &o, &qg, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    const xb_qlayer *q = xb_qlayer_get(qg, 0, NULL);
    double range = (double)q->x_scale * 255.0;
    cr_assert(range >= 979.0 - 1e-3 && range <= 979.5 + 1e-3, "range %g", range);
    /* zp = rint(490.x / scale) = 128 */
    cr_assert_eq(q->x_zp, 128);
    xb_graph_free(qg);
    free(img);
    xb_test_end(&tg);
}

/* The vectorised min/max: extremes in a tail shorter than a vector, in
 * another image than the first; a non-finite value anywhere fails. */
Test(quantize, minmax_tail_and_nonfinite) {
    xb_test_graph tg;
    build_matmul(&tg, 37);
    float imgs[3 * 37];
    for (int i = 0; i < 3 * 37; i++) imgs[i] = (float)(i % 7) * 0.25f;
    imgs[37] = 6.0f;            /* image 1, first value */
    imgs[2 * 37 + 36] = -2.0f;  /* image 2, last value */
    xb_quant_opts o = xb_quant_opts_default();
    xb_graph *qg = NULL;
    cr_assert_eq(xb_quantize(tg.g, imgs, 3, &o, &qg, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    const xb_qlayer *q = xb_qlayer_get(qg, 0, NULL);
    /* [-2, 6]: scale 8/255, zero point rint(2 / (8/255)) = rint(63.75) = 64 */
    cr_assert_eq(q->x_scale, 8.0f / 255.0f);
    cr_assert_eq(q->x_zp, 64);
    xb_graph_free(qg);
    float bad[3 * 37];
    memcpy(bad, imgs, sizeof bad);
    bad[2 * 37 + 35] = INFINITY;
    cr_assert_eq(xb_quantize(tg.g, bad, 3, &o, &qg, &tg.ctx), XB_ERR_RUNTIME);
    cr_assert(strstr(tg.ctx.msg, "non-finite"), "%s", tg.ctx.msg);
    xb_ctx_clear(&tg.ctx);
    xb_test_end(&tg);
}
