/* XbarQConv (domain xbar): the integer convolution layer of qlayer.h.
 *
 * Per image: quantize the float input to codes once, then per group unfold
 * the codes (padding with the zero point's code, real value 0), multiply by
 * the int8 weights through the engine or igemm, and dequantize with the
 * zero-point correction folded into the epilogue:
 *     sum_k w (xq - zp) = sum_k w xq - zp * rowsum(w).
 * Without an engine, layers on the channels-interleaved planes whose output
 * rows suit the direct kernel (igemm.h, xb_igemm_direct_fast) skip the
 * unfolding: the kernel reads the planes in place.  With attribute relu = 1
 * (frontend/fuse_qrelu.c) the epilogue also applies the Relu. */
#include <stdlib.h>

#include "kernels/igemm.h"
#include "kernels/im2col.h"
#include "kernels/im2col_packed.h"
#include "kernels/qlayer_impl.h"
#include "kernels/qmath.h"

xb_status xb_op_xbar_qconv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->n_in < 3 || n->n_in > 4 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0 ||
        n->in[2] < 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "XbarQConv takes inputs x, w, w_scale[, bias] and 1 output");
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1);
    if (x->dtype != XB_F32)
        return xb_fail(ctx, XB_ERR_INVALID, "input x is %s, expected f32", xb_dtype_name(x->dtype));
    if (!w->is_const || w->dtype != XB_I8)
        return xb_fail(ctx, XB_ERR_INVALID, "weight '%s' must be a constant i8 tensor", w->name);
    xb_qlayer_priv *pr = xb_calloc(ctx, 1, sizeof *pr);
    if (!pr) return ctx->status;
    n->params = pr;
    n->params_free = xb_qlayer_priv_free;
    xb_conv_geom *cg = &pr->cg;
    XB_TRY(xb_conv_geom_init(cg, n, &x->shape, &w->shape, false, ctx));
    xb_qlayer *q = &pr->q;
    q->kind = XB_QL_CONV;
    q->K = cg->K;
    q->N = cg->cout_g;
    q->groups = (int)cg->group;
    q->P = cg->P;
    q->w = w->data;
    q->cin = cg->cin, q->h = cg->h, q->w_in = cg->w, q->cout = cg->cout;
    q->hout = cg->hout, q->wout = cg->wout, q->kh = cg->kh, q->kw = cg->kw;
    q->stride[0] = cg->sh, q->stride[1] = cg->sw, q->dil[0] = cg->dh, q->dil[1] = cg->dw;
    q->pad[0] = cg->pt, q->pad[1] = cg->pl, q->pad[2] = cg->pb, q->pad[3] = cg->pr;
    XB_TRY(xb_qlayer_prepare_common(g, n, pr, ctx));
    if (xb_c4_useful(cg) && xb_c4_channels(cg) * cg->kh * cg->kw <= XB_IGEMM_KMAX) {
        /* Channels-interleaved reference path: weights in its k order. */
        const int64_t rows = (int64_t)q->groups * q->N, K4 = xb_c4_channels(cg) * cg->kh * cg->kw;
        pr->K4 = K4;
        pr->wpack4 = xb_malloc(ctx, (size_t)(rows * K4) + 1);
        if (!pr->wpack4) return ctx->status;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t k = 0; k < K4; k++) {
                int64_t c, at = xb_c4_weight_index(cg, k, &c);
                pr->wpack4[r * K4 + k] = c < cg->cin_g ? q->w[r * q->K + at] : 0;
            }
        /* Where the kernel can read the planes in place, the unfolded
         * matrix (9 copies of every input byte for a 3x3 kernel) is never
         * built. */
        if (xb_igemm_direct_fast(cg->hout, cg->wout)) {
            pr->xoff = xb_malloc(ctx, (size_t)(K4 / 4) * sizeof(int64_t) + 1);
            if (!pr->xoff) return ctx->status;
            xb_c4_direct_offsets(cg, pr->xoff);
        }
    }

    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    xb_conv_geom_out_shape(cg, &y->shape);

    /* Scratch: int32 acc [N][P] | codes of one image | im2col [K][P] for
     * an engine, or the padded code planes for the reference path (never
     * both, so they share) | packed x. */
    size_t acc = (size_t)(q->N * q->P) * sizeof(int32_t);
    size_t codes = (size_t)(cg->cin * cg->h * cg->w);
    size_t col = xb_conv_geom_is_pointwise(cg) ? 0 : (size_t)(q->K * q->P);
    size_t padded = (size_t)(pr->wpack4 ? xb_c4_planes_bytes(cg) : cg->cin * xb_plane_bytes(cg));
    size_t shared = col > padded ? col : padded;
    size_t xp = xb_igemm_xpack_bytes(pr->wpack4 ? pr->K4 : q->K, q->P);
    pr->off_acc = 0;
    pr->off_codes = (acc + 63) & ~(size_t)63;
    pr->off_col = (pr->off_codes + codes + 63) & ~(size_t)63;
    pr->off_xp = (pr->off_col + shared + 63) & ~(size_t)63;
    pr->scratch = pr->off_xp + xp;
    if (pr->scratch > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "scratch of %zu bytes is too large", pr->scratch);
    n->scratch_bytes = pr->scratch;
    return XB_OK;
}

xb_status xb_op_xbar_qconv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g;
    const xb_qlayer_priv *pr = n->params;
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    const float *x = XB_IN_F32(e, n, 0);
    float *y = XB_OUT_F32(e, n, 0);
    uint8_t *s = e->scratch;
    int32_t *acc = (int32_t *)(s + pr->off_acc);
    uint8_t *codes = s + pr->off_codes, *col = s + pr->off_col, *xp = s + pr->off_xp;
    const int64_t img_in = cg->cin * cg->h * cg->w, K = q->K, N = q->N, P = q->P;
    const int32_t hi = (1 << q->x_bits) - 1;
    const bool pointwise = xb_conv_geom_is_pointwise(cg);
    const bool has_engine = e->engine && e->engine->qmatmul;
    /* Per image the engine is asked, group by group, whether it would only
     * reproduce the int8 product; the input matrix layout differs between
     * the two paths, so an image takes one path for all its groups (exec.h:
     * the answer is the same for every group of a layer and image). */
    bool engine = has_engine;
    const int64_t H = cg->h, W = cg->w, plane = xb_plane_bytes(cg);
    /* Without padding and at stride 1 the planes are the codes themselves. */
    const bool as_is = xb_padded_h(cg) == H && xb_padded_w(cg) == W && cg->sw == 1;
    for (int64_t img = 0; img < cg->n; img++) {
        /* One long quantization loop over the image (rows are too short to
         * vectorise one at a time), then, for the reference path, a copy
         * into padded planes whose border is the zero point's code
         * (im2col_packed.h). */
        if (has_engine && e->engine->exact) {
            bool exact = true;
            for (int gi = 0; gi < q->groups && exact; gi++)
                exact = e->engine->exact(e->engine->self, e, q->layer_index, gi, K, N, P);
            engine = !exact;
        }
        xb_quantize_u8(x + img * img_in, img_in, q->x_scale, q->x_zp, hi, codes);
        const uint8_t *planes = codes;
        if (!engine && pr->wpack4) {
            xb_pad_planes4_u8(cg, codes, (uint8_t)q->x_zp, col);
            planes = col;
        } else if (!engine && !as_is) {
            xb_pad_planes_u8(cg, cg->cin, codes, 0, (uint8_t)q->x_zp, col);
            planes = col;
        }
        for (int gi = 0; gi < q->groups; gi++) {
            if (engine) {
                /* The engine takes the plain [K][P] matrix. */
                const uint8_t *xg = codes + gi * cg->cin_g * H * W;
                if (!pointwise) {
                    xb_im2col_u8(cg, xg, (uint8_t)q->x_zp, col);
                    xg = col;
                }
                XB_TRY(e->engine->qmatmul(e->engine->self, e, n, q->layer_index, gi, xg,
                                          q->w + gi * N * K, K, N, P, acc, ctx));
            } else if (pr->xoff) {
                xb_igemm_direct(pr->wpack4 + gi * N * pr->K4, planes + gi * xb_c4_group_bytes(cg),
                                pr->xoff, pr->K4 / 4, N, cg->hout, cg->wout, xb_c4_row_bytes(cg),
                                acc);
            } else if (pr->wpack4) {
                xb_im2col_u8_packed4(cg, planes, gi, xp);
                xb_igemm_packed(pr->wpack4 + gi * N * pr->K4, xp, pr->K4, N, P, acc);
            } else {
                xb_im2col_u8_packed(cg, planes + gi * cg->cin_g * plane, xp);
                xb_igemm_packed(pr->wpack + gi * (int64_t)xb_igemm_wpack_bytes(K, N), xp, K, N, P,
                                acc);
            }
            for (int64_t o = 0; o < N; o++) {
                int64_t r = gi * N + o;
                const int32_t corr = q->x_zp * q->w_rowsum[r];
                const float m = pr->mult[r], b = q->bias ? q->bias[r] : 0.0f;
                const int32_t *a = acc + o * P;
                float *yr = y + (img * cg->cout + r) * P;
                /* The same expressions as a separate Relu node (relu.c),
                 * so fusing it changes no bit. */
                if (pr->relu)
                    for (int64_t p = 0; p < P; p++) {
                        float v = (float)(a[p] - corr) * m + b;
                        yr[p] = v > 0.0f ? v : 0.0f;
                    }
                else
                    for (int64_t p = 0; p < P; p++) yr[p] = (float)(a[p] - corr) * m + b;
            }
        }
    }
    return XB_OK;
}
