#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/conv.h"
#include "kernels/sgemm.h"
#include "tests/test_util.h"

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}
static int64_t irand(int64_t n) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((rs >> 33) % (uint64_t)n);
}

typedef struct {
    int64_t n, cin, h, w, cout, group, kh, kw;
    int64_t s[2], d[2], p[4]; /* p: top, left, bottom, right */
    const char *auto_pad;     /* NULL = explicit pads */
    bool bias, w_const, one_d;
} conv_case;

/* Output size and begin pad per the ONNX Conv spec, written out here
 * independently of kernels/conv_geom.c. */
static int64_t out_dim(const conv_case *c, int a, int64_t in, int64_t k, int64_t *pb) {
    int64_t ek = (k - 1) * c->d[a] + 1;
    if (c->auto_pad && strncmp(c->auto_pad, "SAME", 4) == 0) {
        int64_t o = (in + c->s[a] - 1) / c->s[a];
        int64_t tot = (o - 1) * c->s[a] + ek - in;
        if (tot < 0) tot = 0;
        *pb = strcmp(c->auto_pad, "SAME_UPPER") == 0 ? tot / 2 : (tot + 1) / 2;
        return o;
    }
    if (c->auto_pad) { /* VALID */
        *pb = 0;
        return (in - ek) / c->s[a] + 1;
    }
    *pb = c->p[a];
    return (in + c->p[a] + c->p[a + 2] - ek) / c->s[a] + 1;
}

/* When set, run_case leaves a copy of its output here (caller frees). */
static float *g_keep;
static size_t g_keep_n;
/* When set, run_case runs the prepared conv with the portable tile
 * (whatever path prepare chose with the CPU's). */
static bool g_run_portable;

static void run_case(const conv_case *c, int id) {
    int64_t ho, wo, pt, pl;
    ho = out_dim(c, 0, c->h, c->kh, &pt);
    wo = out_dim(c, 1, c->w, c->kw, &pl);
    int64_t cin_g = c->cin / c->group, cout_g = c->cout / c->group;
    int64_t xn = c->n * c->cin * c->h * c->w, wn = c->cout * cin_g * c->kh * c->kw;
    float *x = malloc(sizeof(float) * (size_t)xn), *w = malloc(sizeof(float) * (size_t)wn);
    float *b = malloc(sizeof(float) * (size_t)c->cout);
    for (int64_t i = 0; i < xn; i++) x[i] = frand();
    for (int64_t i = 0; i < wn; i++) w[i] = frand();
    for (int64_t i = 0; i < c->cout; i++) b[i] = frand();

    xb_test_graph tg;
    xb_test_begin(&tg);
    int r = c->one_d ? 3 : 4;
    int64_t xd[4] = {c->n, c->cin, c->h, c->w}, wd[4] = {c->cout, cin_g, c->kh, c->kw};
    if (c->one_d) xd[2] = c->w, wd[2] = c->kw;
    int in[3];
    in[0] = xb_test_input(&tg, "x", XB_F32, r, xd);
    in[1] = c->w_const ? xb_test_const(&tg, "w", XB_F32, r, wd, w)
                       : xb_test_input(&tg, "w", XB_F32, r, wd);
    if (c->bias) in[2] = xb_test_const(&tg, "b", XB_F32, 1, (int64_t[]){c->cout}, b);
    int y = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "Conv", 11, in, c->bias ? 3 : 2, &y, 1);
    xb_test_output(&tg, y);
    if (c->auto_pad)
        xb_test_attr_str(&tg, nd, "auto_pad", c->auto_pad);
    else if (c->one_d)
        xb_test_attr_ints(&tg, nd, "pads", 2, (int64_t[]){c->p[1], c->p[3]});
    else
        xb_test_attr_ints(&tg, nd, "pads", 4, c->p);
    if (c->one_d) {
        xb_test_attr_ints(&tg, nd, "strides", 1, &c->s[1]);
        xb_test_attr_ints(&tg, nd, "dilations", 1, &c->d[1]);
        xb_test_attr_ints(&tg, nd, "kernel_shape", 1, &c->kw);
    } else {
        xb_test_attr_ints(&tg, nd, "strides", 2, c->s);
        xb_test_attr_ints(&tg, nd, "dilations", 2, c->d);
        xb_test_attr_ints(&tg, nd, "kernel_shape", 2, (int64_t[]){c->kh, c->kw});
    }
    xb_test_attr_int(&tg, nd, "group", c->group);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "case %d: %s", id, tg.ctx.msg);
    const xb_tensor *yt = &tg.g->tensors[tg.g->outputs[0]];
    cr_assert_eq(yt->shape.rank, r);
    cr_assert_eq(yt->shape.d[1], c->cout);
    cr_assert_eq(yt->shape.d[r - 1], wo, "case %d: wout %ld want %ld", id, (long)yt->shape.d[r - 1],
                 (long)wo);
    if (!c->one_d) cr_assert_eq(yt->shape.d[2], ho, "case %d", id);
    const void *ins[2] = {x, w};
    bool old_tile = g_run_portable ? xb_sgemm_set_avx512(false) : false;
    const float *out = xb_test_run(&tg, ins, 0);
    if (g_run_portable) xb_sgemm_set_avx512(old_tile);
    cr_assert_not_null(out, "case %d: %s", id, tg.ctx.msg);
    if (g_keep_n) {
        size_t n = (size_t)(c->n * c->cout * ho * wo);
        cr_assert_eq(n, g_keep_n, "case %d", id);
        g_keep = malloc(n * sizeof(float));
        memcpy(g_keep, out, n * sizeof(float));
    }
    for (int64_t ni = 0; ni < c->n; ni++)
        for (int64_t oc = 0; oc < c->cout; oc++)
            for (int64_t oh = 0; oh < ho; oh++)
                for (int64_t ow = 0; ow < wo; ow++) {
                    int64_t gi = oc / cout_g;
                    double s = c->bias ? b[oc] : 0.0, mag = fabs(s);
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t i = 0; i < c->kh; i++)
                            for (int64_t j = 0; j < c->kw; j++) {
                                int64_t ih = oh * c->s[0] - pt + i * c->d[0];
                                int64_t iw = ow * c->s[1] - pl + j * c->d[1];
                                if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w) continue;
                                double t = (double)x[((ni * c->cin + gi * cin_g + ci) * c->h + ih) *
                                                         c->w + iw] *
                                           w[((oc * cin_g + ci) * c->kh + i) * c->kw + j];
                                s += t;
                                mag += fabs(t);
                            }
                    float got = out[((ni * c->cout + oc) * ho + oh) * wo + ow];
                    cr_assert(fabs(got - s) <= 1e-5 * mag + 1e-7,
                              "case %d: y[%ld][%ld][%ld][%ld] = %.8g, want %.8g", id, (long)ni,
                              (long)oc, (long)oh, (long)ow, got, s);
                }
    xb_test_end(&tg);
    free(x), free(w), free(b);
}

Test(conv, hand_computed_2x2_kernel_with_bias_and_pad) {
    /* x = [[1,2],[3,4]], w = [[1,0],[0,-1]], bias 0.5, pads 0,0,1,1:
     * y[0][0] = 1*1 - 4 + .5 = -2.5, y[0][1] = 2 - 0 + .5 = 2.5,
     * y[1][0] = 3 + .5 = 3.5, y[1][1] = 4 + .5 = 4.5 */
    xb_test_graph tg;
    xb_test_begin(&tg);
    float wv[4] = {1, 0, 0, -1}, bv[1] = {0.5f};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 4, (int64_t[]){1, 1, 2, 2}),
                 xb_test_const(&tg, "w", XB_F32, 4, (int64_t[]){1, 1, 2, 2}, wv),
                 xb_test_const(&tg, "b", XB_F32, 1, (int64_t[]){1}, bv)};
    int y = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "Conv", 7, in, 3, &y, 1);
    xb_test_output(&tg, y);
    xb_test_attr_ints(&tg, nd, "pads", 4, (int64_t[]){0, 0, 1, 1});
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x[4] = {1, 2, 3, 4};
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    float want[4] = {-2.5f, 2.5f, 3.5f, 4.5f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(o[i], want[i], 1e-6, "y[%d] = %g", i, o[i]);
    xb_test_end(&tg);
}

Test(conv, model_shapes) {
    rs = 11;
    /* LeNet-5 and ResNet-20 layers. */
    conv_case cases[] = {
        {1, 1, 28, 28, 6, 1, 5, 5, {1, 1}, {1, 1}, {2, 2, 2, 2}, NULL, true, true, false},
        {1, 6, 14, 14, 16, 1, 5, 5, {1, 1}, {1, 1}, {0, 0, 0, 0}, NULL, true, true, false},
        {1, 3, 32, 32, 16, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 16, 32, 32, 16, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 16, 32, 32, 32, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 16, 32, 32, 32, 1, 1, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, NULL, false, true, false},
        {1, 64, 8, 8, 64, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {2, 32, 5, 7, 24, 1, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, NULL, true, true, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], (int)i);
}

/* Panels of the paths that read rows in place (kernels/conv.c): SHIFT
 * inside one output row (wout 32) and two half-rows read with a gap (wout
 * 16, stride 1); COLS for every other width (40, 8, 24, 10, 20, 16 with
 * stride 2, a panel crossing rows of 12, a strided 1 x 1), with and without bias,
 * several images. */
Test(conv, exact_shift_panels) {
    rs = 31;
    conv_case cases[] = {
        {2, 8, 16, 16, 32, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 8, 32, 32, 48, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, false, true, false},
        {1, 4, 24, 24, 40, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {2, 4, 10, 40, 64, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, false, false},
        {1, 4, 20, 20, 48, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, false, true, false},
        {1, 16, 12, 12, 64, 1, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}, NULL, true, true, false},
        {1, 2, 12, 34, 16, 1, 3, 3, {1, 1}, {1, 1}, {1, 0, 1, 0}, NULL, true, true, false},
        {1, 16, 16, 16, 32, 1, 1, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, NULL, true, true, false},
    };
    /* Both tile kernels: the AVX-512 one (when the CPU has it) and the
     * portable one, which reads the same in-place rows in 2*VL chunks. */
    for (int portable = 0; portable < 2; portable++) {
        bool old = xb_sgemm_set_avx512(!portable);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], (int)i);
        xb_sgemm_set_avx512(old);
    }
}

Test(conv, randomized_geometries) {
    rs = 2024;
    const char *aps[] = {NULL, NULL, NULL, "SAME_UPPER", "SAME_LOWER", "VALID"};
    int ran = 0, dw = 0;
    for (int it = 0; it < 150; it++) {
        conv_case c;
        memset(&c, 0, sizeof c);
        c.n = 1 + irand(2);
        c.group = 1 + irand(3);
        if (irand(5) == 0) c.group = 4; /* depthwise below */
        c.cin = c.group * (1 + irand(3));
        c.cout = c.group * (1 + irand(3));
        if (irand(4) == 0) c.cin = c.group; /* one input channel per group */
        c.one_d = irand(6) == 0;
        c.h = c.one_d ? 1 : 1 + irand(11);
        c.w = 1 + irand(13);
        c.kh = c.one_d ? 1 : 1 + irand(4);
        c.kw = 1 + irand(4);
        for (int a = 0; a < 2; a++) {
            c.s[a] = 1 + irand(3);
            c.d[a] = 1 + irand(2);
        }
        for (int a = 0; a < 4; a++) c.p[a] = irand(3);
        if (c.one_d) c.s[0] = c.d[0] = 1, c.p[0] = c.p[2] = 0;
        c.auto_pad = aps[irand(6)];
        c.bias = irand(2);
        c.w_const = irand(4) != 0;
        /* Skip geometries where the window does not fit. */
        int64_t ekh = (c.kh - 1) * c.d[0] + 1, ekw = (c.kw - 1) * c.d[1] + 1;
        int64_t ph = c.auto_pad ? 0 : c.p[0] + c.p[2], pw = c.auto_pad ? 0 : c.p[1] + c.p[3];
        if (c.auto_pad && strncmp(c.auto_pad, "SAME", 4) == 0) ph = pw = 1 << 20;
        if (ekh > c.h + ph || ekw > c.w + pw) continue;
        run_case(&c, it);
        ran++;
        dw += c.cin == c.group && c.group > 1;
    }
    /* Guard against a generator that silently skips most cases. */
    cr_assert(ran >= 100 && dw >= 10, "only %d cases (%d depthwise) ran", ran, dw);
}

Test(conv, rejects_bad_bias_and_dtype) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    float wv[8] = {0}, bv[3] = {0};
    int in[3] = {xb_test_input(&tg, "x", XB_F32, 4, (int64_t[]){1, 2, 3, 3}),
                 xb_test_const(&tg, "w", XB_F32, 4, (int64_t[]){2, 2, 1, 2}, wv),
                 xb_test_const(&tg, "b", XB_F32, 1, (int64_t[]){3}, bv)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Conv", 11, in, 3, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "bias shape [3], expected [2]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);

    xb_test_begin(&tg);
    in[0] = xb_test_input(&tg, "x", XB_I32, 4, (int64_t[]){1, 2, 3, 3});
    in[1] = xb_test_const(&tg, "w", XB_F32, 4, (int64_t[]){2, 2, 1, 2}, wv);
    y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "Conv", 11, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "float only"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* EDGE (kernels/conv.c: outputs as wide as a stride phase of the input,
 * the unpadded input or phases read under lane masks) is chosen when the AVX-512 tile
 * runs; with the portable tile the same convs take SHIFT or COLS, which
 * read a padded copy.  Both sum the same terms in the same order, so with
 * FMA in the build (Release, -march=native) the outputs are the same bits.
 * Cases: ResNet-20's three widths (32: a row per panel, 16: two rows, 8:
 * four), LeNet-5's 5 x 5 with pad 2 on 28 x 28 (panels starting mid-row),
 * asymmetric pads that keep the width (pl 2, pr 0) with extra rows (pt 2,
 * pb 3), 64-wide rows (two panels a row), width 1, a 1-D conv, groups,
 * weights computed at run time, odd widths (33: 33 mask sets; 65 on 40
 * rows: more than EDGE keeps, so it falls back), ragged last panels, and
 * strided convs, which read stride phases built without padding. */
Test(conv, edge_masked_equals_padded_paths) {
    conv_case cases[] = {
        {1, 16, 32, 32, 16, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {2, 32, 16, 16, 32, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 64, 8, 8, 64, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, false, true, false},
        {1, 3, 28, 28, 6, 1, 5, 5, {1, 1}, {1, 1}, {2, 2, 2, 2}, NULL, true, true, false},
        {1, 5, 9, 13, 11, 1, 3, 3, {1, 1}, {1, 1}, {2, 2, 3, 0}, NULL, true, true, false},
        {1, 4, 5, 64, 9, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, false, false},
        {1, 6, 7, 1, 8, 1, 3, 1, {1, 1}, {1, 1}, {1, 0, 1, 0}, NULL, true, true, false},
        {2, 4, 1, 50, 7, 1, 1, 5, {1, 1}, {1, 1}, {0, 2, 0, 2}, NULL, true, true, true},
        {1, 8, 10, 10, 12, 2, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, "SAME_UPPER", true, true, false},
        {1, 2, 12, 33, 3, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 2, 40, 65, 3, 1, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 3, 7, 6, 17, 1, 2, 2, {1, 1}, {1, 1}, {0, 0, 1, 1}, NULL, false, true, false},
        /* strided: phases built unpadded (ResNet-20's 3 x 3 stride 2 and
         * 1 x 1 shortcut, odd heights, stride 3, mixed strides, pads on
         * one side, a ragged last panel) */
        {1, 16, 32, 32, 32, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {2, 32, 16, 16, 64, 1, 1, 1, {2, 2}, {1, 1}, {0, 0, 0, 0}, NULL, false, true, false},
        {1, 5, 9, 10, 7, 1, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, true, true, false},
        {1, 4, 11, 12, 9, 1, 3, 3, {3, 3}, {1, 1}, {0, 0, 2, 0}, NULL, true, false, false},
        {1, 6, 13, 20, 10, 2, 3, 3, {2, 1}, {1, 1}, {2, 1, 0, 1}, NULL, true, true, false},
        {1, 3, 10, 14, 5, 1, 4, 4, {2, 2}, {1, 1}, {2, 2, 1, 0}, NULL, true, true, false},
    };
    rs = 77;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const conv_case *c = &cases[i];
        int64_t pb, ho = out_dim(c, 0, c->h, c->kh, &pb), wo = out_dim(c, 1, c->w, c->kw, &pb);
        g_keep_n = (size_t)(c->n * c->cout * ho * wo);
        uint64_t seed = rs;
        float *outs[3];
        for (int run = 0; run < 3; run++) {
            rs = seed; /* the same inputs for every run */
            bool old = xb_sgemm_set_avx512(run != 1);
            g_run_portable = run == 2;
            run_case(c, (int)i);
            g_run_portable = false;
            xb_sgemm_set_avx512(old);
            outs[run] = g_keep;
        }
        /* Run 2: EDGE as prepared on this CPU, run by the scalar portable
         * masked tile, which reads lane by lane (so ASan sees every read
         * of the unpadded input) and rounds like the portable tile: the
         * same bits as the padded path in any build. */
        cr_assert(memcmp(outs[2], outs[1], g_keep_n * sizeof(float)) == 0,
                  "case %zu: EDGE (portable masked tile) differs from the padded path", i);
#if defined(__FMA__) || !XB_SGEMM_AVX512_TILE
        cr_assert(memcmp(outs[0], outs[1], g_keep_n * sizeof(float)) == 0,
                  "case %zu: EDGE differs from the padded path", i);
#endif
        free(outs[0]), free(outs[1]), free(outs[2]);
        g_keep_n = 0;
    }
}

/* Planning EDGE is bounded at load (tests/fuzz/README.md, findings 14
 * and 16: fuzzed 1-D convs, 2^20 taps over 2^20 positions and 2^20 input
 * channels, planned for 30 s and 14 s before any work cap could refuse
 * them): the models' shapes and a large 7 x 7 conv fit, those do not (the
 * other paths serve them). */
Test(conv, edge_plan_is_bounded) {
    struct { int64_t cin, kh, kw, P; bool fits; } c[] = {
        {64, 3, 3, 8 * 8, true},  /* ResNet-20 stage 3 */
        {3, 5, 5, 28 * 28, true}, /* LeNet-5 */
        {512, 7, 7, 512 * 512, true},
        {2, 1, (int64_t)1 << 20, (int64_t)1 << 20, false},
        {1, 3, 3, (int64_t)1 << 24, false},
        /* finding 16: 2^20 input channels, 64 taps, 64 outputs */
        {(int64_t)1 << 20, 1, 64, 64, false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        xb_conv_geom g;
        memset(&g, 0, sizeof g);
        g.kh = c[i].kh, g.kw = c[i].kw, g.P = c[i].P, g.K = c[i].cin * c[i].kh * c[i].kw;
        cr_assert_eq(xb_conv_edge_plan_fits(&g), c[i].fits, "case %zu", i);
    }
}
