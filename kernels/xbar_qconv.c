/* XbarQConv (domain xbar): the integer convolution layer of qlayer.h.
 *
 * Per image: quantize the float input to codes once (or take the u8 codes
 * the previous layer wrote, frontend/chain_qcodes.c), then per group
 * unfold the codes (padding with the zero point's code, real value 0),
 * multiply by the int8 weights through the engine or igemm, and dequantize
 * with the zero-point correction folded into the epilogue:
 *     sum_k w (xq - zp) = sum_k w xq - zp * rowsum(w).
 * Without an engine, the kernel reads padded code planes in place where it
 * can (xb_qconv_path, qlayer_impl.h): channels-interleaved planes with
 * compact rows (output rows 16k wide, or 8 x 8 maps), the same planes or
 * shifted-word planes computed as one long row (im2col_packed.h, wide
 * direct convolution), else the codes are unfolded.  With attribute relu =
 * 1 (frontend/fuse_qrelu.c) the epilogue also applies the Relu, with
 * y_scale / y_zero_point / y_bits it writes the next layer's codes. */
#include <stdlib.h>
#include <string.h>

#include "kernels/igemm.h"
#include "kernels/im2col.h"
#include "kernels/im2col_packed.h"
#include "kernels/qlayer_impl.h"
#include "kernels/qmath.h"

/* Channels-interleaved weights in the k order of xb_im2col_u8_packed4. */
static xb_status pack_c4(xb_qlayer_priv *pr, xb_ctx *ctx) {
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    const int64_t rows = (int64_t)q->groups * q->N, K4 = xb_c4_channels(cg) * cg->kh * cg->kw;
    pr->K4 = K4;
    pr->wpack4 = xb_malloc(ctx, (size_t)(rows * K4) + 1);
    if (!pr->wpack4) return ctx->status;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < K4; k++) {
            int64_t c, at = xb_c4_weight_index(cg, k, &c);
            pr->wpack4[r * K4 + k] = c < cg->cin_g ? q->w[r * q->K + at] : 0;
        }
    return XB_OK;
}

static xb_status alloc_xoff(xb_qlayer_priv *pr, int64_t nq, xb_ctx *ctx) {
    pr->xoff = xb_malloc(ctx, (size_t)nq * sizeof(int64_t) + 1);
    return pr->xoff ? XB_OK : ctx->status;
}

/* The channels-interleaved paths: in place with compact rows, in place
 * wide, or unfolded. */
static xb_status plan_c4(xb_qlayer_priv *pr, xb_ctx *ctx) {
    const xb_conv_geom *cg = &pr->cg;
    XB_TRY(pack_c4(pr, ctx));
    pr->path = XB_QC_UNFOLD4;
    pr->planes_bytes = (size_t)xb_c4_planes_bytes(cg);
    const int64_t R = xb_c4_row_bytes(cg) / 4, Pw = xb_wide_positions(cg, R);
    /* Where the kernel can read the planes in place, the unfolded matrix
     * (9 copies of every input byte for a 3x3 kernel) is never built;
     * computing up to half as many positions again to get there costs less
     * than the unfolding. */
    if (xb_igemm_direct_fast(cg->hout, cg->wout)) {
        pr->path = XB_QC_DIRECT4;
    } else if (xb_igemm_direct_wide() && 2 * Pw <= 3 * xb_igemm_ppad(pr->q.P)) {
        pr->path = XB_QC_WIDE4;
        pr->arow = R, pr->Pw = Pw;
    }
    if (pr->path == XB_QC_UNFOLD4) return XB_OK;
    XB_TRY(alloc_xoff(pr, pr->K4 / 4, ctx));
    xb_c4_direct_offsets(cg, pr->xoff);
    if (pr->path == XB_QC_WIDE4) {
        int64_t hi = 0;
        for (int64_t k = 0; k < pr->K4 / 4; k++) hi = pr->xoff[k] > hi ? pr->xoff[k] : hi;
        const int64_t end = (cg->group - 1) * xb_c4_group_bytes(cg) + hi + 4 * pr->Pw;
        if ((size_t)end > pr->planes_bytes) pr->planes_bytes = (size_t)end;
    }
    return XB_OK;
}

/* The shifted-word path, its offsets and weights. */
static xb_status plan_sh4(xb_qlayer_priv *pr, xb_ctx *ctx) {
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    const int64_t Kqs = xb_sh4_quads(cg);
    pr->path = XB_QC_SHIFT4;
    pr->Kqs = Kqs, pr->arow = xb_padded_w(cg), pr->Pw = xb_wide_positions(cg, pr->arow);
    XB_TRY(alloc_xoff(pr, Kqs, ctx));
    const int64_t rows = (int64_t)q->groups * q->N;
    int64_t *widx = xb_malloc(ctx, (size_t)(4 * Kqs) * sizeof(int64_t) + 1);
    pr->wshift = xb_malloc(ctx, (size_t)(rows * 4 * Kqs) + 1);
    if (!widx || !pr->wshift) {
        free(widx);
        return ctx->status;
    }
    xb_sh4_plan(cg, pr->xoff, widx);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < 4 * Kqs; k++)
            pr->wshift[r * 4 * Kqs + k] = widx[k] < 0 ? 0 : q->w[r * q->K + widx[k]];
    free(widx);
    return XB_OK;
}

/* The reference path (qlayer_impl.h, xb_qconv_path): the channels-
 * interleaved planes when padding the channels to 4 costs little (in
 * place when the row width allows, else unfolded); else, for few channels
 * (LeNet-5's conv1: 1), shifted words read in place when they need at most
 * twice the multiplications of the unfolded product (conv1: 7 quads x 896
 * positions against 7 x 784 plus the unfolding); else plain unfolding.
 * (Shifted words for LeNet-5's conv2, 42 quads against the interleaved
 * planes' 50, cost more in building 6 channels' words than they saved.) */
static xb_status plan_reference(xb_qlayer_priv *pr, xb_ctx *ctx) {
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    pr->path = XB_QC_UNFOLD;
    if (xb_c4_useful(cg) && xb_c4_channels(cg) * cg->kh * cg->kw <= XB_IGEMM_KMAX)
        return plan_c4(pr, ctx);
    if (!xb_sh4_possible(cg) || !xb_igemm_direct_wide() || 4 * xb_sh4_quads(cg) > XB_IGEMM_KMAX)
        return XB_OK;
    const int64_t work = xb_sh4_quads(cg) * xb_wide_positions(cg, xb_padded_w(cg));
    if (work > 2 * (xb_igemm_kpad(q->K) / 4) * xb_igemm_ppad(q->P)) return XB_OK;
    return plan_sh4(pr, ctx);
}

static size_t up64(size_t v) { return (v + 63) & ~(size_t)63; }

/* Scratch: int32 acc [N][P] | codes of one image (float input only) |
 * im2col [K][P] for an engine, or the code planes / shifted words of the
 * reference path (never both, so they share) | packed x, or the shifted
 * path's byte plane. */
static xb_status plan_scratch(xb_node *n, xb_qlayer_priv *pr, xb_ctx *ctx) {
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    size_t acc = (size_t)(q->N * q->P) * sizeof(int32_t);
    size_t codes = pr->x_codes ? 0 : (size_t)(cg->cin * cg->h * cg->w);
    size_t col = xb_conv_geom_is_pointwise(cg) ? 0 : (size_t)(q->K * q->P);
    size_t planes = pr->planes_bytes;
    size_t xp = xb_igemm_xpack_bytes(pr->wpack4 ? pr->K4 : q->K, q->P);
    if (pr->path == XB_QC_UNFOLD) planes = (size_t)(cg->cin * xb_plane_bytes(cg));
    if (pr->path == XB_QC_SHIFT4) {
        planes = (size_t)xb_sh4_group_bytes(cg);
        if ((size_t)xb_sh4_plane_bytes(cg) > xp) xp = (size_t)xb_sh4_plane_bytes(cg);
    }
    size_t shared = col > planes ? col : planes;
    pr->off_acc = 0;
    pr->off_codes = up64(acc);
    pr->off_col = up64(pr->off_codes + codes);
    pr->off_xp = up64(pr->off_col + shared);
    pr->scratch = pr->off_xp + xp;
    if (pr->scratch > XB_MAX_TENSOR_BYTES)
        return xb_fail(ctx, XB_ERR_NOMEM, "scratch of %zu bytes is too large", pr->scratch);
    n->scratch_bytes = pr->scratch;
    return XB_OK;
}

xb_status xb_op_xbar_qconv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    if (n->n_in < 3 || n->n_in > 5 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0 ||
        n->in[2] < 0)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "XbarQConv takes inputs x, w, w_scale[, bias[, residual]] and 1 output");
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1);
    if (x->dtype != XB_F32 && x->dtype != XB_U8)
        return xb_fail(ctx, XB_ERR_INVALID, "input x is %s, expected f32 (or u8 codes)",
                       xb_dtype_name(x->dtype));
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
    XB_TRY(plan_reference(pr, ctx));

    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = pr->y_codes ? XB_U8 : XB_F32;
    xb_conv_geom_out_shape(cg, &y->shape);
    const xb_tensor *r = n->n_in > 4 ? xb_in_t(g, n, 4) : NULL;
    if (r && (r->dtype != XB_F32 || !xb_shape_eq(&r->shape, &y->shape)))
        return xb_fail(ctx, XB_ERR_INVALID, "residual '%s' must be f32 shaped like the output",
                       r->name);
    pr->residual = r != NULL;
    return plan_scratch(n, pr, ctx);
}

/* Output rows of group gi from acc [N][P] (plus the residual `res`, the
 * tensor of input 4, or NULL). */
static void epilogue(const xb_qlayer_priv *pr, const int32_t *acc, int64_t img, int gi,
                     const float *res, void *y) {
    const xb_qlayer *q = &pr->q;
    const int64_t N = q->N, P = q->P;
    for (int64_t o = 0; o < N; o++) {
        const int64_t r = gi * N + o, at = (img * pr->cg.cout + r) * P;
        xb_qlayer_store_row(pr, r, acc + o * P, P, res ? res + at : NULL, y, at);
    }
}

/* The reference product of group gi from the image's codes `src` and the
 * planes built from them (`planes`), into acc. */
static void reference_group(const xb_qlayer_priv *pr, const uint8_t *src, const uint8_t *planes,
                            uint8_t *col, uint8_t *xp, int gi, int32_t *acc) {
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    const int64_t K = q->K, N = q->N, P = q->P;
    switch (pr->path) {
    case XB_QC_DIRECT4:
        xb_igemm_direct(pr->wpack4 + gi * N * pr->K4, planes + gi * xb_c4_group_bytes(cg), pr->xoff,
                        pr->K4 / 4, N, cg->hout, cg->wout, xb_c4_row_bytes(cg), acc);
        break;
    case XB_QC_WIDE4:
        xb_igemm_direct(pr->wpack4 + gi * N * pr->K4, planes + gi * xb_c4_group_bytes(cg), pr->xoff,
                        pr->K4 / 4, N, cg->hout, cg->wout, 4 * pr->arow, acc);
        break;
    case XB_QC_SHIFT4:
        xb_sh4_build(cg, src, gi, (uint8_t)q->x_zp, xp, col);
        xb_igemm_direct(pr->wshift + gi * N * 4 * pr->Kqs, col, pr->xoff, pr->Kqs, N, cg->hout,
                        cg->wout, 4 * pr->arow, acc);
        break;
    case XB_QC_UNFOLD4:
        xb_im2col_u8_packed4(cg, planes, gi, xp);
        xb_igemm_packed(pr->wpack4 + gi * N * pr->K4, xp, pr->K4, N, P, acc);
        break;
    default:
        xb_im2col_u8_packed(cg, planes + gi * cg->cin_g * xb_plane_bytes(cg), xp);
        xb_igemm_packed(pr->wpack + gi * (int64_t)xb_igemm_wpack_bytes(K, N), xp, K, N, P, acc);
        break;
    }
}

/* Padded planes of the image for the reference path (the shifted path
 * builds its own per group); returns what the kernel reads. */
static const uint8_t *reference_planes(const xb_qlayer_priv *pr, const uint8_t *src, uint8_t *col) {
    const xb_conv_geom *cg = &pr->cg;
    const uint8_t zp = (uint8_t)pr->q.x_zp;
    switch (pr->path) {
    case XB_QC_DIRECT4:
    case XB_QC_WIDE4:
    case XB_QC_UNFOLD4: {
        xb_pad_planes4_u8(cg, src, zp, col);
        /* A wide read's discarded positions may reach past the planes:
         * give them defined bytes. */
        const size_t used = (size_t)xb_c4_planes_bytes(cg);
        if (pr->planes_bytes > used) memset(col + used, zp, pr->planes_bytes - used);
        return col;
    }
    case XB_QC_SHIFT4:
        return src;
    default:
        /* Without padding and at stride 1 the planes are the codes themselves. */
        if (xb_padded_h(cg) == cg->h && xb_padded_w(cg) == cg->w && cg->sw == 1) return src;
        xb_pad_planes_u8(cg, cg->cin, src, 0, zp, col);
        return col;
    }
}

/* Whether the engine computes this image's product (else it would only
 * reproduce the int8 one, exec.h): the input matrix layout differs between
 * the two paths, so an image takes one path for all its groups (the answer
 * is the same for every group of a layer and image). */
static bool use_engine(const xb_qlayer_priv *pr, xb_exec *e) {
    const xb_qlayer *q = &pr->q;
    if (!e->engine || !e->engine->qmatmul) return false;
    if (!e->engine->exact) return true;
    bool exact = true;
    for (int gi = 0; gi < q->groups && exact; gi++)
        exact = e->engine->exact(e->engine->self, e, q->layer_index, gi, q->K, q->N, q->P);
    return !exact;
}

xb_status xb_op_xbar_qconv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    const xb_qlayer_priv *pr = n->params;
    const xb_qlayer *q = &pr->q;
    const xb_conv_geom *cg = &pr->cg;
    void *y = e->buf[n->out[0]];
    uint8_t *s = e->scratch;
    int32_t *acc = (int32_t *)(s + pr->off_acc);
    uint8_t *codes = s + pr->off_codes, *col = s + pr->off_col, *xp = s + pr->off_xp;
    const int64_t img_in = cg->cin * cg->h * cg->w, K = q->K, N = q->N, P = q->P;
    const uint8_t *given = xb_ql_given_codes(g, n, e);
    const float *res = pr->residual ? XB_IN_F32(e, n, 4) : NULL;
    for (int64_t img = 0; img < cg->n; img++) {
        const bool engine = use_engine(pr, e);
        /* One long quantization loop over the image (rows are too short to
         * vectorise one at a time), unless the codes come ready. */
        const uint8_t *src;
        if (pr->x_codes) {
            src = (const uint8_t *)e->buf[n->in[0]] + img * img_in;
        } else if (given) {
            src = given + img * img_in;
        } else {
            xb_quantize_u8(XB_IN_F32(e, n, 0) + img * img_in, img_in, q->x_scale, q->x_zp,
                           (1 << q->x_bits) - 1, codes);
            src = codes;
        }
        const uint8_t *planes = engine ? NULL : reference_planes(pr, src, col);
        for (int gi = 0; gi < q->groups; gi++) {
            if (engine) {
                /* The engine takes the plain [K][P] matrix. */
                const uint8_t *xg = src + gi * cg->cin_g * cg->h * cg->w;
                if (!xb_conv_geom_is_pointwise(cg)) {
                    xb_im2col_u8(cg, xg, (uint8_t)q->x_zp, col);
                    xg = col;
                }
                XB_TRY(e->engine->qmatmul(e->engine->self, e, n, q->layer_index, gi, xg,
                                          q->w + gi * N * K, K, N, P, acc, ctx));
            } else {
                reference_group(pr, src, planes, col, xp, gi, acc);
            }
            epilogue(pr, acc, img, gi, res, y);
        }
    }
    return XB_OK;
}
