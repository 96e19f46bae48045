#include <criterion/criterion.h>
#include <stdlib.h>

#include "kernels/conv_geom.h"
#include "kernels/im2col.h"
#include "tests/test_util.h"

/* A bare node carrying attributes; geometry never looks at inputs. */
static xb_node *mknode(xb_test_graph *tg) {
    xb_test_begin(tg);
    int x = xb_test_input(tg, "x", XB_F32, 1, (int64_t[]){1});
    int y = xb_test_tensor(tg, "y");
    int nd = xb_test_node(tg, "Conv", 17, &x, 1, &y, 1);
    return &tg->g->nodes[nd];
}

static xb_shape shp(int rank, const int64_t *d) {
    xb_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.d[i] = d[i];
    return s;
}

Test(conv_geom, explicit_pads_strides_dilations) {
    xb_test_graph tg;
    xb_node *n = mknode(&tg);
    xb_test_attr_ints(&tg, 0, "pads", 4, (int64_t[]){1, 2, 0, 1});
    xb_test_attr_ints(&tg, 0, "strides", 2, (int64_t[]){2, 3});
    xb_test_attr_ints(&tg, 0, "dilations", 2, (int64_t[]){2, 1});
    xb_test_attr_int(&tg, 0, "group", 2);
    n = &tg.g->nodes[0];
    xb_shape x = shp(4, (int64_t[]){1, 4, 10, 11}), w = shp(4, (int64_t[]){6, 2, 3, 2});
    xb_conv_geom cg;
    cr_assert_eq(xb_conv_geom_init(&cg, n, &x, &w, false, &tg.ctx), XB_OK, "%s", tg.ctx.msg);
    /* H: (10 + 1 + 0 - ((3-1)*2+1)) / 2 + 1 = 6/2 + 1 = 4
     * W: (11 + 2 + 1 - 2) / 3 + 1 = 12/3 + 1 = 5 */
    cr_assert_eq(cg.hout, 4);
    cr_assert_eq(cg.wout, 5);
    cr_assert_eq(cg.cin_g, 2);
    cr_assert_eq(cg.cout_g, 3);
    cr_assert_eq(cg.K, 2 * 3 * 2);
    cr_assert_eq(cg.P, 20);
    cr_assert_eq(cg.pt, 1);
    cr_assert_eq(cg.pl, 2);
    cr_assert_eq(cg.pb, 0);
    cr_assert_eq(cg.pr, 1);
    xb_shape y;
    xb_conv_geom_out_shape(&cg, &y);
    cr_assert_eq(y.rank, 4);
    cr_assert_eq(y.d[1], 6);
    cr_assert_eq(xb_conv_geom_macs(&cg), 6 * 20 * 12);
    xb_test_end(&tg);
}

Test(conv_geom, auto_pad_same_upper_lower_valid) {
    xb_shape x = shp(4, (int64_t[]){1, 1, 5, 6}), w = shp(4, (int64_t[]){1, 1, 4, 3});
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int m = 0; m < 3; m++) {
        xb_test_graph tg;
        mknode(&tg);
        xb_test_attr_str(&tg, 0, "auto_pad", modes[m]);
        xb_test_attr_ints(&tg, 0, "strides", 2, (int64_t[]){2, 1});
        xb_conv_geom cg;
        cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK, "%s",
                     tg.ctx.msg);
        if (m < 2) {
            /* H: out = ceil(5/2) = 3, total = 2*2 + 4 - 5 = 3
             * W: out = 6, total = 5 + 3 - 6 = 2 */
            cr_assert_eq(cg.hout, 3);
            cr_assert_eq(cg.wout, 6);
            cr_assert_eq(cg.pt, m == 0 ? 1 : 2);
            cr_assert_eq(cg.pb, m == 0 ? 2 : 1);
            cr_assert_eq(cg.pl, 1);
            cr_assert_eq(cg.pr, 1);
        } else {
            cr_assert_eq(cg.hout, 1); /* (5-4)/2+1 */
            cr_assert_eq(cg.wout, 4);
            cr_assert_eq(cg.pt + cg.pb + cg.pl + cg.pr, 0);
        }
        xb_test_end(&tg);
    }
}

Test(conv_geom, pool_ceil_mode_drops_window_starting_in_end_pad) {
    xb_test_graph tg;
    mknode(&tg);
    xb_test_attr_ints(&tg, 0, "kernel_shape", 2, (int64_t[]){3, 2});
    xb_test_attr_ints(&tg, 0, "strides", 2, (int64_t[]){2, 2});
    xb_test_attr_int(&tg, 0, "ceil_mode", 1);
    xb_test_attr_ints(&tg, 0, "pads", 4, (int64_t[]){0, 1, 0, 1});
    xb_shape x = shp(4, (int64_t[]){2, 3, 4, 5});
    xb_conv_geom cg;
    cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, NULL, true, &tg.ctx), XB_OK, "%s",
                 tg.ctx.msg);
    /* H: ceil((4-3)/2)+1 = 2.  W: ceil((5+2-2)/2)+1 = 4, but window 3 would
     * start at 3*2 = 6 >= 5 + 1 (inside the end pad), so 3. */
    cr_assert_eq(cg.hout, 2);
    cr_assert_eq(cg.wout, 3);
    cr_assert_eq(cg.cout, 3);
    cr_assert_eq(cg.group, 1);
    xb_test_end(&tg);
}

Test(conv_geom, one_d_is_h_equals_one) {
    xb_test_graph tg;
    mknode(&tg);
    xb_test_attr_ints(&tg, 0, "pads", 2, (int64_t[]){2, 1});
    xb_test_attr_ints(&tg, 0, "strides", 1, (int64_t[]){2});
    xb_shape x = shp(3, (int64_t[]){1, 3, 9}), w = shp(3, (int64_t[]){4, 3, 3});
    xb_conv_geom cg;
    cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK, "%s",
                 tg.ctx.msg);
    cr_assert_eq(cg.spatial, 1);
    cr_assert_eq(cg.h, 1);
    cr_assert_eq(cg.kh, 1);
    cr_assert_eq(cg.hout, 1);
    cr_assert_eq(cg.wout, 5); /* (9+3-3)/2+1 = 4+1 */
    cr_assert_eq(cg.pl, 2);
    cr_assert_eq(cg.pr, 1);
    xb_shape y;
    xb_conv_geom_out_shape(&cg, &y);
    cr_assert_eq(y.rank, 3);
    cr_assert_eq(y.d[2], 5);
    xb_test_end(&tg);
}

static void expect_fail(const char *attr, int nv, const int64_t *v, const xb_shape *x,
                        const xb_shape *w, bool pool, const char *needle) {
    xb_test_graph tg;
    mknode(&tg);
    if (attr) {
        if (nv < 0)
            xb_test_attr_int(&tg, 0, attr, v[0]);
        else
            xb_test_attr_ints(&tg, 0, attr, nv, v);
    }
    if (pool) xb_test_attr_ints(&tg, 0, "kernel_shape", 2, (int64_t[]){2, 2});
    xb_conv_geom cg;
    cr_assert_neq(xb_conv_geom_init(&cg, &tg.g->nodes[0], x, w, pool, &tg.ctx), XB_OK,
                  "expected failure: %s", needle);
    cr_assert(strstr(tg.ctx.msg, needle) != NULL, "message '%s' lacks '%s'", tg.ctx.msg, needle);
    xb_test_end(&tg);
}

Test(conv_geom, rejects_bad_attributes_and_shapes) {
    xb_shape x = shp(4, (int64_t[]){1, 4, 6, 6}), w = shp(4, (int64_t[]){8, 4, 3, 3});
    expect_fail("pads", 3, (int64_t[]){1, 1, 1}, &x, &w, false, "pads has 3 values");
    expect_fail("pads", 4, (int64_t[]){1, -1, 1, 1}, &x, &w, false, "pads[1]");
    expect_fail("strides", 2, (int64_t[]){0, 1}, &x, &w, false, "strides[0]");
    expect_fail("dilations", 2, (int64_t[]){1, 0}, &x, &w, false, "dilations[1]");
    expect_fail("group", -1, (int64_t[]){3}, &x, &w, false, "group");
    expect_fail("group", -1, (int64_t[]){2}, &x, &w, false, "input channels per group");
    expect_fail("kernel_shape", 2, (int64_t[]){3, 2}, &x, &w, false, "kernel_shape[1]");
    expect_fail("dilations", 2, (int64_t[]){4, 1}, &x, &w, false, "does not fit");
    xb_shape x5 = shp(5, (int64_t[]){1, 4, 6, 6, 6});
    expect_fail(NULL, 0, NULL, &x5, &w, false, "only 1-D and 2-D");
    xb_shape w3 = shp(3, (int64_t[]){8, 4, 3});
    expect_fail(NULL, 0, NULL, &x, &w3, false, "does not match input rank");
    xb_shape wbad = shp(4, (int64_t[]){5, 2, 3, 3});
    expect_fail("group", -1, (int64_t[]){2}, &x, &wbad, false, "output channels 5 not divisible");
    expect_fail("ceil_mode", -1, (int64_t[]){2}, &x, NULL, true, "ceil_mode");
    /* Pools need kernel_shape. */
    xb_test_graph tg;
    mknode(&tg);
    xb_conv_geom cg;
    cr_assert_neq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, NULL, true, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "kernel_shape is required"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    mknode(&tg);
    xb_test_attr_str(&tg, 0, "auto_pad", "SAME");
    cr_assert_neq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "auto_pad"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
    mknode(&tg);
    xb_test_attr_str(&tg, 0, "auto_pad", "VALID");
    xb_test_attr_ints(&tg, 0, "pads", 4, (int64_t[]){0, 1, 0, 0});
    cr_assert_neq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK);
    cr_assert(strstr(tg.ctx.msg, "cannot both be set"), "%s", tg.ctx.msg);
    xb_test_end(&tg);
}

Test(im2col, hand_computed_3x3_pad1_stride2) {
    /* x = 1..9 in a 3x3 image, 2x2 kernel, stride 2, pads 1 all around:
     * out 2x2.  Window origins (input coords): (-1,-1) (-1,1) (1,-1) (1,1). */
    xb_test_graph tg;
    mknode(&tg);
    xb_test_attr_ints(&tg, 0, "pads", 4, (int64_t[]){1, 1, 1, 1});
    xb_test_attr_ints(&tg, 0, "strides", 2, (int64_t[]){2, 2});
    xb_shape x = shp(4, (int64_t[]){1, 1, 3, 3}), w = shp(4, (int64_t[]){1, 1, 2, 2});
    xb_conv_geom cg;
    cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK);
    cr_assert_eq(cg.P, 4);
    float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, col[16];
    xb_im2col_f32(&cg, xv, col);
    float want[16] = {
        0, 0, 0, 5, /* (i,j) = (0,0) */
        0, 0, 4, 6, /* (0,1) */
        0, 2, 0, 8, /* (1,0) */
        1, 3, 7, 9, /* (1,1) */
    };
    for (int i = 0; i < 16; i++) cr_assert_eq(col[i], want[i], "col[%d] = %g", i, col[i]);
    uint8_t xu[9], cu[16];
    for (int i = 0; i < 9; i++) xu[i] = (uint8_t)(xv[i] + 100);
    xb_im2col_u8(&cg, xu, 7, cu);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(cu[i], want[i] == 0 ? 7 : (uint8_t)(want[i] + 100), "u8 col[%d]", i);
    xb_test_end(&tg);
}

Test(im2col, random_geometries_match_definition) {
    srand(1234);
    for (int iter = 0; iter < 300; iter++) {
        int64_t g = 1 + rand() % 3, cg_in = 1 + rand() % 3;
        int64_t H = 1 + rand() % 9, W = 1 + rand() % 9;
        int64_t kh = 1 + rand() % 4, kw = 1 + rand() % 4;
        int64_t s[2] = {1 + rand() % 3, 1 + rand() % 3}, d[2] = {1 + rand() % 2, 1 + rand() % 2};
        int64_t p[4] = {rand() % 3, rand() % 3, rand() % 3, rand() % 3};
        if ((kh - 1) * d[0] + 1 > H + p[0] + p[2] || (kw - 1) * d[1] + 1 > W + p[1] + p[3])
            continue;
        xb_test_graph tg;
        mknode(&tg);
        xb_test_attr_ints(&tg, 0, "pads", 4, p);
        xb_test_attr_ints(&tg, 0, "strides", 2, s);
        xb_test_attr_ints(&tg, 0, "dilations", 2, d);
        xb_test_attr_int(&tg, 0, "group", g);
        xb_shape x = shp(4, (int64_t[]){1, g * cg_in, H, W}),
                 w = shp(4, (int64_t[]){g, cg_in, kh, kw});
        xb_conv_geom cg;
        cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK, "%s",
                     tg.ctx.msg);
        float *xv = malloc(sizeof(float) * (size_t)(g * cg_in * H * W));
        for (int64_t i = 0; i < g * cg_in * H * W; i++) xv[i] = (float)(i + 1);
        float *col = malloc(sizeof(float) * xb_im2col_elems(&cg));
        float *panel = malloc(sizeof(float) * (size_t)cg.K * 40);
        for (int64_t gi = 0; gi < g; gi++) {
            const float *xg = xv + gi * cg_in * H * W;
            xb_im2col_f32(&cg, xg, col);
            /* Panels of every width up to 40 (ld 40) reproduce the matrix and
             * zero-fill their tail columns. */
            int64_t pw = 1 + iter % 40;
            for (int64_t p0 = 0; p0 < cg.P; p0 += pw) {
                int64_t np = cg.P - p0 < pw ? cg.P - p0 : pw;
                xb_im2col_panel_f32(&cg, xg, p0, np, 40, panel);
                for (int64_t k = 0; k < cg.K; k++)
                    for (int64_t q = 0; q < 40; q++)
                        cr_assert_eq(panel[k * 40 + q], q < np ? col[k * cg.P + p0 + q] : 0.0f,
                                     "iter %d panel p0=%ld k=%ld q=%ld", iter, (long)p0, (long)k,
                                     (long)q);
            }
            for (int64_t c = 0; c < cg_in; c++)
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++)
                        for (int64_t oh = 0; oh < cg.hout; oh++)
                            for (int64_t ow = 0; ow < cg.wout; ow++) {
                                int64_t ih = oh * s[0] - p[0] + i * d[0];
                                int64_t iw = ow * s[1] - p[1] + j * d[1];
                                float want = (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                                 ? xg[(c * H + ih) * W + iw]
                                                 : 0.0f;
                                int64_t k = (c * kh + i) * kw + j, pp = oh * cg.wout + ow;
                                cr_assert_eq(col[k * cg.P + pp], want, "iter %d", iter);
                            }
        }
        free(xv);
        free(col);
        free(panel);
        xb_test_end(&tg);
    }
}

Test(im2col, pointwise_detection) {
    xb_test_graph tg;
    mknode(&tg);
    xb_shape x = shp(4, (int64_t[]){1, 4, 5, 5}), w = shp(4, (int64_t[]){8, 4, 1, 1});
    xb_conv_geom cg;
    cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK);
    cr_assert(xb_conv_geom_is_pointwise(&cg));
    xb_test_end(&tg);
    mknode(&tg);
    xb_test_attr_ints(&tg, 0, "strides", 2, (int64_t[]){2, 2});
    cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK);
    cr_assert(!xb_conv_geom_is_pointwise(&cg));
    xb_test_end(&tg);
}

Test(conv_geom, rejects_absurd_sizes) {
    /* Each dimension is plausible, the product is not: a clean NOMEM, no
     * overflowing arithmetic. */
    xb_shape x = shp(4, (int64_t[]){1 << 12, 1 << 12, 1 << 12, 1 << 12});
    xb_shape w = shp(4, (int64_t[]){4, 1 << 12, 1, 1});
    expect_fail(NULL, 0, NULL, &x, &w, false, "too large");
    xb_shape x2 = shp(4, (int64_t[]){1, 1, 1 << 20, 1 << 20});
    xb_shape w2 = shp(4, (int64_t[]){1, 1, 1, 1});
    expect_fail(NULL, 0, NULL, &x2, &w2, false, "too large");
}

/* The u8 unfolding (whole planes when the output rows are as wide as the
 * input's and W divides 64, rows of up to 64 bytes at stride 1, strided rows
 * whose input span fits 64 bytes, else the generic body) against the
 * definition, with images up to 70 columns, column strides 1-3, every other
 * one of the plane kind, and a pad value that is not zero. */
Test(im2col, u8_rows_match_definition) {
    srand(4321);
    for (int iter = 0; iter < 200; iter++) {
        int64_t cin = 1 + rand() % 3, H = 1 + rand() % 6, W = 1 + rand() % 70;
        int64_t kh = 1 + rand() % 3, kw = 1 + rand() % 4;
        int64_t s[2] = {1 + rand() % 2, (rand() % 4) ? 1 : 2 + rand() % 2}, d[2] = {1, 1 + rand() % 2};
        int64_t p[4] = {rand() % 3, rand() % 3, rand() % 3, rand() % 3};
        if (iter % 2 == 0) { /* output rows as wide as the input's, W dividing 64 */
            W = (int64_t)1 << (rand() % 7);
            s[0] = s[1] = 1;
            int64_t tw = (kw - 1) * d[1];
            p[1] = rand() % (tw + 1);
            p[3] = tw - p[1];
        }
        if ((kh - 1) * d[0] + 1 > H + p[0] + p[2] || (kw - 1) * d[1] + 1 > W + p[1] + p[3])
            continue;
        xb_test_graph tg;
        mknode(&tg);
        xb_test_attr_ints(&tg, 0, "pads", 4, p);
        xb_test_attr_ints(&tg, 0, "strides", 2, s);
        xb_test_attr_ints(&tg, 0, "dilations", 2, d);
        xb_shape x = shp(4, (int64_t[]){1, cin, H, W}), w = shp(4, (int64_t[]){1, cin, kh, kw});
        xb_conv_geom cg;
        cr_assert_eq(xb_conv_geom_init(&cg, &tg.g->nodes[0], &x, &w, false, &tg.ctx), XB_OK, "%s",
                     tg.ctx.msg);
        uint8_t *xv = malloc((size_t)(cin * H * W));
        for (int64_t i = 0; i < cin * H * W; i++) xv[i] = (uint8_t)(1 + rand() % 250);
        uint8_t *col = malloc(xb_im2col_elems(&cg) + 1);
        xb_im2col_u8(&cg, xv, 255, col);
        for (int64_t c = 0; c < cin; c++)
            for (int64_t i = 0; i < kh; i++)
                for (int64_t j = 0; j < kw; j++)
                    for (int64_t oh = 0; oh < cg.hout; oh++)
                        for (int64_t ow = 0; ow < cg.wout; ow++) {
                            int64_t ih = oh * s[0] - p[0] + i * d[0];
                            int64_t iw = ow * s[1] - p[1] + j * d[1];
                            uint8_t want = (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                               ? xv[(c * H + ih) * W + iw]
                                               : 255;
                            int64_t k = (c * kh + i) * kw + j, pp = oh * cg.wout + ow;
                            cr_assert_eq(col[k * cg.P + pp], want, "iter %d k %ld p %ld", iter,
                                         (long)k, (long)pp);
                        }
        free(xv);
        free(col);
        xb_test_end(&tg);
    }
}
