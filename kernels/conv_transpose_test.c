#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "tests/test_util.h"

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

typedef struct {
    int sp;                        /* 1 or 2 spatial axes */
    int64_t n, cin, cout_g, group, h, w, kh, kw;
    int64_t s[2], d[2], p[4], op[2]; /* strides, dilations, pads (t, l, b, r), output_padding */
    bool bias;
    const char *auto_pad;          /* NULL: explicit pads */
    int64_t oshape[2];             /* output_shape when [0] > 0 */
} ct_case;

static int node(xb_test_graph *tg, const ct_case *c, const float *w, const float *b) {
    xb_test_begin(tg);
    int64_t xd[4] = {c->n, c->cin, c->h, c->w}, wd[4] = {c->cin, c->cout_g, c->kh, c->kw};
    if (c->sp == 1) xd[2] = c->w, wd[2] = c->kw;
    int in[3] = {xb_test_input(tg, "x", XB_F32, c->sp + 2, xd),
                 xb_test_const(tg, "w", XB_F32, c->sp + 2, wd, w), -1};
    if (c->bias) in[2] = xb_test_const(tg, "b", XB_F32, 1, (int64_t[]){c->cout_g * c->group}, b);
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "ConvTranspose", 11, in, c->bias ? 3 : 2, &y, 1);
    int o = 2 - c->sp;
    xb_test_attr_ints(tg, nd, "strides", c->sp, c->s + o);
    xb_test_attr_ints(tg, nd, "dilations", c->sp, c->d + o);
    xb_test_attr_int(tg, nd, "group", c->group);
    xb_test_attr_ints(tg, nd, "output_padding", c->sp, c->op + o);
    if (c->auto_pad) xb_test_attr_str(tg, nd, "auto_pad", c->auto_pad);
    if (c->oshape[0] > 0) xb_test_attr_ints(tg, nd, "output_shape", c->sp, c->oshape + o);
    if (!c->auto_pad && c->oshape[0] <= 0) {
        int64_t pads[4] = {c->p[0], c->p[1], c->p[2], c->p[3]};
        if (c->sp == 1) pads[0] = c->p[1], pads[1] = c->p[3];
        xb_test_attr_ints(tg, nd, "pads", 2 * c->sp, pads);
    }
    xb_test_output(tg, y);
    return y;
}

/* Output size and begin pad of one axis, straight from the ONNX spec. */
static void axis_ref(const ct_case *c, int a, int64_t in, int64_t k, int64_t *out, int64_t *pb) {
    int64_t full = c->s[a] * (in - 1) + c->op[a] + (k - 1) * c->d[a] + 1;
    bool same = c->auto_pad && strncmp(c->auto_pad, "SAME", 4) == 0;
    if (c->oshape[0] > 0 || same) {
        *out = c->oshape[0] > 0 ? c->oshape[a] : in * c->s[a];
        int64_t t = full - *out, half = (int64_t)floor((double)t / 2);
        *pb = same && strcmp(c->auto_pad, "SAME_UPPER") == 0 ? half : t - half;
    } else {
        *out = full - c->p[a] - c->p[a + 2];
        *pb = c->p[a];
    }
}

static void check(const ct_case *c, int id) {
    int64_t G = c->group, cin_g = c->cin / G, cout = c->cout_g * G;
    int64_t wn = c->cin * c->cout_g * c->kh * c->kw, xn = c->n * c->cin * c->h * c->w;
    float *w = malloc(sizeof(float) * (size_t)wn), *x = malloc(sizeof(float) * (size_t)xn);
    float b[64];
    for (int64_t i = 0; i < wn; i++) w[i] = frand();
    for (int64_t i = 0; i < xn; i++) x[i] = frand();
    for (int i = 0; i < 64; i++) b[i] = frand();
    xb_test_graph tg;
    int yt = node(&tg, c, w, b);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "case %d: %s", id, tg.ctx.msg);
    int64_t ho, wo, pt, pl;
    axis_ref(c, 0, c->h, c->kh, &ho, &pt);
    axis_ref(c, 1, c->w, c->kw, &wo, &pl);
    const xb_shape *ys = &tg.g->tensors[yt].shape;
    cr_assert_eq(ys->d[ys->rank - 1], wo, "case %d: width %lld vs %lld", id,
                 (long long)ys->d[ys->rank - 1], (long long)wo);
    if (c->sp == 2) cr_assert_eq(ys->d[2], ho, "case %d: height", id);
    float *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    int64_t yn = c->n * cout * ho * wo;
    double *ref = calloc((size_t)yn, sizeof(double)), *mag = calloc((size_t)yn, sizeof(double));
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ci = 0; ci < c->cin; ci++)
            for (int64_t ih = 0; ih < c->h; ih++)
                for (int64_t iw = 0; iw < c->w; iw++)
                    for (int64_t co = 0; co < c->cout_g; co++)
                        for (int64_t i = 0; i < c->kh; i++)
                            for (int64_t j = 0; j < c->kw; j++) {
                                int64_t oh = ih * c->s[0] - pt + i * c->d[0];
                                int64_t ow = iw * c->s[1] - pl + j * c->d[1];
                                if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
                                int64_t oc = (ci / cin_g) * c->cout_g + co;
                                double v = (double)x[((n * c->cin + ci) * c->h + ih) * c->w + iw] *
                                           w[((ci * c->cout_g + co) * c->kh + i) * c->kw + j];
                                int64_t yi = ((n * cout + oc) * ho + oh) * wo + ow;
                                ref[yi] += v;
                                mag[yi] += fabs(v);
                            }
    for (int64_t i = 0; i < yn; i++) {
        double want = ref[i] + (c->bias ? b[(i / (ho * wo)) % cout] : 0.0);
        cr_assert(fabs(y[i] - want) <= 1e-5 * (mag[i] + 1.0), "case %d [%lld]: %g vs %g", id,
                  (long long)i, y[i], want);
    }
    free(ref), free(mag), free(w), free(x);
    xb_test_end(&tg);
}

Test(conv_transpose, against_naive_reference) {
    rs = 5;
    const ct_case cases[] = {
        {2, 1, 1, 2, 1, 3, 3, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, NULL, {0, 0}},
        {2, 2, 4, 3, 2, 5, 4, 3, 2, {2, 3}, {1, 1}, {1, 0, 0, 1}, {1, 2}, true, NULL, {0, 0}},
        {2, 1, 6, 1, 6, 4, 4, 3, 3, {2, 2}, {1, 1}, {1, 1, 1, 1}, {1, 1}, true, NULL, {0, 0}},
        {2, 1, 3, 2, 1, 4, 5, 3, 2, {1, 2}, {2, 2}, {2, 1, 0, 3}, {1, 0}, true, NULL, {0, 0}},
        {1, 2, 2, 3, 1, 1, 7, 1, 4, {1, 3}, {1, 1}, {0, 1, 0, 2}, {0, 2}, true, NULL, {0, 0}},
        {2, 1, 2, 2, 1, 3, 3, 3, 3, {3, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, NULL, {10, 8}},
        {2, 1, 2, 2, 1, 3, 3, 3, 3, {3, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, true, NULL, {8, 6}},
        {2, 1, 1, 2, 1, 3, 3, 3, 3, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, "SAME_UPPER", {0}},
        {2, 1, 1, 2, 1, 3, 3, 3, 3, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, "SAME_LOWER", {0}},
        {2, 1, 2, 2, 2, 6, 5, 2, 2, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, "VALID", {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check(&cases[i], (int)i);
}

Test(conv_transpose, errors) {
    xb_test_graph tg;
    float w[64] = {0};
    /* output_padding must stay below the stride (or dilation). */
    ct_case c = {2, 1, 1, 1, 1, 3, 3, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 0}, false, NULL, {0}};
    node(&tg, &c, w, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "output_padding"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* group must divide the input channels. */
    ct_case g = {2, 1, 3, 1, 2, 3, 3, 1, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, NULL, {0}};
    node(&tg, &g, w, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    xb_test_end(&tg);
    /* 3-D is not implemented. */
    xb_test_begin(&tg);
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 5, (int64_t[]){1, 1, 2, 2, 2}),
                 xb_test_const(&tg, "w", XB_F32, 5, (int64_t[]){1, 1, 2, 2, 2}, w)};
    int y = xb_test_tensor(&tg, "y");
    xb_test_node(&tg, "ConvTranspose", 11, in, 2, &y, 1);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    xb_test_end(&tg);
    /* ...also with its 3-value kernel_shape, which was read into a 2-value
     * buffer before the rank check (fuzz_onnx_struct, session 6; ASan
     * stack-buffer-overflow). */
    xb_test_begin(&tg);
    int in3[2] = {xb_test_input(&tg, "x", XB_F32, 5, (int64_t[]){1, 1, 2, 2, 2}),
                  xb_test_const(&tg, "w", XB_F32, 5, (int64_t[]){1, 1, 2, 2, 2}, w)};
    int y3 = xb_test_tensor(&tg, "y");
    int nd = xb_test_node(&tg, "ConvTranspose", 11, in3, 2, &y3, 1);
    xb_test_attr_ints(&tg, nd, "kernel_shape", 3, (int64_t[]){2, 2, 2});
    xb_test_output(&tg, y3);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_UNSUPPORTED);
    cr_assert(strstr(tg.ctx.msg, "rank 3 or 4"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    /* output_shape of INT64_MIN: refused before the padding arithmetic
     * (fuzz_onnx_struct, session 6; UBSan signed overflow) */
    ct_case os = {2, 1, 1, 1, 1, 3, 3, 3, 3, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0, 0}, false, NULL,
                  {5, INT64_MIN}};
    node(&tg, &os, w, NULL);
    cr_assert_eq(xb_test_prepare(&tg), XB_ERR_INVALID);
    cr_assert(strstr(tg.ctx.msg, "output_shape[1]"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
