#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/igemm.h"
#include "kernels/qlayer.h"
#include "kernels/qlayer_impl.h"
#include "tests/test_util.h"

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static float rng_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)(rng_next(s) >> 40) / (float)(1 << 24);
}

static int qnode(xb_test_graph *tg, const char *op, const int *in, int n_in, int out) {
    return xb_graph_add_node(tg->g, op, op, "xbar", 1, in, n_in, &out, 1, &tg->ctx);
}

typedef struct {
    int64_t n, cin, h, w, cout, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
    int x_bits, w_bits;
    float x_scale;
    int x_zp;
    bool bias;
    bool relu; /* attribute relu = 1 (a fused Relu) */
    bool residual; /* input 4: a residual r added before the relu (fuse_qrelu.c) */
    int y_bits;    /* > 0: the output is u8 codes (y_scale 0.05, y_zero_point 3) */
} conv_case;

#define Y_SCALE 0.05f
#define Y_ZP 3

/* Naive reference written from the qlayer.h formulas, independent of the
 * kernel's im2col/igemm path: direct convolution over codes where every
 * padded position contributes (zp - zp) = 0. */
static void ref_qconv(const conv_case *c, const float *x, const int8_t *w, const float *ws,
                      const float *bias, const float *r, float *y, int64_t ho, int64_t wo) {
    int64_t cin_g = c->cin / c->group, cout_g = c->cout / c->group;
    int32_t hi = (1 << c->x_bits) - 1;
    for (int64_t b = 0; b < c->n; b++)
        for (int64_t oc = 0; oc < c->cout; oc++) {
            int64_t gi = oc / cout_g;
            for (int64_t oy = 0; oy < ho; oy++)
                for (int64_t ox = 0; ox < wo; ox++) {
                    int64_t acc = 0;
                    for (int64_t ic = 0; ic < cin_g; ic++)
                        for (int64_t i = 0; i < c->kh; i++)
                            for (int64_t j = 0; j < c->kw; j++) {
                                int64_t iy = oy * c->sh - c->pt + i * c->dh;
                                int64_t ix = ox * c->sw - c->pl + j * c->dw;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                float xv = x[((b * c->cin + gi * cin_g + ic) * c->h + iy) * c->w + ix];
                                float qv = nearbyintf(xv / c->x_scale) + (float)c->x_zp;
                                int32_t code = qv < 0 ? 0 : qv > (float)hi ? hi : (int32_t)qv;
                                acc += (int64_t)w[((oc * cin_g + ic) * c->kh + i) * c->kw + j] *
                                       (code - c->x_zp);
                            }
                    const int64_t at = ((b * c->cout + oc) * ho + oy) * wo + ox;
                    float v = (float)acc * (c->x_scale * ws[oc]) + (bias ? bias[oc] : 0.0f);
                    if (r) v = v + r[at]; /* the Add node's expression */
                    v = c->relu && !(v > 0.0f) ? 0.0f : v;
                    if (c->y_bits) /* the next layer's quantization (qmath.h) */
                        v = (float)xb_quantize1(v, Y_SCALE, Y_ZP, 0, (1 << c->y_bits) - 1);
                    y[at] = v;
                }
        }
}

static void build_conv(xb_test_graph *tg, const conv_case *c, const int8_t *w, const float *ws,
                       const float *bias, const float *r, const int64_t *rdims) {
    xb_test_begin(tg);
    int64_t xd[4] = {c->n, c->cin, c->h, c->w};
    int64_t wd[4] = {c->cout, c->cin / c->group, c->kh, c->kw};
    int64_t sd[1] = {c->cout};
    int in[5];
    in[0] = xb_test_input(tg, "x", XB_F32, 4, xd);
    in[1] = xb_test_const(tg, "w", XB_I8, 4, wd, w);
    in[2] = xb_test_const(tg, "w_scale", XB_F32, 1, sd, ws);
    in[3] = c->bias ? xb_test_const(tg, "b", XB_F32, 1, sd, bias) : -1;
    in[4] = c->residual ? xb_test_const(tg, "r", XB_F32, 4, rdims, r) : -1;
    int y = xb_test_tensor(tg, "y");
    int node = qnode(tg, "XbarQConv", in, c->residual ? 5 : c->bias ? 4 : 3, y);
    xb_test_output(tg, y);
    int64_t pads[4] = {c->pt, c->pl, c->pb, c->pr}, st[2] = {c->sh, c->sw}, dl[2] = {c->dh, c->dw};
    xb_test_attr_ints(tg, node, "pads", 4, pads);
    xb_test_attr_ints(tg, node, "strides", 2, st);
    xb_test_attr_ints(tg, node, "dilations", 2, dl);
    xb_test_attr_int(tg, node, "group", c->group);
    xb_test_attr_float(tg, node, "x_scale", c->x_scale);
    xb_test_attr_int(tg, node, "x_zero_point", c->x_zp);
    xb_test_attr_int(tg, node, "x_bits", c->x_bits);
    xb_test_attr_int(tg, node, "w_bits", c->w_bits);
    if (c->relu) xb_test_attr_int(tg, node, "relu", 1);
    if (c->y_bits) {
        xb_test_attr_float(tg, node, "y_scale", Y_SCALE);
        xb_test_attr_int(tg, node, "y_zero_point", Y_ZP);
        xb_test_attr_int(tg, node, "y_bits", c->y_bits);
    }
}

Test(xbar_qconv, hand_computed_with_padding) {
    /* x = 0.5 * [[1,2,3],[4,5,6],[7,8,9]] with x_scale 0.5, zp 3: codes are
     * 4..12, and the padded border contributes 0.  w = [[1,-1],[2,0]], one
     * output channel, w_scale 0.25, bias 1, pads 1 on top/left only:
     * out[0][0] sees only x[0][0] at kernel (1,1): w=0 -> 0.
     * out[0][1] sees x[0][0], x[0][1] at kernel (1,0),(1,1): 2*1 + 0 = 2.
     * out[1][0] sees x[0][0] at (0,1) and x[1][0] at (1,1): -1*1 + 0 = -1.
     * out[1][1]: 1*1 - 1*2 + 2*4 + 0*5 = 7.
     * y = acc * 0.5 * 0.25 + 1. */
    conv_case c = {.n = 1, .cin = 1, .h = 3, .w = 3, .cout = 1, .kh = 2, .kw = 2, .group = 1,
                   .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 0, .pr = 0,
                   .x_bits = 8, .w_bits = 8, .x_scale = 0.5f, .x_zp = 3, .bias = true};
    int8_t w[4] = {1, -1, 2, 0};
    float ws[1] = {0.25f}, b[1] = {1.0f};
    xb_test_graph tg;
    build_conv(&tg, &c, w, ws, b, NULL, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[9];
    for (int i = 0; i < 9; i++) x[i] = 0.5f * (float)(i + 1);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert_eq(ys->d[2], 3);
    cr_assert_eq(ys->d[3], 3);
    /* Row 0: acc 0, 2 (x00,x01 under w10,w11 -> 2*1+0*2), 2*2+0*3=4. */
    float want_acc[9] = {0, 2, 4, -1, 1 - 2 + 8, 2 - 3 + 10, -4, 4 - 5 + 14, 5 - 6 + 16};
    for (int i = 0; i < 9; i++) cr_assert_float_eq(y[i], want_acc[i] * 0.125f + 1.0f, 0.0f, "i=%d", i);
    const xb_node *node;
    const xb_qlayer *q = xb_qlayer_get(tg.g, 0, &node);
    cr_assert_not_null(q);
    cr_assert_eq(xb_qlayer_count(tg.g), 1);
    cr_assert_eq(q->kind, XB_QL_CONV);
    cr_assert_eq(q->K, 4);
    cr_assert_eq(q->N, 1);
    cr_assert_eq(q->P, 9);
    cr_assert_eq(q->w_rowsum[0], 2);
    cr_assert_eq(q->pad[0], 1);
    cr_assert_eq(q->pad[2], 0);
    xb_test_end(&tg);
}

static void run_random_case(const conv_case *c, uint64_t seed) {
    int64_t cin_g = c->cin / c->group, K = cin_g * c->kh * c->kw;
    int64_t nw = c->cout * K, nx = c->n * c->cin * c->h * c->w;
    int8_t *w = malloc((size_t)nw);
    float *ws = malloc((size_t)c->cout * 4), *b = malloc((size_t)c->cout * 4);
    float *x = malloc((size_t)nx * 4);
    int wmax = (1 << (c->w_bits - 1)) - 1;
    for (int64_t i = 0; i < nw; i++) w[i] = (int8_t)((int)(rng_next(&seed) % (2 * wmax + 1)) - wmax);
    for (int64_t i = 0; i < c->cout; i++) {
        ws[i] = rng_uniform(&seed, 0.001f, 0.1f);
        b[i] = rng_uniform(&seed, -1, 1);
    }
    /* Inputs range past the representable interval to exercise clamping. */
    float lo = -(float)c->x_zp * c->x_scale * 1.2f;
    float hi = ((float)((1 << c->x_bits) - 1 - c->x_zp)) * c->x_scale * 1.2f;
    for (int64_t i = 0; i < nx; i++) x[i] = rng_uniform(&seed, lo, hi);
    /* The residual, shaped like the output (computed from the geometry). */
    const int64_t ho = (c->h + c->pt + c->pb - ((c->kh - 1) * c->dh + 1)) / c->sh + 1;
    const int64_t wo = (c->w + c->pl + c->pr - ((c->kw - 1) * c->dw + 1)) / c->sw + 1;
    const int64_t rd[4] = {c->n, c->cout, ho, wo}, ny = c->n * c->cout * ho * wo;
    float *r = malloc((size_t)ny * 4);
    for (int64_t i = 0; i < ny; i++) r[i] = rng_uniform(&seed, -2, 2);
    xb_test_graph tg;
    build_conv(&tg, c, w, ws, b, r, rd);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(ys->d[2] == ho && ys->d[3] == wo && xb_shape_numel(ys) == ny);
    float *want = malloc((size_t)ny * 4);
    ref_qconv(c, x, w, ws, c->bias ? b : NULL, c->residual ? r : NULL, want, ho, wo);
    const void *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    /* The integer part is exact; only the float epilogue could differ, and
     * it is the same expression in the same order. */
    for (int64_t i = 0; i < ny; i++) {
        float got = c->y_bits ? (float)((const uint8_t *)y)[i] : ((const float *)y)[i];
        cr_assert_float_eq(got, want[i], 0.0f, "i=%lld", (long long)i);
    }
    xb_test_end(&tg);
    free(w), free(ws), free(b), free(x), free(want), free(r);
}

Test(xbar_qconv, random_cases_match_naive_reference) {
    conv_case cases[] = {
        /* plain 3x3, pad 1 */
        {1, 3, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 128, true, false, false, 0},
        /* groups, stride 2, asymmetric pads, batch 2 */
        {2, 4, 9, 7, 6, 3, 2, 2, 2, 2, 1, 1, 0, 1, 2, 0, 8, 8, 0.05f, 10, false, false, false, 0},
        /* depthwise with dilation, 4-bit activations, 3-bit weights */
        {1, 5, 10, 10, 5, 3, 3, 5, 1, 1, 2, 2, 2, 2, 2, 2, 4, 3, 0.1f, 7, true, false, false, 0},
        /* pointwise 1x1: the no-im2col path, 2-bit */
        {1, 7, 5, 6, 9, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 0.3f, 1, true, false, false, 0},
        /* many channels: K > 64 and N > 6 */
        {1, 20, 6, 6, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.01f, 0, true, false, false, 0},
        /* 4 channels per group (the channels-interleaved path), stride 2 */
        {2, 8, 9, 11, 6, 3, 3, 2, 2, 2, 1, 1, 1, 0, 2, 1, 8, 8, 0.04f, 100, true, false, false, 0},
        /* 8 channels, dilation 2, stride 3 horizontally, 6-bit codes */
        {1, 8, 10, 13, 7, 2, 3, 1, 1, 3, 2, 2, 0, 2, 1, 0, 6, 5, 0.05f, 30, false, false, false, 0},
        /* 1x1 stride-2 shortcut */
        {1, 12, 7, 7, 5, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 8, 8, 0.02f, 50, true, false, false, 0},
        /* The direct kernel (igemm.h): rows of 16 and 32 outputs, 8 x 8 maps
         * (two rows per vector), stride 2, 3 and 6 channels padded to 4 and
         * 8; some with a fused Relu. */
        {1, 16, 16, 16, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 128, true, true, false, 0},
        {2, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.03f, 120, true, false, false, 0},
        {1, 8, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 60, false, true, false, 0},
        {1, 16, 32, 32, 8, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 90, true, true, false, 0},
        {1, 6, 14, 14, 16, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 8, 0.05f, 0, true, true, false, 0},
        /* Wide direct convolution (rows of 10 / 12 outputs read as one long
         * row) and shifted-word planes for 1 or 2 channels per group:
         * LeNet-5's conv1, 3x3 (vertical quads only), 6x4 with dilation 2
         * (horizontal quads only), 7x7 with 7-bit codes, 2 groups. */
        {1, 4, 12, 12, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 20, true, true, false, 0},
        {1, 1, 28, 28, 6, 5, 5, 1, 1, 1, 1, 1, 2, 2, 2, 2, 8, 8, 0.03f, 40, true, true, false, 0},
        {1, 2, 9, 12, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.05f, 77, true, false, false, 0},
        {2, 1, 13, 17, 7, 6, 4, 1, 1, 1, 2, 1, 0, 3, 1, 0, 8, 8, 0.04f, 5, false, false, false, 0},
        {1, 1, 12, 12, 3, 7, 7, 1, 1, 1, 1, 1, 3, 3, 3, 3, 7, 8, 0.05f, 60, true, true, false, 0},
        {1, 4, 10, 10, 4, 5, 5, 2, 1, 1, 1, 1, 2, 2, 2, 2, 8, 8, 0.05f, 3, true, false, false, 0},
        /* A folded residual Add (input 4), with and without the Relu and the
         * bias, on the direct, wide and unfolded paths; then the same with
         * u8 codes written for a next layer (8 and 5 bits). */
        {1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 0, true, true, true, 0},
        {2, 8, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 60, false, true, true, 0},
        {1, 4, 12, 12, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 20, true, false, true, 0},
        {1, 5, 9, 7, 6, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 8, 8, 0.05f, 10, false, true, true, 0},
        {1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 0, true, true, true, 8},
        {1, 8, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 60, true, false, true, 5},
        {1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.02f, 0, true, true, false, 8},
    };
    /* The reference path is chosen at prepare from the instruction set
     * (qlayer_impl.h): every case on the dispatched and portable kernels. */
    for (int portable = 0; portable < 2; portable++) {
        xb_igemm_set_portable(portable);
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            run_random_case(&cases[i], 1000 + i);
    }
    xb_igemm_set_portable(false);
}

/* LeNet-5's convolutions take the in-place paths on AVX-512 VNNI: conv1 (1
 * channel, 28 x 28 outputs) shifted words, conv2 (6 channels, 10 x 10)
 * the wide channels-interleaved planes; 32 x 32 maps stay compact. */
Test(xbar_qconv, lenet_shapes_read_planes_in_place) {
    if (xb_igemm_isa_used() != XB_IGEMM_AVX512VNNI) cr_skip_test("no AVX-512 VNNI");
    const conv_case cases[] = {
        {1, 1, 28, 28, 6, 5, 5, 1, 1, 1, 1, 1, 2, 2, 2, 2, 8, 8, 0.03f, 40, true, true, false, 0},
        {1, 6, 14, 14, 16, 5, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 8, 0.05f, 0, true, true, false, 0},
        {1, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.05f, 0, true, true, false, 0},
    };
    const xb_qconv_path want[] = {XB_QC_SHIFT4, XB_QC_WIDE4, XB_QC_DIRECT4};
    for (int i = 0; i < 3; i++) {
        const conv_case *c = &cases[i];
        int64_t K = c->cin * c->kh * c->kw;
        int8_t *w = calloc((size_t)(c->cout * K), 1);
        float ws[16], b[16];
        for (int j = 0; j < 16; j++) ws[j] = 0.01f, b[j] = 0;
        xb_test_graph tg;
        build_conv(&tg, c, w, ws, b, NULL, NULL);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        const xb_node *node;
        xb_qlayer_get(tg.g, 0, &node);
        cr_assert_eq(((const xb_qlayer_priv *)node->params)->path, want[i], "case %d", i);
        xb_test_end(&tg);
        free(w);
    }
}

/* An engine that computes the product naively and records its calls, to
 * check the hook's arguments and that the op applies the same epilogue. */
typedef struct {
    int calls;
    int layers_seen[8];
    int groups_seen[8];
    int64_t K, N, P;
} fake_engine;

static xb_status fake_qmatmul(void *self, struct xb_exec *e, const xb_node *node, int layer,
                              int group, const uint8_t *x, const int8_t *w, int64_t K, int64_t N,
                              int64_t P, int32_t *acc, xb_ctx *ctx) {
    (void)e, (void)node, (void)ctx;
    fake_engine *f = self;
    if (f->calls < 8) f->layers_seen[f->calls] = layer, f->groups_seen[f->calls] = group;
    f->calls++;
    f->K = K, f->N = N, f->P = P;
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            int32_t s = 0;
            for (int64_t k = 0; k < K; k++) s += w[n * K + k] * x[k * P + p];
            acc[n * P + p] = s;
        }
    return XB_OK;
}

Test(xbar_qconv, engine_hook_gets_codes_and_matches_reference) {
    conv_case c = {1, 4, 6, 6, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 0.05f, 20, true, false, false, 0};
    uint64_t seed = 7;
    int8_t w[4 * 2 * 9];
    float ws[4], b[4], x[4 * 36];
    for (int i = 0; i < 72; i++) w[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127);
    for (int i = 0; i < 4; i++) ws[i] = 0.01f * (float)(i + 1), b[i] = (float)i;
    for (int i = 0; i < 144; i++) x[i] = rng_uniform(&seed, -1, 10);
    xb_test_graph tg;
    build_conv(&tg, &c, w, ws, b, NULL, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float ref[4 * 36];
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y);
    memcpy(ref, y, sizeof ref);
    fake_engine f = {0};
    xb_engine eng = {.self = &f, .qmatmul = fake_qmatmul};
    tg.e->engine = &eng;
    y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    cr_assert_eq(f.calls, 2); /* one per group */
    cr_assert_eq(f.groups_seen[0], 0);
    cr_assert_eq(f.groups_seen[1], 1);
    cr_assert_eq(f.layers_seen[0], 0);
    cr_assert_eq(f.K, 18);
    cr_assert_eq(f.N, 2);
    cr_assert_eq(f.P, 36);
    for (int i = 0; i < 144; i++) cr_assert_float_eq(y[i], ref[i], 0.0f);
    xb_test_end(&tg);
}

Test(xbar_qconv, rejects_bad_layers) {
    conv_case c = {1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 4, 0.5f, 3, false, false, false, 0};
    float ws[1] = {1};
    xb_test_graph tg;
    /* 4-bit weights allow -7..7 only. */
    int8_t w[4] = {1, 8, 0, 0};
    build_conv(&tg, &c, w, ws, NULL, NULL, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "symmetric") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* zero point beyond a 2-bit code range */
    c.w_bits = 8, c.x_bits = 2, c.x_zp = 4;
    w[1] = 1;
    build_conv(&tg, &c, w, ws, NULL, NULL, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "x_zero_point") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* negative scale */
    c.x_bits = 8, c.x_scale = -1.0f;
    build_conv(&tg, &c, w, ws, NULL, NULL, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "x_scale") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(xbar_qconv, layer_indices_follow_node_order) {
    /* Two convs in a chain: indices 0 and 1, found by xb_qlayer_get. */
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {1, 1, 1, 1}, sd[1] = {1};
    int8_t w[1] = {3};
    float ws[1] = {0.5f};
    int x = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int wt = xb_test_const(&tg, "w", XB_I8, 4, wd, w);
    int st = xb_test_const(&tg, "s", XB_F32, 1, sd, ws);
    int mid = xb_test_tensor(&tg, "mid"), y = xb_test_tensor(&tg, "y");
    int in1[3] = {x, wt, st}, in2[3] = {mid, wt, st};
    int n1 = qnode(&tg, "XbarQConv", in1, 3, mid);
    int n2 = qnode(&tg, "XbarQConv", in2, 3, y);
    xb_test_output(&tg, y);
    xb_test_attr_float(&tg, n1, "x_scale", 1.0f);
    xb_test_attr_float(&tg, n2, "x_scale", 1.0f);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    cr_assert_eq(xb_qlayer_count(tg.g), 2);
    const xb_node *a, *b;
    cr_assert_eq(xb_qlayer_get(tg.g, 0, &a)->layer_index, 0);
    cr_assert_eq(xb_qlayer_get(tg.g, 1, &b)->layer_index, 1);
    cr_assert_str_eq(a->out == NULL ? "" : tg.g->tensors[a->out[0]].name, "mid");
    cr_assert_null(xb_qlayer_get(tg.g, 2, NULL));
    /* x = 2 -> code 2 -> 3*2*0.5 = 3 -> code 3 -> 3*3*0.5 = 4.5 */
    float xv[16];
    for (int i = 0; i < 16; i++) xv[i] = 2.0f;
    float *yv = xb_test_run1(&tg, xv);
    cr_assert_not_null(yv);
    cr_assert_float_eq(yv[5], 4.5f, 0.0f);
    xb_test_end(&tg);
}
