/* Conv (ai.onnx 1, 11): float 1-D/2-D convolution, NCHW, with groups,
 * pads, strides, dilations and auto_pad (kernels/conv_geom.h), and the
 * optional bias.  Opset 11 only changed the documentation of auto_pad and
 * kernel_shape inference, so one implementation serves 7..17.
 *
 * Per image and group the conv is the matrix product
 *     Y_g[cout_g][P] = W_g[cout_g][K] * col[K][P]  (+ bias per row)
 * with col the im2col unfolding of the input.  A constant weight is packed
 * for the sgemm micro-kernel once, at prepare.  col is never stored whole:
 * either the micro-kernel reads its rows in place (COLS, SHIFT) or it is built
 * one NR-column panel at a time, straight into the micro-kernel's layout,
 * and consumed while it sits in L1 (GEMM).  Six paths:
 *
 * EDGE (outputs as wide as a stride phase of the input, "same" padding
 *   across, when the AVX-512 tile runs): panels read the unpadded input
 *   (at stride 1) or its unpadded stride phases in place, lane masks
 *   standing in for the zero border (plan_edge): no padded plane.
 * COLS (strides, and widths that are not a multiple of NR): the input is
 *   copied into column planes, one per (channel, tap column, row phase),
 *   in which every im2col row is one contiguous slice of P floats (see
 *   plan_cols), so any panel of NR outputs reads its rows in place.
 * SHIFT (stride 1 with outputs NR or NR/2 wide, and dilated convs): the
 *   group's input is copied once into a
 *   zero-padded buffer split into sh x sw stride phases (phase (a, b) holds
 *   padded rows a, a+sh, ... and columns b, b+sw, ...; with stride 1 it is
 *   just the padded plane).  Computing outputs on the phase width (P' =
 *   hout * wq positions, the last wq - wout of each row being junk that is
 *   dropped) makes every im2col row a contiguous slice of that buffer, at
 *   offset (c, phase of (i*dh, j*dw)) + (i*dh/sh)*wq + j*dw/sw, and the
 *   micro-kernel reads those rows in place (xb_sgemm_rows): no im2col and
 *   no packing at all.  The junk costs (wq - wout) / wout more multiply
 *   work (6% for 3x3 at 32x32, 25% at 8x8), far less than either.
 * GEMM (dilated convs whose junk would exceed 50%): panels are unfolded
 *   by xb_im2col_panel_f32.
 * POINTWISE (1x1, stride 1, no pad): the input already is col.
 * DEPTHWISE (one input channel per group): K = kh*kw is too thin for a GEMM,
 *   so taps are accumulated directly along output rows. */
/* The short row copies below must stay inline vector moves: GCC's loop
 * distribution would turn each into a memcpy/memset call (one per row of
 * 8..40 floats, costing more than the row). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

#include <stdlib.h>
#include <string.h>

#include "kernels/conv.h"
#include "kernels/conv_geom.h"
#include "kernels/im2col.h"
#include "kernels/kutil.h"
#include "kernels/registry.h"
#include "kernels/sgemm.h"

typedef enum { CONV_EDGE, CONV_SHIFT, CONV_COLS, CONV_GEMM, CONV_POINTWISE, CONV_DEPTHWISE } conv_path;

#define NR XB_SGEMM_NR

typedef struct {
    xb_conv_geom cg;
    conv_path path;
    float *wpack;        /* [group] packed A panels, or NULL if W is not constant */
    size_t wpack_floats; /* per group */
    /* SHIFT path */
    int64_t hq, wq, plane; /* one stride phase of the padded input (COLS: wq is the
                            * padded-row buffer's width, plane one column plane) */
    int64_t pq;            /* P' = hout * wq computed positions */
    int64_t *koff;         /* [K] offset of im2col row k in the phase buffer */
    size_t xpad_floats;    /* phase buffer incl. the slack the last panel reads */
    bool exact;            /* panels of real outputs only (no junk columns) */
    /* COLS path (also uses koff, plane, xpad_floats) */
    int64_t rq;            /* rows of one column plane: hout + (kh-1)/sh */
    int64_t nph;           /* row phases in use: min(kh, sh) */
    /* EDGE path (also uses koff, which may be negative there, nph: the
     * stride phases built, rq and plane: one phase's rows and floats) */
    int64_t phase[16];     /* [a*sw + b]: index of stride phase (a, b), or -1 */
    uint16_t *kmask;       /* [nsets][2K] lane masks of the B rows (xb_sgemm_rows_masked_ep) */
    int32_t *pclass;       /* [panels] which mask set each NR-output panel uses */
    bool relu;             /* XbarConv with activation Relu (kernels/xbar_conv.c) */
    bool residual;         /* XbarConv with a residual input 3, added before Relu */
} conv_params;

static void conv_params_free(void *p) {
    conv_params *cp = p;
    if (cp) {
        free(cp->wpack);
        free(cp->koff);
        free(cp->kmask);
        free(cp->pclass);
    }
    free(cp);
}

static size_t align_up(size_t n) { return (n + 63) & ~(size_t)63; }

/* SHIFT computes its outputs either on the phase width, junk columns
 * included, into Y' (then drops the junk), or exactly: panels of NR real
 * output positions written straight into Y, a panel inside one output row
 * (or two half-rows, see shift_exact_run) read in place, any other first
 * copied from the phase buffer into a packed panel.  Per output position
 * and tap, the junk costs (wq - wout) / wout of the multiply-adds; a copy
 * costs about a cycle per 8 floats when the row runs are multiples of 8
 * (one vector move each), a cycle per float otherwise, against cout_g / 32
 * cycles of FMAs (two 16-lane FMAs per cycle): 4 / cout_g or 32 / cout_g of
 * the multiply work (estimates, not measurements).  So LeNet-5's second
 * conv (10-wide rows, 16 channels: copy 2 vs junk 0.4) keeps the junk, and
 * ResNet-20's 8-wide 64-channel maps (copy 0.06 vs junk 0.25) go exact. */
static bool shift_exact(const xb_conv_geom *cg, int64_t wq) {
    if (cg->wout % NR == 0 || cg->wout == NR / 2) return true; /* nothing copied */
    double junk = (double)(wq - cg->wout) / (double)cg->wout;
    double copy = (cg->wout % 8 == 0 ? 4.0 : 32.0) / (double)cg->cout_g;
    return copy < junk;
}

static xb_status plan_shift(conv_params *cp, size_t *scratch, xb_ctx *ctx) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t sh = cg->sh, sw = cg->sw;
    cp->hq = (cg->h + cg->pt + cg->pb + sh - 1) / sh;
    cp->wq = (cg->w + cg->pl + cg->pr + sw - 1) / sw;
    cp->plane = cp->hq * cp->wq;
    cp->pq = cg->hout * cp->wq;
    if ((double)cg->cin_g * (double)(sh * sw) * (double)cp->plane > XB_GEOM_MAX_ELEMS ||
        (double)cg->cout_g * (double)cp->pq > XB_GEOM_MAX_ELEMS)
        return xb_fail(ctx, XB_ERR_NOMEM, "padded input of the convolution is too large");
    cp->koff = xb_malloc(ctx, (size_t)cg->K * sizeof(int64_t));
    if (!cp->koff) return ctx->status;
    int64_t k = 0;
    for (int64_t c = 0; c < cg->cin_g; c++)
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                int64_t ri = i * cg->dh, cj = j * cg->dw;
                int64_t phase = (ri % sh) * sw + cj % sw;
                cp->koff[k++] = (c * sh * sw + phase) * cp->plane + (ri / sh) * cp->wq + cj / sw;
            }
    /* The last panel reads up to (kw-1)*dw/sw + NR - 1 floats past the last
     * plane (whole NR-float rows, for outputs nobody keeps): the reads must
     * stay inside the buffer, and see zeros. */
    cp->xpad_floats =
        (size_t)(cg->cin_g * sh * sw * cp->plane + (cg->kw - 1) * cg->dw / sw + NR);
    *scratch += align_up(cp->xpad_floats * sizeof(float));
    cp->exact = shift_exact(cg, cp->wq);
    if (cp->exact)
        *scratch += align_up((size_t)cg->K * NR * sizeof(float)); /* one packed B panel */
    else
        *scratch += align_up((size_t)cg->cout_g * (size_t)cp->pq * sizeof(float)); /* Y' */
    return XB_OK;
}

/* COLS: the taps' rows laid out so that every im2col row is one
 * contiguous slice of P floats.  Column plane (c, j, a) holds rows r' of
 * the padded input at padded row r'*sh + a and padded columns ow*sw + j
 * (ow < wout): X[c][j][a][r'][ow].  Tap (c, i, j) of output p = oh*wout +
 * ow reads padded (oh*sh + i, ow*sw + j), which is plane (c, j, i % sh) at
 * row oh + i / sh: offset koff + p with koff = plane(c, j, i % sh) + (i /
 * sh) * wout.  So panels of NR outputs anywhere in Y read their B rows in
 * place, with no junk columns and no packing, whatever wout and the
 * stride; building the planes copies about kw * cin * (hout + kh) * wout
 * floats (for 3 x 3, three copies of the input), once per image and group.
 * Rows r' run to hout + (kh - 1) / sh; the row phases in use are
 * a < min(kh, sh) (a strided 1 x 1 conv reads one phase). */
static xb_status plan_cols(conv_params *cp, size_t *scratch, xb_ctx *ctx) {
    const xb_conv_geom *cg = &cp->cg;
    cp->nph = cg->kh < cg->sh ? cg->kh : cg->sh;
    cp->rq = cg->hout + (cg->kh - 1) / cg->sh;
    cp->plane = cp->rq * cg->wout;
    double planes = (double)cg->cin_g * (double)cg->kw * (double)cp->nph;
    double pad_rows = (double)cp->rq * (double)cg->sh * ((double)(cg->wout - 1) * cg->sw + cg->kw);
    if (planes * (double)cp->plane > XB_GEOM_MAX_ELEMS || pad_rows > XB_GEOM_MAX_ELEMS)
        return xb_fail(ctx, XB_ERR_NOMEM, "column planes of the convolution are too large");
    cp->koff = xb_malloc(ctx, (size_t)cg->K * sizeof(int64_t));
    if (!cp->koff) return ctx->status;
    int64_t k = 0;
    for (int64_t c = 0; c < cg->cin_g; c++)
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++)
                cp->koff[k++] = ((c * cg->kw + j) * cp->nph + i % cg->sh) * cp->plane +
                                (i / cg->sh) * cg->wout;
    /* The last panel reads whole NR-float rows: up to NR - 1 floats past
     * the last plane, which must be readable and finite (zeros). */
    cp->xpad_floats = (size_t)((int64_t)planes * cp->plane + NR);
    *scratch += align_up(cp->xpad_floats * sizeof(float));
    /* One channel's padded rows, wide enough for every tap: (wout-1)*sw + kw. */
    cp->wq = (cg->wout - 1) * cg->sw + cg->kw;
    *scratch += align_up((size_t)(cp->rq * cg->sh * cp->wq + 16) * sizeof(float)); /* + copy_strided's slack */
    return XB_OK;
}

/* EDGE: a conv whose output rows are as wide as one stride phase of its
 * input rows (w = wout * sw: "same" padding across, e.g. 3 x 3 with pad 1
 * at stride 1 or 2, or a strided 1 x 1 shortcut) reads its input in place:
 * at stride 1 the input itself, else its stride phases, unpadded (phase
 * (a, b) of channel c: input rows a, a + sh, ... and columns b, b + sw,
 * ..., hp x wp = ceil(h / sh) x wout floats; only the phases some tap
 * reads are built, one permuting copy of the input).  Output p = oh*wout
 * + ow, tap (c, i, j) reads input (oh*sh + i - pt, ow*sw + j - pl), which
 * is phase ((i - pt) mod sh, (j - pl) mod sw) at row oh + floor((i - pt) /
 * sh), column ow + floor((j - pl) / sw): linear in p, so every panel of NR
 * consecutive outputs, whatever rows it spans, reads each B row as NR
 * consecutive floats at koff[k] past its first output.  The lanes whose
 * input position falls in the pad (or past P) are masked out and read as
 * +0.0, exactly what a padded copy held, so the sums and their order are
 * SHIFT's and COLS's: the same bits, with no padded plane.  The masks
 * depend only on the tap (i, j) and the panel's position; panels with
 * equal masks (all the inner rows) share one set.  Only with the AVX-512
 * tile, which loads whole row halves plainly and masks only the cut ones
 * (masked loads cost about 2.5 % of ResNet-20's time on AMD EPYC, but an
 * FMA slot each on Intel: kernels/sgemm_avx512.c); the portable masked
 * tile is scalar. */
#define EDGE_MAX_SETS 64

/* The tap masks (bit l: lane l reads the input) of the panel at p0. */
static void edge_tap_masks(const xb_conv_geom *cg, int64_t p0, uint32_t *tm) {
    for (int64_t i = 0; i < cg->kh; i++)
        for (int64_t j = 0; j < cg->kw; j++) {
            uint32_t m = 0;
            for (int64_t l = 0; l < NR && p0 + l < cg->P; l++) {
                int64_t oh = (p0 + l) / cg->wout, ow = (p0 + l) % cg->wout;
                int64_t ih = oh * cg->sh + i - cg->pt, iw = ow * cg->sw + j - cg->pl;
                if (ih >= 0 && ih < cg->h && iw >= 0 && iw < cg->w) m |= 1u << l;
            }
            tm[i * cg->kw + j] = m;
        }
}

/* Floor division and its non-negative remainder (taps left of the pad). */
static int64_t fdiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t fmod_pos(int64_t a, int64_t b) { return a - fdiv(a, b) * b; }

/* Which stride phases the taps read (cp->phase[a*sw + b] = its index among
 * the built ones, or -1), and koff. */
static void edge_phases(conv_params *cp) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t T = cg->kh * cg->kw;
    for (int64_t q = 0; q < cg->sh * cg->sw; q++) cp->phase[q] = -1;
    cp->nph = 0;
    for (int64_t i = 0; i < cg->kh; i++)
        for (int64_t j = 0; j < cg->kw; j++) {
            int64_t q = fmod_pos(i - cg->pt, cg->sh) * cg->sw + fmod_pos(j - cg->pl, cg->sw);
            if (cp->phase[q] < 0) cp->phase[q] = cp->nph++;
        }
    cp->rq = (cg->h + cg->sh - 1) / cg->sh;   /* rows of a phase */
    cp->plane = cp->rq * cg->wout;             /* floats of a phase */
    for (int64_t k = 0; k < cg->K; k++) {
        int64_t c = k / T, i = k % T / cg->kw, j = k % cg->kw;
        int64_t q = fmod_pos(i - cg->pt, cg->sh) * cg->sw + fmod_pos(j - cg->pl, cg->sw);
        cp->koff[k] = (c * cp->nph + cp->phase[q]) * cp->plane +
                      fdiv(i - cg->pt, cg->sh) * cg->wout + fdiv(j - cg->pl, cg->sw);
    }
}

/* Sets *ok = false (nothing kept) when the panels need more than
 * EDGE_MAX_SETS mask sets (odd widths on tall maps); the other paths
 * then serve the conv. */
static xb_status plan_edge(conv_params *cp, size_t *scratch, bool *ok, xb_ctx *ctx) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t T = cg->kh * cg->kw, npan = (cg->P + NR - 1) / NR;
    *ok = false;
    if ((double)T * EDGE_MAX_SETS > XB_GEOM_MAX_ELEMS || (double)npan > XB_GEOM_MAX_ELEMS)
        return XB_OK;
    uint32_t *sets = xb_malloc(ctx, (size_t)(T * (EDGE_MAX_SETS + 1)) * sizeof(uint32_t));
    cp->pclass = xb_malloc(ctx, (size_t)npan * sizeof(int32_t));
    if (!sets || !cp->pclass) {
        free(sets);
        return ctx->status;
    }
    int64_t nsets = 0;
    for (int64_t pi = 0; pi < npan; pi++) {
        uint32_t *cur = sets + nsets * T; /* candidate, past the kept sets */
        edge_tap_masks(cg, pi * NR, cur);
        int64_t s = 0;
        while (s < nsets && memcmp(sets + s * T, cur, (size_t)T * sizeof(uint32_t))) s++;
        if (s == nsets && ++nsets > EDGE_MAX_SETS) {
            free(sets);
            free(cp->pclass);
            cp->pclass = NULL;
            return XB_OK;
        }
        cp->pclass[pi] = (int32_t)s;
    }
    cp->koff = xb_malloc(ctx, (size_t)cg->K * sizeof(int64_t));
    cp->kmask = xb_malloc(ctx, (size_t)(nsets * 2 * cg->K) * sizeof(uint16_t));
    if (!cp->koff || !cp->kmask) {
        free(sets);
        return ctx->status;
    }
    for (int64_t s = 0; s < nsets; s++)
        for (int64_t k = 0; k < cg->K; k++) {
            uint32_t m = sets[s * T + k % T]; /* k = c*T + tap */
            cp->kmask[(s * cg->K + k) * 2] = (uint16_t)(m & 0xFFFF);
            cp->kmask[(s * cg->K + k) * 2 + 1] = (uint16_t)(m >> 16);
        }
    free(sets);
    edge_phases(cp);
    if (cg->sh > 1 || cg->sw > 1) /* the built phases */
        *scratch += align_up((size_t)(cg->cin_g * cp->nph * cp->plane) * sizeof(float));
    *ok = true;
    return XB_OK;
}

/* Planning EDGE looks at every lane of every tap of every panel and
 * compares each panel's masks with the kept sets: up to npan x T x (NR +
 * EDGE_MAX_SETS) steps, at load time, before any work cap can see the
 * layer.  A fuzzed 1-D conv with a 2^20-tap kernel over 2^20 positions
 * spent 30 s there (tests/fuzz/README.md, finding 14), so bigger plans are
 * not attempted (the other paths serve the conv).  2^26 steps is 1.7
 * times the plan of a 7 x 7 conv over 512 x 512 outputs (8192 panels x
 * 49 taps x 96). */
#define EDGE_PLAN_MAX_STEPS ((double)(1 << 26))

bool xb_conv_edge_plan_fits(const xb_conv_geom *cg) {
    double npan = (double)((cg->P + NR - 1) / NR);
    /* the panels' masks, then per row of K (channels x taps) its offset
     * and one mask pair per kept set (a fuzzed conv with 2^20 input
     * channels spent 14 s on those: finding 16) */
    return npan * (double)(cg->kh * cg->kw) * (NR + EDGE_MAX_SETS) +
               (double)cg->K * (1 + EDGE_MAX_SETS) <=
           EDGE_PLAN_MAX_STEPS;
}

static bool edge_worth_it(const xb_conv_geom *cg) {
    return xb_sgemm_avx512_active() && cg->dh == 1 && cg->dw == 1 && cg->sh <= 4 &&
           cg->sw <= 4 && cg->w == cg->wout * cg->sw && cg->P > 0 && cg->K > 0 &&
           xb_conv_edge_plan_fits(cg);
}

/* COLS where SHIFT would copy panels or compute junk columns: SHIFT reads
 * rows in place only at stride 1 with outputs a multiple of NR wide (or
 * NR/2, two rows per panel), and then costs a single padded copy of the
 * input, less than COLS's kw copies.  Everywhere else (8-wide maps, odd
 * widths, strides, strided 1 x 1 shortcuts) COLS costs a few copies of the
 * input against SHIFT's copy of every panel (K x P floats), junk multiply
 * work, or im2col.  Dilation stays with SHIFT/GEMM. */
static bool cols_worth_it(const xb_conv_geom *cg) {
    if (cg->dh != 1 || cg->dw != 1) return false;
    if (cg->sh == 1 && cg->sw == 1 && (cg->wout % NR == 0 || cg->wout == NR / 2)) return false;
    return true;
}

/* SHIFT computes wq - wout junk columns per output row; past 50% extra work
 * a real im2col is cheaper.  With a stride, it copies the whole input into
 * phases, which only pays when the taps visit every phase (kernel at least
 * the stride, no dilation); a strided 1x1 shortcut conv reads a quarter of
 * its input and is better served by im2col. */
static bool shift_worth_it(const xb_conv_geom *cg) {
    if (cg->sh > 1 || cg->sw > 1) {
        if (cg->kh < cg->sh || cg->kw < cg->sw) return false;
        if (cg->dh != 1 || cg->dw != 1) return false;
    }
    int64_t wq = (cg->w + cg->pl + cg->pr + cg->sw - 1) / cg->sw;
    return 2 * wq <= 3 * cg->wout;
}

static xb_status finish_prepare(xb_node *n, size_t scratch) {
    n->scratch_bytes = scratch + 64;
    return XB_OK;
}

xb_status xb_op_conv_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    return xb_conv_prepare_act(g, n, false, false, ctx);
}

xb_status xb_conv_prepare_act(xb_graph *g, xb_node *n, bool relu, bool residual, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, residual ? 4 : 3, 1, 1, ctx));
    if (residual && !xb_k_has_in(n, 3))
        return xb_fail(ctx, XB_ERR_INVALID, "the residual (input 3) is missing");
    const xb_tensor *x = xb_in_t(g, n, 0), *w = xb_in_t(g, n, 1), *b = xb_in_t(g, n, 2);
    if (x->dtype != XB_F32 || w->dtype != XB_F32 || (b && b->dtype != XB_F32))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Conv on %s input / %s weight (float only)",
                       xb_dtype_name(x->dtype), xb_dtype_name(w->dtype));
    conv_params *cp = xb_calloc(ctx, 1, sizeof *cp);
    if (!cp) return ctx->status;
    n->params = cp;
    n->params_free = conv_params_free;
    cp->relu = relu;
    cp->residual = residual;
    xb_conv_geom *cg = &cp->cg;
    XB_TRY(xb_conv_geom_init(cg, n, &x->shape, &w->shape, false, ctx));
    if (b) {
        char sb[96];
        if (b->shape.rank != 1 || b->shape.d[0] != cg->cout)
            return xb_fail(ctx, XB_ERR_INVALID, "bias shape %s, expected [%lld]",
                           xb_shape_str(&b->shape, sb, sizeof sb), (long long)cg->cout);
    }
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = XB_F32;
    xb_conv_geom_out_shape(cg, &y->shape);
    if (residual) {
        const xb_tensor *r = xb_in_t(g, n, 3);
        char sr[96], sy[96];
        if (r->dtype != XB_F32 || !xb_shape_eq(&r->shape, &y->shape))
            return xb_fail(ctx, XB_ERR_INVALID, "residual %s %s, expected f32 %s",
                           xb_dtype_name(r->dtype), xb_shape_str(&r->shape, sr, sizeof sr),
                           xb_shape_str(&y->shape, sy, sizeof sy));
    }

    size_t scratch = 0;
    if (cg->cin_g == 1 && cg->group > 1 && cg->K > 1) {
        cp->path = CONV_DEPTHWISE;
        n->scratch_bytes = 0;
        return XB_OK;
    }
    size_t per = xb_sgemm_packed_a_bytes(cg->cout_g, cg->K);
    if (w->is_const) {
        cp->wpack_floats = per / sizeof(float);
        size_t total;
        if (xb_mul_overflow(per, (size_t)cg->group, &total))
            return xb_fail(ctx, XB_ERR_NOMEM, "packed weights too large");
        cp->wpack = xb_malloc(ctx, total);
        if (!cp->wpack) return ctx->status;
        const float *wd = w->data;
        for (int64_t gi = 0; gi < cg->group; gi++)
            xb_sgemm_pack_a(false, cg->cout_g, cg->K, wd + gi * cg->cout_g * cg->K, cg->K,
                            cp->wpack + (size_t)gi * cp->wpack_floats);
    } else {
        /* Weights computed at run time are packed per group into scratch. */
        scratch += align_up(per);
    }
    if (xb_conv_geom_is_pointwise(cg)) {
        cp->path = CONV_POINTWISE;
        scratch += xb_sgemm_prepacked_scratch_bytes(cg->cout_g, cg->P, cg->K);
        return finish_prepare(n, scratch);
    }
    bool edge = false;
    if (edge_worth_it(cg)) XB_TRY(plan_edge(cp, &scratch, &edge, ctx));
    if (edge) {
        cp->path = CONV_EDGE;
    } else if (cols_worth_it(cg)) {
        cp->path = CONV_COLS;
        XB_TRY(plan_cols(cp, &scratch, ctx));
    } else if (shift_worth_it(cg)) {
        cp->path = CONV_SHIFT;
        XB_TRY(plan_shift(cp, &scratch, ctx));
    } else {
        cp->path = CONV_GEMM;
        scratch += (size_t)cg->K * NR * sizeof(float); /* one B panel */
    }
    return finish_prepare(n, scratch);
}

/* Depthwise: each output channel reads one input channel.  Taps are
 * accumulated plane-wide, in (i, j) order after the bias, so the inner loop
 * is a unit-stride multiply-add along the output row when sw = 1. */
static void conv_depthwise(const xb_conv_geom *cg, const float *x, const float *w,
                           const float *bias, float *y) {
    const int64_t H = cg->h, W = cg->w, HO = cg->hout, WO = cg->wout;
    for (int64_t oc = 0; oc < cg->cout; oc++) {
        const float *xc = x + (oc / cg->cout_g) * H * W;
        const float *wc = w + oc * cg->kh * cg->kw;
        float *yc = y + oc * HO * WO;
        float b0 = bias ? bias[oc] : 0.0f;
        for (int64_t p = 0; p < HO * WO; p++) yc[p] = b0;
        for (int64_t i = 0; i < cg->kh; i++)
            for (int64_t j = 0; j < cg->kw; j++) {
                float wv = wc[i * cg->kw + j];
                int64_t off = j * cg->dw, lo, hi;
                xb_window_taps(-cg->pl + off, WO, cg->sw, W, &lo, &hi);
                if (lo >= hi) continue;
                for (int64_t oh = 0; oh < HO; oh++) {
                    int64_t ih = oh * cg->sh - cg->pt + i * cg->dh;
                    if (ih < 0 || ih >= H) continue;
                    const int64_t base = ih * W - cg->pl + off;
                    float *yr = yc + oh * WO;
                    if (cg->sw == 1) {
                        const float *xr = xc + (base + lo);
                        float *yo = yr + lo;
                        for (int64_t q = 0; q < hi - lo; q++) yo[q] += wv * xr[q];
                    } else {
                        for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xc[base + ow * cg->sw];
                    }
                }
            }
    }
}

/* Short row copies and fills (8..40 floats in the CIFAR models) as
 * 8-float blocks of fixed size, which compile to single vector moves; the
 * last block overlaps the previous one rather than looping on a tail. */
static inline void copy_floats(float *restrict d, const float *restrict s, int64_t n) {
    if (n < 8) {
        for (int64_t q = 0; q < n; q++) d[q] = s[q];
        return;
    }
    int64_t q = 0;
    for (; q + 8 <= n; q += 8) memcpy(d + q, s + q, 8 * sizeof(float));
    if (q < n) memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
}

typedef float v8f __attribute__((vector_size(8 * sizeof(float))));

/* The even floats of s[0..16): one two-source permute. */
static inline void even8(float *d, const float *s) {
    v8f lo, hi;
    memcpy(&lo, s, sizeof lo);
    memcpy(&hi, s + 8, sizeof hi);
    v8f e = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    memcpy(d, &e, sizeof e);
}

/* The odd floats of s[0..16). */
static inline void odd8(float *d, const float *s) {
    v8f lo, hi;
    memcpy(&lo, s, sizeof lo);
    memcpy(&hi, s + 8, sizeof hi);
    v8f o = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
    memcpy(d, &o, sizeof o);
}

/* d[q] = s[q * sw].  Stride 2 (the strided convs) in blocks of 8 outputs
 * from 16 inputs (reading s up to s[2n], one float past the last one
 * used: the caller leaves that slack), the last block overlapping. */
static inline void copy_strided(float *restrict d, const float *restrict s, int64_t n, int64_t sw) {
    if (sw == 2 && n >= 8) {
        int64_t q = 0;
        for (; q + 8 <= n; q += 8) even8(d + q, s + 2 * q);
        if (q < n) even8(d + n - 8, s + 2 * (n - 8));
    } else {
        for (int64_t q = 0; q < n; q++) d[q] = s[q * sw];
    }
}

static inline void zero_floats(float *d, int64_t n) {
    static const float z[8] = {0};
    copy_floats(d, z, n < 8 ? n : 8);
    for (int64_t q = 8; q < n; q += 8) memcpy(d + (n - q < 8 ? n - 8 : q), z, sizeof z);
}

/* Stride 1: one phase per channel, the plane padded by pt/pb rows and
 * pl/pr columns; each row zeroed, then its inside copied. */
static void shift_plane_s1(const conv_params *cp, const float *xg, float *xpad) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t H = cg->h, W = cg->w, Wq = cp->wq;
    float *d = xpad;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const float *xc = xg + c * H * W;
        for (int64_t r = 0; r < cp->hq; r++, d += Wq) {
            int64_t ih = r - cg->pt;
            if (ih < 0 || ih >= H) {
                zero_floats(d, Wq);
            } else if (cg->pl <= 8 && Wq - W - cg->pl <= 8 && Wq >= 8) {
                /* Only the pad ends: one 8-float block at each end, then
                 * the inside over them. */
                zero_floats(d, 8);
                zero_floats(d + Wq - 8, 8);
                copy_floats(d + cg->pl, xc + ih * W, W);
            } else {
                zero_floats(d, Wq);
                copy_floats(d + cg->pl, xc + ih * W, W);
            }
        }
    }
    memset(d, 0, (cp->xpad_floats - (size_t)(d - xpad)) * sizeof(float));
}

/* COLS: build the column planes of one group (plan_cols), a channel at a
 * time: first the channel's padded rows that the planes use (rq * sh rows
 * of wq floats, zeros then the input row at pl) into `pad`, then each tap
 * column j takes every sw-th float from j on: plane (c, j, a) row r' is
 * padded row r'*sh + a.  Two passes rather than one row at a time: a
 * read of a row just written, at another offset, would wait for the
 * stores to retire (a failed store-to-load forward) on every row. */
static void cols_build(const conv_params *cp, const float *xg, float *xb, float *pad) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t H = cg->h, W = cg->w, WO = cg->wout, sh = cg->sh, sw = cg->sw;
    const int64_t wrow = cp->wq, kw = cg->kw, nph = cp->nph;
    const int64_t rows = cp->rq * sh, n = W < wrow - cg->pl ? W : wrow - cg->pl;
    float *d = xb;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const float *xc = xg + c * H * W;
        for (int64_t pr = 0; pr < rows; pr++) {
            int64_t ih = pr - cg->pt;
            zero_floats(pad + pr * wrow, wrow);
            if (ih >= 0 && ih < H && n > 0) copy_floats(pad + pr * wrow + cg->pl, xc + ih * W, n);
        }
        for (int64_t j = 0; j < kw; j++)
            for (int64_t a = 0; a < nph; a++)
                for (int64_t r = 0; r < cp->rq; r++, d += WO) {
                    const float *s = pad + (r * sh + a) * wrow + j;
                    if (sw == 1)
                        copy_floats(d, s, WO);
                    else
                        copy_strided(d, s, WO, sw);
                }
    }
    memset(d, 0, (cp->xpad_floats - (size_t)(d - xb)) * sizeof(float));
}

/* COLS for one group of one image: every panel reads its rows in place. */
static void conv_cols(const conv_params *cp, const float *xg, const float *ap,
                      const xb_sgemm_epilogue *ep, float *yg, char *sp) {
    const xb_conv_geom *cg = &cp->cg;
    float *xb = (float *)sp;
    cols_build(cp, xg, xb, (float *)(sp + align_up(cp->xpad_floats * sizeof(float))));
    for (int64_t p0 = 0; p0 < cg->P; p0 += NR) {
        int64_t np = cg->P - p0 < NR ? cg->P - p0 : NR;
        xb_sgemm_epilogue pe = *ep; /* the residual, like Y, from column p0 */
        if (pe.res) pe.res += p0;
        xb_sgemm_rows_ep(cg->cout_g, cg->K, ap, xb + p0, cp->koff, 0, yg + p0, cg->P, np, false,
                         &pe);
    }
}

/* d[q] = s[q * sw + b] for q < n, reading only s[0 .. n * sw): stride 2
 * in blocks of 8 from 16 floats (the last block overlapping). */
static void copy_phase_row(float *restrict d, const float *restrict s, int64_t n, int64_t sw,
                           int64_t b) {
    if (sw == 2 && n >= 8) {
        int64_t q = 0;
        /* Two loops rather than a pointer to odd8/even8, which GCC did not
         * inline (a call per 8 floats). */
        if (b) {
            for (; q + 8 <= n; q += 8) odd8(d + q, s + 2 * q);
            if (q < n) odd8(d + n - 8, s + 2 * (n - 8));
        } else {
            for (; q + 8 <= n; q += 8) even8(d + q, s + 2 * q);
            if (q < n) even8(d + n - 8, s + 2 * (n - 8));
        }
    } else {
        for (int64_t q = 0; q < n; q++) d[q] = s[q * sw + b];
    }
}

/* The stride phases EDGE reads (plan_edge), channel by channel: phase
 * (a, b) row r is input row r*sh + a, columns b, b + sw, ...; rows past
 * the input (when sh does not divide h) are zeros, never read. */
static void edge_build(const conv_params *cp, const float *xg, float *xb) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t H = cg->h, W = cg->w, WO = cg->wout, sh = cg->sh, sw = cg->sw;
    for (int64_t c = 0; c < cg->cin_g; c++)
        for (int64_t q = 0; q < sh * sw; q++) {
            if (cp->phase[q] < 0) continue;
            int64_t a = q / sw, b = q % sw;
            float *d = xb + (c * cp->nph + cp->phase[q]) * cp->plane;
            for (int64_t r = 0; r < cp->rq; r++, d += WO) {
                if (r * sh + a < H)
                    copy_phase_row(d, xg + (c * H + r * sh + a) * W, WO, sw, b);
                else
                    zero_floats(d, WO);
            }
        }
}

/* EDGE for one group of one image: every panel reads the input (or its
 * phases) in place under its mask set (plan_edge).  The panel's base goes
 * through uintptr_t: koff moves it back inside, the masks keep the reads
 * there. */
static void conv_edge(const conv_params *cp, const float *xg, const float *ap,
                      const xb_sgemm_epilogue *ep, float *yg, char *sp) {
    const xb_conv_geom *cg = &cp->cg;
    if (cg->sh > 1 || cg->sw > 1) {
        edge_build(cp, xg, (float *)sp);
        xg = (const float *)sp;
    }
    for (int64_t p0 = 0, pi = 0; p0 < cg->P; p0 += NR, pi++) {
        int64_t np = cg->P - p0 < NR ? cg->P - p0 : NR;
        xb_sgemm_epilogue pe = *ep; /* the residual, like Y, from column p0 */
        if (pe.res) pe.res += p0;
        const float *base = (const float *)((uintptr_t)xg + (uintptr_t)p0 * sizeof(float));
        xb_sgemm_rows_masked_ep(cg->cout_g, cg->K, ap, base, cp->koff,
                                cp->kmask + (size_t)cp->pclass[pi] * 2 * (size_t)cg->K,
                                yg + p0, cg->P, np, false, &pe);
    }
}

/* Copy one group's input into the zero-padded stride phases (xpad). */
static void shift_phases(const conv_params *cp, const float *xg, float *xpad) {
    const xb_conv_geom *cg = &cp->cg;
    if (cg->sh == 1 && cg->sw == 1 && cp->hq == cg->h + cg->pt + cg->pb &&
        cp->wq == cg->w + cg->pl + cg->pr) {
        shift_plane_s1(cp, xg, xpad);
        return;
    }
    const int64_t H = cg->h, W = cg->w, Wq = cp->wq;
    const int64_t sh = cg->sh, sw = cg->sw;
    /* Phase (a, b) of channel c holds padded-input rows a, a+sh, ... and
     * columns b, b+sw, ...: padded position (r*sh + a, q*sw + b) is input
     * (r*sh + a - pt, q*sw + b - pl), or 0 outside the input. */
    float *d = xpad;
    for (int64_t c = 0; c < cg->cin_g; c++) {
        const float *xc = xg + c * H * W;
        for (int64_t a = 0; a < sh; a++)
            for (int64_t b = 0; b < sw; b++) {
                int64_t lo, hi; /* columns q whose input column is inside */
                xb_window_taps(b - cg->pl, Wq, sw, W, &lo, &hi);
                for (int64_t r = 0; r < cp->hq; r++, d += Wq) {
                    int64_t ih = r * sh + a - cg->pt;
                    if (ih < 0 || ih >= H || lo >= hi) {
                        memset(d, 0, (size_t)Wq * sizeof(float));
                        continue;
                    }
                    const int64_t base = ih * W + b - cg->pl; /* input column q*sw + base */
                    for (int64_t q = 0; q < lo; q++) d[q] = 0.0f;
                    if (sw == 1)
                        memcpy(d + lo, xc + (base + lo), (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int64_t q = lo; q < hi; q++) d[q] = xc[base + q * sw];
                    for (int64_t q = hi; q < Wq; q++) d[q] = 0.0f;
                }
            }
    }
    memset(d, 0, (cp->xpad_floats - (size_t)(d - xpad)) * sizeof(float));
}

/* Junk-column SHIFT: outputs on the phase width into Y', then the junk is
 * dropped on the way to Y with the epilogue (bias, Relu). */
static void shift_junk(const conv_params *cp, const float *xpad, const float *ap,
                       const xb_sgemm_epilogue *ep, float *yg, float *yq) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t Wq = cp->wq, PQ = cp->pq;
    /* The micro-kernel reads each B row straight from the padded planes:
     * no packing pass at all. */
    for (int64_t p0 = 0; p0 < PQ; p0 += NR) {
        int64_t np = PQ - p0 < NR ? PQ - p0 : NR;
        xb_sgemm_rows(cg->cout_g, cg->K, ap, xpad + p0, cp->koff, yq + p0, PQ, np, false);
    }
    for (int64_t r = 0; r < cg->cout_g; r++) {
        float bv = ep->bias ? ep->bias[r] : 0.0f;
        const float *s = yq + r * PQ;
        float *o = yg + r * cg->P;
        for (int64_t oh = 0; oh < cg->hout; oh++, s += Wq, o += cg->wout)
            for (int64_t ow = 0; ow < cg->wout; ow++) {
                float v = s[ow] + bv;
                if (ep->res) v = v + ep->res[r * cg->P + oh * cg->wout + ow];
                o[ow] = ep->relu && !(v > 0.0f) ? 0.0f : v;
            }
    }
}

/* Copy a panel's row runs for every k from the phase buffer.  Runs whose
 * length is a multiple of 8 (output widths like 8 or 24) move in 8-float
 * blocks of fixed size, which compile to single vector moves. */
static void pack_runs(const float *xpad, const int64_t *koff, int64_t K, const int64_t *src,
                      const int64_t *dst, const int64_t *len, int64_t nrun, float *panel) {
    bool by8 = true;
    for (int64_t r = 0; r < nrun; r++) by8 = by8 && len[r] % 8 == 0;
    for (int64_t k = 0; k < K; k++) {
        const float *row = xpad + koff[k];
        float *d = panel + k * NR;
        for (int64_t r = 0; r < nrun; r++) {
            if (by8)
                for (int64_t t = 0; t < len[r]; t += 8)
                    memcpy(d + dst[r] + t, row + src[r] + t, 8 * sizeof(float));
            else
                for (int64_t t = 0; t < len[r]; t++) d[dst[r] + t] = row[src[r] + t];
        }
    }
}

/* Exact SHIFT: panels of NR consecutive output positions p = oh*wout + ow
 * go straight to Y.  Output (oh, ow) sits at oh*wq + ow of the phase
 * layout, so a panel within one row reads its B rows in place; so does a
 * panel whose first NR/2 columns end a row and whose rest starts the next
 * (the second half is read wq - wout floats further: xb_sgemm_rows_ep's
 * gap), which covers outputs NR/2 wide.  Any other panel spanning rows is
 * assembled from its row runs (the same for every k) into `panel`.  Same
 * sums as the junk path, so the same bits. */
static void shift_exact_run(const conv_params *cp, const float *xpad, const float *ap,
                            const xb_sgemm_epilogue *ep, float *yg, float *panel) {
    const xb_conv_geom *cg = &cp->cg;
    const int64_t WO = cg->wout, P = cg->P, K = cg->K, Wq = cp->wq;
    const int64_t *koff = cp->koff;
    for (int64_t p0 = 0; p0 < P; p0 += NR) {
        int64_t np = P - p0 < NR ? P - p0 : NR;
        int64_t oh = p0 / WO, ow = p0 % WO;
        xb_sgemm_epilogue pe = *ep; /* the residual, like Y, from column p0 */
        if (pe.res) pe.res += p0;
        if (ow + np <= WO || (WO - ow == NR / 2 && np - NR / 2 <= WO)) {
            int64_t gap = ow + np <= WO ? 0 : Wq - WO;
            xb_sgemm_rows_ep(cg->cout_g, K, ap, xpad + oh * Wq + ow, koff, gap, yg + p0, P, np,
                             false, &pe);
            continue;
        }
        int64_t src[NR], dst[NR], len[NR], nrun = 0;
        for (int64_t q = 0; q < np; nrun++) {
            int64_t p = p0 + q, n = WO - p % WO;
            if (n > np - q) n = np - q;
            src[nrun] = (p / WO) * Wq + p % WO, dst[nrun] = q, len[nrun] = n;
            q += n;
        }
        pack_runs(xpad, koff, K, src, dst, len, nrun, panel);
        xb_sgemm_panel_ep(cg->cout_g, K, ap, panel, yg + p0, P, np, false, &pe);
    }
}

/* SHIFT path for one group of one image; see the file comment. */
static void conv_shift(const conv_params *cp, const float *xg, const float *ap,
                       const xb_sgemm_epilogue *ep, float *yg, char *sp) {
    float *xpad = (float *)sp;
    sp += align_up(cp->xpad_floats * sizeof(float));
    shift_phases(cp, xg, xpad);
    if (cp->exact)
        shift_exact_run(cp, xpad, ap, ep, yg, (float *)sp);
    else
        shift_junk(cp, xpad, ap, ep, yg, (float *)sp);
}

/* The fused residual and Relu where no epilogue carries them: the same
 * operations as kernels/add.c and relu.c, so fused and unfused graphs give
 * the same bits. */
static void post_inplace(const conv_params *cp, float *y, const float *res, int64_t n) {
    if (res)
        for (int64_t i = 0; i < n; i++) y[i] = y[i] + res[i];
    if (cp->relu)
        for (int64_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

xb_status xb_op_conv_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)g, (void)ctx;
    const conv_params *cp = n->params;
    const xb_conv_geom *cg = &cp->cg;
    const float *x = XB_IN_F32(e, n, 0), *w = XB_IN_F32(e, n, 1);
    const float *bias = xb_k_has_in(n, 2) ? XB_IN_F32(e, n, 2) : NULL;
    const float *res = cp->residual ? XB_IN_F32(e, n, 3) : NULL;
    float *y = XB_OUT_F32(e, n, 0);
    const int64_t HW = cg->h * cg->w, P = cg->P, K = cg->K;
    /* Scratch: [packed weights of one group, if W is not constant] then the
     * path's buffers. */
    char *sp = (char *)(((uintptr_t)e->scratch + 63) & ~(uintptr_t)63);
    float *apack = NULL;
    if (!cp->wpack && cp->path != CONV_DEPTHWISE) {
        apack = (float *)sp;
        sp += align_up(xb_sgemm_packed_a_bytes(cg->cout_g, K));
    }
    for (int64_t img = 0; img < cg->n; img++) {
        const float *xi = x + img * cg->cin * HW;
        float *yi = y + img * cg->cout * P;
        const float *ri = res ? res + img * cg->cout * P : NULL;
        if (cp->path == CONV_DEPTHWISE) {
            conv_depthwise(cg, xi, w, bias, yi);
            post_inplace(cp, yi, ri, cg->cout * P);
            continue;
        }
        for (int64_t gi = 0; gi < cg->group; gi++) {
            const float *xg = xi + gi * cg->cin_g * HW;
            float *yg = yi + gi * cg->cout_g * P;
            const float *rg = ri ? ri + gi * cg->cout_g * P : NULL;
            const float *bg = bias ? bias + gi * cg->cout_g : NULL;
            const float *ap = cp->wpack ? cp->wpack + (size_t)gi * cp->wpack_floats : apack;
            if (!cp->wpack)
                xb_sgemm_pack_a(false, cg->cout_g, K, w + gi * cg->cout_g * K, K, apack);
            if (cp->path == CONV_SHIFT || cp->path == CONV_COLS || cp->path == CONV_EDGE) {
                xb_sgemm_epilogue ep = {.bias = bg, .res = rg, .relu = cp->relu};
                if (cp->path == CONV_EDGE)
                    conv_edge(cp, xg, ap, &ep, yg, sp);
                else if (cp->path == CONV_SHIFT)
                    conv_shift(cp, xg, ap, &ep, yg, sp);
                else
                    conv_cols(cp, xg, ap, &ep, yg, sp);
                continue;
            }
            /* Bias first, then the product accumulates onto it: one pass
             * over Y instead of two. */
            if (bg)
                for (int64_t r = 0; r < cg->cout_g; r++)
                    for (int64_t p = 0; p < P; p++) yg[r * P + p] = bg[r];
            if (cp->path == CONV_POINTWISE) {
                xb_sgemm_prepacked(cg->cout_g, P, K, ap, false, xg, P, yg, P, bg != NULL, sp);
                post_inplace(cp, yg, rg, cg->cout_g * P);
                continue;
            }
            float *panel = (float *)sp;
            for (int64_t p0 = 0; p0 < P; p0 += NR) {
                int64_t np = P - p0 < NR ? P - p0 : NR;
                xb_im2col_panel_f32(cg, xg, p0, np, NR, panel);
                xb_sgemm_panel(cg->cout_g, K, ap, panel, yg + p0, P, np, bg != NULL);
            }
            post_inplace(cp, yg, rg, cg->cout_g * P);
        }
    }
    return XB_OK;
}
