/* Private part of the XbarQConv / XbarQGemm implementation (the public
 * contract is qlayer.h).  node->params of both ops points at an
 * xb_qlayer_priv whose first member is the public xb_qlayer, so
 * xb_qlayer_get can hand out &priv->q. */
#ifndef XBAR_QLAYER_IMPL_H
#define XBAR_QLAYER_IMPL_H

#include "kernels/conv_geom.h"
#include "kernels/qlayer.h"
#include "kernels/registry.h"

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
    bool relu;        /* attribute relu = 1: y = max(y, 0) in the epilogue */
    float *mult;      /* [groups*N]: x_scale * w_scale[n], as the contract computes it */
    /* Scratch layout (byte offsets into the exec's scratch area). */
    size_t off_acc, off_codes, off_col, off_xp, scratch;
} xb_qlayer_priv;

void xb_qlayer_priv_free(void *p);

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
