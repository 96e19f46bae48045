/* MaxPool, AveragePool and GlobalAveragePool. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/maxpool.h"
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
    const char *op;
    int opset;
    int64_t n, c, h, w, kh, kw, s[2], d[2], p[4];
    bool ceil, cip;
} pool_case;

static int pool_node(xb_test_graph *tg, const pool_case *pc, xb_dtype dt) {
    xb_test_begin(tg);
    int x = xb_test_input(tg, "x", dt, 4, (int64_t[]){pc->n, pc->c, pc->h, pc->w});
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, pc->op, pc->opset, &x, 1, &y, 1);
    xb_test_output(tg, y);
    xb_test_attr_ints(tg, nd, "kernel_shape", 2, (int64_t[]){pc->kh, pc->kw});
    xb_test_attr_ints(tg, nd, "strides", 2, pc->s);
    xb_test_attr_ints(tg, nd, "pads", 4, pc->p);
    if (pc->d[0] != 1 || pc->d[1] != 1) xb_test_attr_ints(tg, nd, "dilations", 2, pc->d);
    if (pc->ceil) xb_test_attr_int(tg, nd, "ceil_mode", 1);
    if (pc->cip) xb_test_attr_int(tg, nd, "count_include_pad", 1);
    return nd;
}

/* Output size per the ONNX pooling spec, independent of conv_geom.c. */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                        bool ceil) {
    int64_t ek = (k - 1) * d + 1;
    double v = (double)(in + pb + pe - ek) / (double)s;
    int64_t o = (int64_t)(ceil ? ceilf((float)v) : floorf((float)v)) + 1;
    if (ceil && (o - 1) * s >= in + pb) o--;
    return o;
}

static void check_pool(const pool_case *pc, int id) {
    bool is_max = strcmp(pc->op, "MaxPool") == 0;
    int64_t ho = pool_out(pc->h, pc->kh, pc->s[0], pc->d[0], pc->p[0], pc->p[2], pc->ceil);
    int64_t wo = pool_out(pc->w, pc->kw, pc->s[1], pc->d[1], pc->p[1], pc->p[3], pc->ceil);
    int64_t xn = pc->n * pc->c * pc->h * pc->w;
    float *x = malloc(sizeof(float) * (size_t)xn);
    for (int64_t i = 0; i < xn; i++) x[i] = frand();
    xb_test_graph tg;
    pool_node(&tg, pc, XB_F32);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "case %d: %s", id, tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(ys->d[2] == ho && ys->d[3] == wo, "case %d: out %ldx%ld, want %ldx%ld", id,
              (long)ys->d[2], (long)ys->d[3], (long)ho, (long)wo);
    const float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    for (int64_t pl = 0; pl < pc->n * pc->c; pl++)
        for (int64_t oh = 0; oh < ho; oh++)
            for (int64_t ow = 0; ow < wo; ow++) {
                double s = 0, mx = -FLT_MAX; /* no taps: lowest float, like ORT */
                int64_t inside = 0, padded = 0;
                for (int64_t i = 0; i < pc->kh; i++)
                    for (int64_t j = 0; j < pc->kw; j++) {
                        int64_t ih = oh * pc->s[0] - pc->p[0] + i * pc->d[0];
                        int64_t iw = ow * pc->s[1] - pc->p[1] + j * pc->d[1];
                        if (ih >= -pc->p[0] && ih < pc->h + pc->p[2] && iw >= -pc->p[1] &&
                            iw < pc->w + pc->p[3])
                            padded++;
                        if (ih < 0 || ih >= pc->h || iw < 0 || iw >= pc->w) continue;
                        double v = x[(pl * pc->h + ih) * pc->w + iw];
                        s += v, inside++;
                        if (v > mx) mx = v;
                    }
                double want = is_max ? mx : s / (double)(pc->cip ? padded : inside);
                float got = o[(pl * ho + oh) * wo + ow];
                cr_assert(fabs(got - want) <= 1e-6 * (1 + fabs(want)),
                          "case %d: y[%ld][%ld][%ld] = %.8g want %.8g", id, (long)pl, (long)oh,
                          (long)ow, got, want);
            }
    xb_test_end(&tg);
    free(x);
}

Test(maxpool, hand_computed_ceil_mode) {
    /* ONNX's maxpool_2d_ceil / averagepool_2d_ceil: 4x4 = 1..16, 3x3
     * kernel, stride 2, ceil_mode -> 2x2. */
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    pool_case pc = {"MaxPool", 12, 1, 1, 4, 4, 3, 3, {2, 2}, {1, 1}, {0, 0, 0, 0}, true, false};
    xb_test_graph tg;
    pool_node(&tg, &pc, XB_F32);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    float wmax[4] = {11, 12, 15, 16};
    for (int i = 0; i < 4; i++) cr_assert_eq(o[i], wmax[i], "max y[%d] = %g", i, o[i]);
    xb_test_end(&tg);
    pc.op = "AveragePool";
    pc.opset = 11;
    pool_node(&tg, &pc, XB_F32);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    float wavg[4] = {6, 7.5f, 12, 13.5f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(o[i], wavg[i], 1e-6, "avg y[%d] = %g", i, o[i]);
    xb_test_end(&tg);
}

Test(maxpool, integer_types) {
    pool_case pc = {"MaxPool", 12, 1, 1, 2, 4, 2, 2, {2, 2}, {1, 1}, {0, 0, 0, 0}, false, false};
    xb_test_graph tg;
    pool_node(&tg, &pc, XB_I8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    int8_t xi[8] = {-128, -100, 5, -3, -127, -90, 7, 100};
    int8_t *o = xb_test_run1(&tg, xi);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    cr_assert(o[0] == -90 && o[1] == 100, "%d %d", o[0], o[1]);
    xb_test_end(&tg);
    pool_node(&tg, &pc, XB_U8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    uint8_t xu[8] = {0, 200, 5, 3, 1, 90, 255, 100};
    uint8_t *ou = xb_test_run1(&tg, xu);
    cr_assert_not_null(ou, "%s", tg.ctx.msg);
    cr_assert(ou[0] == 200 && ou[1] == 255);
    xb_test_end(&tg);
}

Test(averagepool, hand_computed_count_include_pad) {
    /* 3x3 = 1..9, kernel 3, pads 1, stride 1: corner window holds 1,2,4,5
     * (sum 12) -> 3 without, 12/9 with count_include_pad; centre = 45/9. */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int cip = 0; cip < 2; cip++) {
        pool_case pc = {"AveragePool", 7, 1, 1, 3, 3, 3, 3, {1, 1}, {1, 1}, {1, 1, 1, 1}, false,
                        cip};
        xb_test_graph tg;
        pool_node(&tg, &pc, XB_F32);
        cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
        float *o = xb_test_run1(&tg, x);
        cr_assert_not_null(o, "%s", tg.ctx.msg);
        cr_assert_float_eq(o[0], cip ? 12.0f / 9 : 3.0f, 1e-6, "%g", o[0]);
        cr_assert_float_eq(o[4], 5.0f, 1e-6);
        cr_assert_float_eq(o[1], cip ? 21.0f / 9 : 3.5f, 1e-6, "%g", o[1]); /* 1+2+3+4+5+6 */
        xb_test_end(&tg);
    }
}

Test(pool, randomized_against_reference) {
    rs = 77;
    for (int it = 0; it < 300; it++) {
        pool_case pc;
        memset(&pc, 0, sizeof pc);
        bool is_max = irand(2);
        pc.op = is_max ? "MaxPool" : "AveragePool";
        pc.opset = is_max ? 10 + (int)irand(3) : 10 + (int)irand(2);
        pc.n = 1 + irand(2), pc.c = 1 + irand(3);
        pc.h = 1 + irand(9), pc.w = 1 + irand(9);
        pc.kh = 1 + irand(4), pc.kw = 1 + irand(4);
        for (int a = 0; a < 2; a++) {
            pc.s[a] = 1 + irand(3);
            pc.d[a] = is_max ? 1 + irand(2) : 1;
        }
        /* Pads smaller than the kernel, as the spec requires. */
        pc.p[0] = irand(pc.kh), pc.p[2] = irand(pc.kh);
        pc.p[1] = irand(pc.kw), pc.p[3] = irand(pc.kw);
        pc.ceil = irand(2);
        pc.cip = !is_max && irand(2);
        if ((pc.kh - 1) * pc.d[0] + 1 > pc.h + pc.p[0] + pc.p[2] ||
            (pc.kw - 1) * pc.d[1] + 1 > pc.w + pc.p[1] + pc.p[3])
            continue;
        check_pool(&pc, it);
    }
}

Test(pool, rejects_unsupported) {
    pool_case pc = {"AveragePool", 11,     1,         1,     4,     4, 2,
                    2,             {1, 1}, {2, 2}, {0, 0, 0, 0}, false, false};
    xb_test_graph tg;
    pool_node(&tg, &pc, XB_F32);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "dilations"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

/* Indices (second output): flat positions in the whole input, per the ONNX
 * MaxPool spec, against a naive reference over random geometries. */
static void check_indices(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s,
                          int64_t d, int64_t pad, int so, int id) {
    xb_test_graph tg;
    xb_test_begin(&tg);
    int x = xb_test_input(&tg, "x", XB_F32, 4, (int64_t[]){n, c, h, w});
    int y[2] = {xb_test_tensor(&tg, "y"), xb_test_tensor(&tg, "idx")};
    int nd = xb_test_node(&tg, "MaxPool", 12, &x, 1, y, 2);
    xb_test_output(&tg, y[0]);
    xb_test_output(&tg, y[1]);
    xb_test_attr_ints(&tg, nd, "kernel_shape", 2, (int64_t[]){k, k});
    xb_test_attr_ints(&tg, nd, "strides", 2, (int64_t[]){s, s});
    xb_test_attr_ints(&tg, nd, "dilations", 2, (int64_t[]){d, d});
    xb_test_attr_ints(&tg, nd, "pads", 4, (int64_t[]){pad, pad, pad, pad});
    xb_test_attr_int(&tg, nd, "storage_order", so);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "case %d: %s", id, tg.ctx.msg);
    cr_assert_eq(tg.g->tensors[y[1]].dtype, XB_I64);
    int64_t xn = n * c * h * w;
    float *xv = malloc(sizeof(float) * (size_t)xn);
    /* Few distinct values, so ties (first maximum wins) happen. */
    for (int64_t i = 0; i < xn; i++) xv[i] = (float)irand(5);
    const void *in[1] = {xv};
    float *yv = xb_test_run(&tg, in, 0);
    cr_assert_not_null(yv, "%s", tg.ctx.msg);
    const int64_t *iv = tg.e->buf[y[1]];
    int64_t ho = (h + 2 * pad - (k - 1) * d - 1) / s + 1,
            wo = (w + 2 * pad - (k - 1) * d - 1) / s + 1;
    for (int64_t pl = 0; pl < n * c; pl++)
        for (int64_t oh = 0; oh < ho; oh++)
            for (int64_t ow = 0; ow < wo; ow++) {
                float m = -FLT_MAX;
                int64_t best = -1;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++) {
                        int64_t hh = oh * s - pad + i * d, ww = ow * s - pad + j * d;
                        if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                        float v = xv[(pl * h + hh) * w + ww];
                        if (best < 0 || v > m)
                            m = v, best = pl * h * w + (so ? ww * h + hh : hh * w + ww);
                    }
                int64_t o = (pl * ho + oh) * wo + ow;
                cr_assert_eq(yv[o], m, "case %d at %lld", id, (long long)o);
                cr_assert_eq(iv[o], best, "case %d at %lld: %lld vs %lld", id, (long long)o,
                             (long long)iv[o], (long long)best);
            }
    free(xv);
    xb_test_end(&tg);
}

Test(maxpool, indices_output) {
    /* Hand-computed: 2x2 stride 2 over a 4x4 plane, second image. */
    xb_test_graph tg;
    xb_test_begin(&tg);
    int x = xb_test_input(&tg, "x", XB_F32, 4, (int64_t[]){2, 1, 2, 4});
    int y[2] = {xb_test_tensor(&tg, "y"), xb_test_tensor(&tg, "idx")};
    int nd = xb_test_node(&tg, "MaxPool", 12, &x, 1, y, 2);
    xb_test_output(&tg, y[1]);
    xb_test_attr_ints(&tg, nd, "kernel_shape", 2, (int64_t[]){2, 2});
    xb_test_attr_ints(&tg, nd, "strides", 2, (int64_t[]){2, 2});
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float xv[16] = {1, 2, 3, 9, 4, 0, 0, 0, /* image 1 */ 0, 0, 7, 0, 5, 0, 0, 0};
    int64_t *iv = xb_test_run1(&tg, xv);
    cr_assert_not_null(iv, "%s", tg.ctx.msg);
    int64_t want[4] = {4, 3, 12, 10};
    for (int i = 0; i < 4; i++) cr_assert_eq(iv[i], want[i], "%d: %lld", i, (long long)iv[i]);
    xb_test_end(&tg);
    rs = 7;
    int id = 0;
    for (int so = 0; so < 2; so++) {
        check_indices(2, 3, 7, 6, 3, 2, 1, 1, so, id++);
        check_indices(1, 2, 9, 8, 2, 1, 2, 0, so, id++);
        check_indices(1, 1, 5, 5, 2, 2, 3, 2, so, id++); /* windows wholly in padding */
    }
}

Test(globalaveragepool, means_per_plane) {
    xb_test_graph tg;
    int64_t d[4] = {2, 3, 2, 5};
    xb_test_unary_begin(&tg, "GlobalAveragePool", 13, XB_F32, 4, d);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const xb_shape *ys = &tg.g->tensors[tg.g->outputs[0]].shape;
    cr_assert(ys->rank == 4 && ys->d[0] == 2 && ys->d[1] == 3 && ys->d[2] == 1 && ys->d[3] == 1);
    float x[60];
    for (int i = 0; i < 60; i++) x[i] = (float)i;
    float *o = xb_test_run1(&tg, x);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    /* plane p holds 10p .. 10p+9: mean 10p + 4.5 */
    for (int p = 0; p < 6; p++) cr_assert_float_eq(o[p], 10.0f * p + 4.5f, 1e-6, "%g", o[p]);
    xb_test_end(&tg);
    /* 11 planes: a block of eight summed together, then three alone; each
     * must equal its plane summed in index order in double, bit for bit. */
    int64_t d3[4] = {1, 11, 3, 7};
    xb_test_unary_begin(&tg, "GlobalAveragePool", 13, XB_F32, 4, d3);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    float x3[231];
    for (int i = 0; i < 231; i++) x3[i] = (float)((i * 37) % 101) * 0.013f - 0.6f;
    o = xb_test_run1(&tg, x3);
    cr_assert_not_null(o, "%s", tg.ctx.msg);
    for (int p = 0; p < 11; p++) {
        double sum = 0.0;
        for (int i = 0; i < 21; i++) sum += x3[p * 21 + i];
        float want = (float)(sum / 21.0);
        cr_assert(memcmp(&o[p], &want, sizeof want) == 0, "plane %d: %a vs %a", p, o[p], want);
    }
    xb_test_end(&tg);
    int64_t d2[2] = {2, 3};
    xb_test_unary_begin(&tg, "GlobalAveragePool", 13, XB_F32, 2, d2);
    cr_assert_neq(xb_test_prepare(&tg), XB_OK);
    xb_test_end(&tg);
}

Test(maxpool, two_by_two_stride_two_variants) {
    /* The vectorised 2x2/2 interior path, with odd sizes, pads and ceil. */
    rs = 3;
    int id = 1000;
    for (int64_t h = 2; h <= 7; h++)
        for (int64_t w = 2; w <= 9; w++)
            for (int pad = 0; pad < 2; pad++)
                for (int ceil = 0; ceil < 2; ceil++) {
                    pool_case pc = {"MaxPool", 12,   1, 2, h, w, 2, 2, {2, 2}, {1, 1},
                                    {pad, 0, 0, pad}, ceil, false};
                    check_pool(&pc, id++);
                }
}

/* The u8 2x2/2 pool of n x c planes h x w (top pad `pad`) against a naive
 * max; returns whether the node took the 64-byte VBMI path. */
static bool check_u8_pool2(int64_t n, int64_t c, int64_t h, int64_t w, int pad) {
    pool_case pc = {"MaxPool", 12, n, c, h, w, 2, 2, {2, 2}, {1, 1}, {pad, 0, 0, 0}, false, false};
    const int64_t ho = (h + pad - 2) / 2 + 1, wo = (w - 2) / 2 + 1, np = n * c, xn = np * h * w;
    uint8_t *x = malloc((size_t)xn);
    for (int64_t i = 0; i < xn; i++) x[i] = (uint8_t)irand(256);
    xb_test_graph tg;
    int nd = pool_node(&tg, &pc, XB_U8);
    cr_assert_eq(xb_test_prepare(&tg), XB_OK, "%s", tg.ctx.msg);
    const bool vbmi = xb_maxpool_u8_vbmi(&tg.g->nodes[nd]);
    const uint8_t *y = xb_test_run1(&tg, x);
    cr_assert_not_null(y, "%s", tg.ctx.msg);
    for (int64_t pl = 0; pl < np; pl++)
        for (int64_t oy = 0; oy < ho; oy++)
            for (int64_t ox = 0; ox < wo; ox++) {
                int m = 0;
                for (int64_t i = 0; i < 2; i++)
                    for (int64_t j = 0; j < 2; j++) {
                        int64_t iy = 2 * oy - pad + i, ix = 2 * ox + j;
                        if (iy < 0 || iy >= h) continue;
                        int v = x[(pl * h + iy) * w + ix];
                        m = v > m ? v : m;
                    }
                cr_assert_eq(y[(pl * ho + oy) * wo + ox], m, "n %lld c %lld h %lld w %lld pad %d",
                             (long long)n, (long long)c, (long long)h, (long long)w, pad);
            }
    xb_test_end(&tg);
    free(x);
    return vbmi;
}

/* u8 codes (what quantized layers pass on, frontend/chain_qcodes.c): the
 * 2x2/2 pool with every window inside takes 16-byte vectors in chunks of
 * 8 or 4 outputs, the last overlapping (or, with AVX-512 VBMI and inputs
 * exactly twice the output, 64-byte vectors); any width, odd sizes (the
 * last row or column dropped), batch and channels, against a naive max. */
Test(maxpool, u8_two_by_two_against_naive) {
    rs = 5;
    for (int64_t h = 2; h <= 11; h += 3)
        for (int64_t w = 2; w <= 41; w++)
            for (int pad = 0; pad < 2; pad++) check_u8_pool2(2, 3, h, w, pad);
}

/* Inputs exactly twice the output (the stream of row pairs, maxpool.c):
 * blocks of 1 to 12 row pairs, a last block cut short, row pairs running
 * on across planes and images; on a CPU with AVX-512 VBMI the 64-byte
 * path must be the one that ran, up to 32 outputs a row. */
Test(maxpool, u8_two_by_two_vbmi_stream) {
#if defined(__x86_64__) && defined(__GNUC__)
    const bool cpu = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
#else
    const bool cpu = false;
#endif
    rs = 7;
    for (int64_t w = 8; w <= 68; w += 2)
        for (int64_t h = 2; h <= 10; h += 4) {
            const bool vbmi = check_u8_pool2(w % 4 ? 2 : 1, w % 3 + 5, h, w, 0);
            cr_assert_eq(vbmi, cpu && w <= 64, "w %lld: vbmi %d", (long long)w, vbmi);
        }
    /* neither pads nor odd sizes take it */
    cr_assert(!check_u8_pool2(1, 2, 9, 28, 0));
    cr_assert(!check_u8_pool2(1, 2, 8, 29, 0));
    cr_assert(!check_u8_pool2(1, 2, 8, 28, 1));
}
