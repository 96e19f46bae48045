#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/sgemm.h"
#include "tests/test_util.h"

typedef struct {
    int64_t cin, h, w, cout, group, k, stride, pad;
    bool bias;
    int res; /* 0: Conv+Relu; 1: Conv+Add(residual)+Relu; 2: Conv+Add, no Relu */
} fcase;

static uint64_t rs;
static float frand(void) {
    rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

/* Conv [+ Add of input "r"] [+ Relu] as separate nodes (fused false) or
 * as one XbarConv (fused true), on fixed weights and inputs; returns a copy
 * of the output. */
static float *run(const fcase *c, bool fused, const float *wv, const float *bv, const float *xv,
                  const float *rv, size_t *n) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, c->cin, c->h, c->w}, wd[] = {c->cout, c->cin / c->group, c->k, c->k};
    int64_t bd[] = {c->cout};
    int64_t ho = (c->h + 2 * c->pad - c->k) / c->stride + 1;
    int64_t wo = (c->w + 2 * c->pad - c->k) / c->stride + 1, rd[] = {1, c->cout, ho, wo};
    int in[4] = {-1, -1, -1, -1};
    in[0] = xb_test_input(&tg, "x", XB_F32, 4, xd);
    int r = c->res ? xb_test_input(&tg, "r", XB_F32, 4, rd) : -1;
    in[1] = xb_test_const(&tg, "w", XB_F32, 4, wd, wv);
    if (c->bias) in[2] = xb_test_const(&tg, "b", XB_F32, 1, bd, bv);
    int y = xb_test_tensor(&tg, "y"), node;
    int nin = c->res ? 4 : c->bias ? 3 : 2;
    in[3] = r;
    if (fused) {
        node = xb_graph_add_node(tg.g, "cv", "XbarConv", "xbar", 1, in, nin, &y, 1, &tg.ctx);
        xb_test_attr_str(&tg, node, "activation", c->res == 2 ? "" : "Relu");
    } else {
        int t = xb_test_tensor(&tg, "t"), s = xb_test_tensor(&tg, "s");
        node = xb_test_node(&tg, "Conv", 11, in, c->bias ? 3 : 2, &t, 1);
        int add_in[2] = {r, t}; /* residual first: Add is commutative bit for bit */
        if (c->res) xb_test_node(&tg, "Add", 14, add_in, 2, c->res == 2 ? &y : &s, 1);
        if (c->res != 2) xb_test_node(&tg, "Relu", 13, c->res ? &s : &t, 1, &y, 1);
    }
    int64_t st[] = {c->stride, c->stride}, pads[] = {c->pad, c->pad, c->pad, c->pad};
    xb_test_attr_ints(&tg, node, "strides", 2, st);
    xb_test_attr_ints(&tg, node, "pads", 4, pads);
    xb_test_attr_int(&tg, node, "group", c->group);
    xb_test_output(&tg, y);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const void *ins[2] = {xv, rv};
    const float *out = xb_test_run(&tg, ins, 0);
    cr_assert_not_null(out, "%s", tg.ctx.msg);
    *n = (size_t)xb_shape_numel(&tg.g->tensors[y].shape);
    float *copy = malloc(*n * sizeof(float));
    memcpy(copy, out, *n * sizeof(float));
    xb_test_end(&tg);
    return copy;
}

/* Every Conv path (EDGE, COLS, SHIFT exact, POINTWISE, DEPTHWISE; GEMM
 * is taken only with a dilation, which these cases do not have) gives the
 * same bits fused as Conv followed by Relu, by Add of a residual then
 * Relu, or by the Add alone.  The path notes below are for the portable
 * tile; with the AVX-512 tile every stride-1 case whose output is as wide
 * as its input takes EDGE, so the cases run once with each tile. */
Test(xbar_conv, fused_equals_separate_nodes_on_every_path) {
    rs = 5;
    fcase cases[] = {
        {1, 28, 28, 6, 1, 5, 1, 2, true, 0},    /* COLS, 28-wide rows */
        {16, 8, 8, 64, 1, 3, 1, 1, true, 0},    /* COLS, 8-wide rows */
        {16, 32, 32, 16, 1, 3, 1, 1, false, 0}, /* SHIFT exact, rows in place */
        {4, 8, 8, 8, 1, 7, 1, 0, true, 0},      /* COLS (wide kernel, narrow map) */
        {16, 16, 16, 32, 1, 3, 2, 1, true, 1},  /* COLS, stride 2, residual */
        {16, 16, 16, 32, 1, 1, 2, 0, false, 0}, /* COLS, strided 1 x 1 (a shortcut) */
        {8, 6, 6, 12, 1, 1, 1, 0, true, 0},     /* POINTWISE */
        {6, 9, 9, 6, 6, 3, 2, 1, true, 0},      /* DEPTHWISE */
        {1, 28, 28, 6, 1, 5, 1, 2, true, 1},    /* the same with a residual Add */
        {16, 8, 8, 64, 1, 3, 1, 1, false, 1},
        {16, 32, 32, 16, 1, 3, 1, 1, true, 1},
        {32, 16, 16, 32, 1, 3, 1, 1, true, 2},  /* SHIFT exact, two half-rows; no Relu */
        {4, 8, 8, 8, 1, 7, 1, 0, true, 1},
        {8, 6, 6, 12, 1, 1, 1, 0, false, 2},
        {6, 9, 9, 6, 6, 3, 2, 1, true, 1},
    };
    for (size_t t = 0; t < 2 * (sizeof cases / sizeof cases[0]); t++) {
        size_t i = t / 2;
        const fcase *c = &cases[i];
        bool old = xb_sgemm_set_avx512(t % 2 == 0);
        size_t nw = (size_t)(c->cout * (c->cin / c->group) * c->k * c->k);
        size_t nx = (size_t)(c->cin * c->h * c->w);
        float *wv = malloc(nw * sizeof(float)), *xv = malloc(nx * sizeof(float));
        float *bv = malloc((size_t)c->cout * sizeof(float));
        size_t nr = (size_t)(c->cout * c->h * c->w); /* >= the output size */
        float *rv = malloc(nr * sizeof(float));
        for (size_t j = 0; j < nr; j++) rv[j] = frand();
        for (size_t j = 0; j < nw; j++) wv[j] = frand();
        for (size_t j = 0; j < nx; j++) xv[j] = frand();
        for (int64_t j = 0; j < c->cout; j++) bv[j] = frand() * 0.5f;
        size_t n1, n2;
        float *a = run(c, false, wv, bv, xv, rv, &n1), *b = run(c, true, wv, bv, xv, rv, &n2);
        cr_assert_eq(n1, n2);
        size_t zeros = 0;
        for (size_t j = 0; j < n1; j++) zeros += a[j] == 0.0f;
        if (c->res != 2) cr_assert(zeros > 0 && zeros < n1, "case %zu: Relu must clip some", i);
        cr_assert(memcmp(a, b, n1 * sizeof(float)) == 0, "case %zu: fused output differs", i);
        free(a), free(b), free(wv), free(xv), free(bv), free(rv);
        xb_sgemm_set_avx512(old);
    }
}

Test(xbar_conv, rejects_other_activations) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int64_t xd[] = {1, 1, 4, 4}, wd[] = {1, 1, 1, 1};
    float w = 1.0f;
    int in[2] = {xb_test_input(&tg, "x", XB_F32, 4, xd),
                 xb_test_const(&tg, "w", XB_F32, 4, wd, &w)};
    int y = xb_test_tensor(&tg, "y");
    int node = xb_graph_add_node(tg.g, "cv", "XbarConv", "xbar", 1, in, 2, &y, 1, &tg.ctx);
    xb_test_attr_str(&tg, node, "activation", "Sigmoid");
    xb_test_output(&tg, y);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "Sigmoid") != NULL, "%s", tg.ctx.msg);
    xb_test_end(&tg);
}
