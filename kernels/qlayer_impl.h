/* Private part of the XbarQConv / XbarQGemm implementation (the public
 * contract is qlayer.h).  node->params of both ops points at an
 * xb_qlayer_priv whose first member is the public xb_qlayer, so
 * xb_qlayer_get can hand out &priv->q. */
#ifndef XBAR_QLAYER_IMPL_H
#define XBAR_QLAYER_IMPL_H

#include "kernels/conv_geom.h"
#include "kernels/qlayer.h"
#include "kernels/qmath.h"
#include "kernels/registry.h"

/* How the reference path (no engine) feeds a conv's kernel. */
typedef enum {
    XB_QC_UNFOLD = 0, /* im2col into the packed layout (igemm.h) */
    XB_QC_UNFOLD4,    /* channels-interleaved planes, unfolded (im2col_packed.h) */
    XB_QC_DIRECT4,    /* channels-interleaved planes read in place, compact rows */
    XB_QC_WIDE4,      /* the same planes read in place as one long row (below) */
    XB_QC_SHIFT4,     /* shifted-word planes read in place as one long row */
} xb_qconv_path;

typedef struct xb_qlayer_priv {
    xb_qlayer q;      /* must stay first */
    xb_conv_geom cg;  /* conv only */
    int64_t M;        /* gemm: rows of x (= q.P) */
    int8_t *wpack;    /* [groups][N][Kp], igemm's packed weights */
    int8_t *wpack4;   /* conv on the channels-interleaved path (xb_c4_useful):
                       * [groups][N][K4] in the k order of xb_im2col_u8_packed4,
                       * zero for padding channels; else NULL */
    int64_t K4;       /* Cin/group rounded up to 4, times kh * kw */
    int64_t *xoff;    /* [K4/4] when the channels-interleaved path runs as a
                       * direct convolution (xb_igemm_direct: stride-1 rows
                       * of a width it runs fast), else NULL */
    int8_t *wpackt;   /* gemm: xb_igemm_pack_wt's transposed weights, for
                       * M <= XB_IGEMM_ROWS_MAX_M; else NULL */
    int8_t *wshift;   /* XB_QC_SHIFT4: [groups][N][4 * Kqs] in its k order */
    int64_t Kqs;      /* k-quads of the shifted-word path */
    xb_qconv_path path;
    /* Wide paths: the planes' rows are arow words apart, and the kernel
     * reads up to Pw words past each quad's offset (igemm.h,
     * xb_igemm_direct_extent). */
    int64_t arow, Pw;
    size_t planes_bytes; /* planes (+ the tail a wide read may touch) */
    bool relu;        /* attribute relu = 1: y = max(y, 0) in the epilogue */
    bool residual;    /* conv input 4: y = y + r before the relu (fuse_qrelu.c) */
    /* Input x is u8 codes already (its producer quantized for this layer,
     * frontend/chain_qcodes.c), so the quantization step is skipped. */
    bool x_codes;
    /* Attributes y_scale / y_zero_point / y_bits: the output is the u8
     * codes of the next layer's input, quantized as that layer would. */
    bool y_codes;
    float y_scale, y_fz, y_fh;
    float *mult;      /* [groups*N]: x_scale * w_scale[n], as the contract computes it */
    /* Scratch layout (byte offsets into the exec's scratch area). */
    size_t off_acc, off_codes, off_col, off_xp, scratch;
} xb_qlayer_priv;

void xb_qlayer_priv_free(void *p);

/* The codes of node n's input x when the exec's caller handed them over
 * (xb_exec.input_codes, xb_qlayer_input_quant), else NULL. */
static inline const uint8_t *xb_ql_given_codes(const xb_graph *g, const xb_node *n,
                                               const xb_exec *e) {
    return e->input_codes && g->n_inputs > 0 && n->in[0] == g->inputs[0] ? e->input_codes : NULL;
}

/* The epilogue loops, with restrict so that they vectorise (the output
 * may be bytes, which could otherwise alias the accumulators).  The
 * expressions are the contract's (qlayer.h) and xb_quantize_u8's. */
static inline void xb_ql_f32(const int32_t *restrict a, int64_t n, int32_t corr, float m, float b,
                             bool relu, const float *restrict res, float *restrict y) {
    /* The same expressions as separate Add and Relu nodes (add.c, relu.c),
     * so fusing them changes no bit. */
    if (res) {
        for (int64_t p = 0; p < n; p++) {
            float v = (float)(a[p] - corr) * m + b + res[p];
            y[p] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
        return;
    }
    if (relu)
        for (int64_t p = 0; p < n; p++) {
            float v = (float)(a[p] - corr) * m + b;
            y[p] = v > 0.0f ? v : 0.0f;
        }
    else
        for (int64_t p = 0; p < n; p++) y[p] = (float)(a[p] - corr) * m + b;
}
static inline void xb_ql_u8(const int32_t *restrict a, int64_t n, int32_t corr, float m, float b,
                            bool relu, const float *restrict res, float ys, float fz, float fh,
                            uint8_t *restrict y) {
    if (res) { /* a residual: the Add, then the Relu, then the code */
        for (int64_t p = 0; p < n; p++) {
            float v = (float)(a[p] - corr) * m + b + res[p];
            v = relu && !(v > 0.0f) ? 0.0f : v;
            y[p] = (uint8_t)(int32_t)xb_clampf(rintf(v / ys) + fz, 0.0f, fh);
        }
        return;
    }
    /* After the Relu, v is in [0, +inf] (a NaN fails v > 0 and becomes 0),
     * so rint(v / ys) + fz is too (ys > 0, fz >= 0): xb_clampf's lower
     * bound and its NaN case never apply, leaving one comparison with fh.
     * The same codes with fewer vector operations (GCC 12 -O3: the lower
     * bound's compare and blend per 16 codes go, the upper bound's blend
     * moves to the packed bytes, one per 64). */
    if (relu)
        for (int64_t p = 0; p < n; p++) {
            float v = (float)(a[p] - corr) * m + b;
            v = v > 0.0f ? v : 0.0f;
            const float c = rintf(v / ys) + fz;
            y[p] = (uint8_t)(int32_t)(c < fh ? c : fh);
        }
    else
        for (int64_t p = 0; p < n; p++) {
            float v = (float)(a[p] - corr) * m + b;
            y[p] = (uint8_t)(int32_t)xb_clampf(rintf(v / ys) + fz, 0.0f, fh);
        }
}

/* Rows of n >= XB_QL_CHUNK go in chunks of XB_QL_CHUNK (a constant trip
 * count the compiler turns into whole vectors: 64 bytes of codes), the
 * last chunk overlapping its predecessor: it recomputes a few outputs from
 * the same inputs, so they get the same values.  The vectorised loop over
 * a row of 784 or 100 would otherwise end in a scalar tail of up to 63. */
#define XB_QL_CHUNK 64
static inline void xb_ql_row_f32(const int32_t *a, int64_t n, int32_t corr, float m, float b,
                                 bool relu, const float *res, float *y) {
    if (n < XB_QL_CHUNK) {
        xb_ql_f32(a, n, corr, m, b, relu, res, y);
        return;
    }
    for (int64_t p = 0;; p += XB_QL_CHUNK) {
        if (p + XB_QL_CHUNK > n) p = n - XB_QL_CHUNK;
        xb_ql_f32(a + p, XB_QL_CHUNK, corr, m, b, relu, res ? res + p : NULL, y + p);
        if (p + XB_QL_CHUNK >= n) break;
    }
}
static inline void xb_ql_row_u8(const int32_t *a, int64_t n, int32_t corr, float m, float b,
                                bool relu, const float *res, float ys, float fz, float fh,
                                uint8_t *y) {
    if (n < XB_QL_CHUNK) {
        xb_ql_u8(a, n, corr, m, b, relu, res, ys, fz, fh, y);
        return;
    }
    for (int64_t p = 0;; p += XB_QL_CHUNK) {
        if (p + XB_QL_CHUNK > n) p = n - XB_QL_CHUNK;
        xb_ql_u8(a + p, XB_QL_CHUNK, corr, m, b, relu, res ? res + p : NULL, ys, fz, fh, y + p);
        if (p + XB_QL_CHUNK >= n) break;
    }
}

/* One output row of n values of channel row r:
 *     v = (float)(a[p] - x_zp * rowsum[r]) * mult[r] + bias[r],
 * plus res[p] with a residual (res non-NULL: the row of input 4),
 * then v > 0 ? v : 0 with relu, then either stored as float, or as the
 * consumer's code clamp(rint(v / y_scale) + y_zp, 0, 2^y_bits - 1) with
 * exactly xb_quantize_u8's expression: the consumer quantizing the stored
 * float (after any MaxPool: a max commutes with a monotone map) would get
 * the same code.  `y` is the output tensor's buffer, `at` the element. */
static inline void xb_qlayer_store_row(const xb_qlayer_priv *pr, int64_t r, const int32_t *a,
                                       int64_t n, const float *res, void *y, int64_t at) {
    const xb_qlayer *q = &pr->q;
    const int32_t corr = q->x_zp * q->w_rowsum[r];
    const float m = pr->mult[r], b = q->bias ? q->bias[r] : 0.0f;
    if (pr->y_codes)
        xb_ql_row_u8(a, n, corr, m, b, pr->relu, res, pr->y_scale, pr->y_fz, pr->y_fh,
                     (uint8_t *)y + at);
    else
        xb_ql_row_f32(a, n, corr, m, b, pr->relu, res, (float *)y + at);
}

/* Shared prepare: reads and checks the quantization attributes and the
 * w_scale / bias inputs, checks the weight range, computes rowsums, packed
 * weights, multipliers and the layer index.  q.kind, K, N, groups, P and w
 * must already be set by the caller. */
xb_status xb_qlayer_prepare_common(xb_graph *g, xb_node *n, xb_qlayer_priv *pr, xb_ctx *ctx);

/* acc[N][P] = W_g x col for group `group` through the exec's engine, or the
 * reference kernel when none is installed.  `x_kp` is [K][P] codes; the
 * reference kernel packs it into `xp_buf` (xb_igemm_xpack_bytes(K, P)). */
xb_status xb_qlayer_matmul(const xb_node *n, const xb_qlayer_priv *pr, xb_exec *e, int group,
                           const uint8_t *x_kp, uint8_t *xp_buf, int32_t *acc, xb_ctx *ctx);

#endif
