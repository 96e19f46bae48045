#include <criterion/criterion.h>
#include <stdlib.h>

#include "kernels/igemm.h"
#include "kernels/im2col.h"
#include "kernels/im2col_packed.h"

static xb_conv_geom geom(int64_t cin, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh,
                         int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t pb,
                         int64_t pr) {
    xb_conv_geom g = {0};
    g.spatial = 2, g.n = 1, g.cin = cin, g.h = h, g.w = w, g.cout = 1, g.group = 1;
    g.cin_g = cin, g.cout_g = 1, g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw, g.dh = dh, g.dw = dw;
    g.pt = pt, g.pl = pl, g.pb = pb, g.pr = pr;
    g.hout = (h + pt + pb - ((kh - 1) * dh + 1)) / sh + 1;
    g.wout = (w + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
    g.K = cin * kh * kw;
    g.P = g.hout * g.wout;
    return g;
}

Test(im2col_packed, matches_im2col_then_pack) {
    xb_conv_geom cases[] = {
        geom(3, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   /* K = 27, P = 64 */
        geom(2, 7, 9, 3, 2, 2, 1, 1, 1, 0, 1, 2, 0),   /* strides, asymmetric pads */
        geom(5, 10, 6, 3, 3, 1, 2, 2, 2, 2, 2, 2, 2),  /* dilation, horizontal stride */
        geom(1, 5, 5, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2),   /* kernel as wide as the input */
        geom(4, 4, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),   /* pointwise */
        geom(2, 3, 3, 3, 3, 1, 1, 1, 1, 4, 4, 4, 4),   /* more padding than input */
        geom(1, 6, 22, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),  /* K = 9: partial quad, rows of 20 */
        geom(1, 3, 1100, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1), /* rows longer than the zero row */
        geom(3, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),  /* stride 2: two column phases */
        geom(2, 9, 14, 2, 3, 1, 3, 1, 2, 0, 2, 1, 0),  /* stride 3 with dilation 2 */
    };
    uint64_t seed = 1;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const xb_conv_geom *g = &cases[c];
        int64_t nx = g->cin * g->h * g->w;
        uint8_t *x = malloc((size_t)nx), *col = malloc(xb_im2col_elems(g) + 1);
        size_t xb = xb_igemm_xpack_bytes(g->K, g->P);
        uint8_t *want = malloc(xb), *got = malloc(xb);
        for (int64_t i = 0; i < nx; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            x[i] = (uint8_t)(seed >> 56);
        }
        memset(got, 0xCD, xb);
        xb_im2col_u8(g, x, 77, col);
        xb_igemm_pack_x(col, g->K, g->P, want);
        uint8_t *xpad = malloc((size_t)(g->cin * xb_plane_bytes(g)));
        xb_pad_planes_u8(g, g->cin, x, 0, 77, xpad);
        xb_im2col_u8_packed(g, xpad, got);
        free(xpad);
        for (size_t i = 0; i < xb; i++)
            cr_assert_eq(got[i], want[i], "case %zu byte %zu: %d vs %d", c, i, got[i], want[i]);
        free(x), free(col), free(want), free(got);
    }
}

Test(im2col_packed, channels_interleaved_matches_reordered_im2col) {
    /* Row k' of the packed4 matrix of group g is row c*kh*kw + i*kw + j of
     * that group's plain im2col matrix when c < Cin/group; rows of padding
     * channels repeat the group's last channel. */
    xb_conv_geom cases[] = {
        geom(4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        geom(8, 9, 11, 3, 3, 2, 2, 1, 1, 1, 0, 2, 1),  /* stride 2, asymmetric pads */
        geom(4, 10, 13, 2, 3, 1, 3, 2, 2, 0, 2, 1, 0), /* stride 3, dilation 2 */
        geom(12, 5, 5, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0),  /* 1x1 stride 2 (a shortcut) */
        geom(3, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   /* 3 channels, padded to 4 */
        geom(6, 14, 14, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0), /* 6 channels, padded to 8 */
        geom(12, 6, 6, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1),  /* 2 groups of 6 (set below) */
    };
    cases[6].group = 2, cases[6].cin_g = 6, cases[6].K = 6 * 9;
    uint64_t seed = 3;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const xb_conv_geom *g = &cases[c];
        int64_t nx = g->cin * g->h * g->w, Pp = xb_igemm_ppad(g->P);
        int64_t K4 = xb_c4_channels(g) * g->kh * g->kw;
        uint8_t *x = malloc((size_t)nx), *col = malloc(xb_im2col_elems(g));
        uint8_t *planes = malloc((size_t)xb_c4_planes_bytes(g));
        uint8_t *got = malloc(xb_igemm_xpack_bytes(K4, g->P));
        for (int64_t i = 0; i < nx; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            x[i] = (uint8_t)(seed >> 56);
        }
        xb_pad_planes4_u8(g, x, 91, planes);
        for (int64_t gi = 0; gi < g->group; gi++) {
            xb_im2col_u8(g, x + gi * g->cin_g * g->h * g->w, 91, col);
            xb_im2col_u8_packed4(g, planes, gi, got);
            for (int64_t k = 0; k < K4; k++) {
                int64_t ch, src = xb_c4_weight_index(g, k, &ch);
                if (ch >= g->cin_g) src += (g->cin_g - 1 - ch) * g->kh * g->kw;
                for (int64_t p = 0; p < Pp; p++) {
                    uint8_t want = p < g->P ? col[src * g->P + p] : 0;
                    cr_assert_eq(got[xb_igemm_xpack_index(k, p, Pp)], want,
                                 "case %zu group %lld k'=%lld p=%lld", c, (long long)gi,
                                 (long long)k, (long long)p);
                }
            }
        }
        free(x), free(col), free(planes), free(got);
    }
}

/* xb_igemm_direct reading the channel-interleaved planes in place gives the
 * sums of xb_igemm_packed over xb_im2col_u8_packed4's matrix, bit for bit,
 * on the dispatched instruction set and on the portable kernels; shapes
 * cover the fast row widths (16k, 8 with HO even) and the fallbacks. */
Test(im2col_packed, direct_matches_unfolded_product) {
    xb_conv_geom cases[] = {
        geom(16, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), /* ResNet-20 stage 1 */
        geom(8, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),  /* WO 16 */
        geom(12, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),   /* WO 8, HO 8 */
        geom(4, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),    /* WO 8, HO 7: fallback */
        geom(4, 10, 13, 2, 3, 1, 1, 2, 2, 0, 2, 1, 0),  /* dilation 2, WO 13 */
        geom(8, 17, 16, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1),  /* vertical stride 2 */
        geom(8, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),  /* 1x1 */
        geom(16, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1), /* stride 2: WO 16 */
        geom(32, 16, 16, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0), /* 1x1 stride 2 shortcut: WO 8 */
        geom(4, 20, 23, 3, 3, 1, 3, 1, 2, 1, 2, 0, 1),  /* stride 3, dilation 2 */
        geom(8, 12, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),  /* 2 groups of 4 (set below) */
    };
    cases[10].group = 2, cases[10].cin_g = 4, cases[10].K = 4 * 9;
    const int64_t Ns[] = {1, 6, 8, 20, 23};
    uint64_t seed = 17;
    for (int portable = 0; portable < 2; portable++) {
        xb_igemm_set_portable(portable);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
            for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                const xb_conv_geom *g = &cases[c];
                const int64_t N = Ns[ni], K4 = xb_c4_channels(g) * g->kh * g->kw, P = g->P;
                int64_t nx = g->cin * g->h * g->w;
                uint8_t *x = malloc((size_t)nx), *xp = malloc(xb_igemm_xpack_bytes(K4, P));
                /* Shapes outside the fast widths run wide: reads reach
                 * xb_igemm_direct_extent past each offset. */
                uint8_t *planes = calloc(1, (size_t)(xb_c4_planes_bytes(g) +
                                                     xb_igemm_direct_extent(g->hout, g->wout,
                                                                            xb_c4_row_bytes(g))));
                int8_t *w = malloc((size_t)(N * K4));
                int64_t *xoff = malloc((size_t)(K4 / 4) * sizeof(int64_t));
                int32_t *want = malloc((size_t)(N * P) * 4), *got = malloc((size_t)(N * P) * 4);
                for (int64_t i = 0; i < nx; i++) {
                    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                    x[i] = (uint8_t)(seed >> 56);
                }
                for (int64_t i = 0; i < N * K4; i++) {
                    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                    w[i] = (int8_t)(seed >> 56);
                }
                xb_pad_planes4_u8(g, x, 77, planes);
                xb_c4_direct_offsets(g, xoff);
                for (int64_t gi = 0; gi < g->group; gi++) {
                    xb_im2col_u8_packed4(g, planes, gi, xp);
                    xb_igemm_packed(w, xp, K4, N, P, want);
                    xb_igemm_direct(w, planes + gi * xb_c4_group_bytes(g), xoff, K4 / 4, N, g->hout,
                                    g->wout, xb_c4_row_bytes(g), got);
                    for (int64_t i = 0; i < N * P; i++)
                        cr_assert_eq(got[i], want[i], "portable %d case %zu N %lld group %lld i %lld",
                                     portable, c, (long long)N, (long long)gi, (long long)i);
                }
                free(x), free(xp), free(planes), free(w), free(xoff), free(want), free(got);
            }
    }
    xb_igemm_set_portable(false);
}
