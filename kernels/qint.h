/* Exact integer convolution and matrix product with zero points, shared by
 * ConvInteger, QLinearConv, MatMulInteger and QLinearMatMul.
 *
 * igemm multiplies unsigned activation bytes by signed weight bytes.  The
 * ONNX ops allow either signedness on either side, so operands are mapped
 * onto that form by flipping the top bit, which adds or subtracts 128:
 *   x int8  -> x + 128 as uint8, zero point xz + 128;
 *   w uint8 -> w - 128 as int8,  zero point wz - 128.
 * (x - xz) and (w - wz) are unchanged, so the result is too.  Then
 *   sum_k (w - wz)(x - xz) = S - xz*rowsum(w) - wz*colsum(x) + K*wz*xz,
 * with S = sum_k w*x from igemm.  Conv padding uses the (mapped) x zero
 * point, real value 0, so the identity holds over the padded matrix.
 *
 * The int32 result is exact whenever it fits (|.| <= 255*255*K, so for
 * K <= 33025); beyond that it wraps, which the specs allow ("accumulation
 * may overflow if and only if in 32 bits").  Intermediate sums never
 * overflow for K <= XB_IGEMM_KMAX, which prepare checks. */
#ifndef XBAR_QINT_H
#define XBAR_QINT_H

#include "runtime/exec.h"
#include "runtime/ir.h"
#include "kernels/conv_geom.h"

static inline int32_t xb_qint_xzp(int32_t zp, xb_dtype dt) { return dt == XB_I8 ? zp + 128 : zp; }
static inline int32_t xb_qint_wzp(int32_t zp, xb_dtype dt) { return dt == XB_U8 ? zp - 128 : zp; }

/* Read element i of a u8/i8/i32 buffer as int32. */
int32_t xb_qint_get(const void *p, xb_dtype dt, int64_t i);

/* Fail unless t is u8 or i8; `what` names it. */
xb_status xb_qint_check_8bit(const xb_tensor *t, const char *what, xb_ctx *ctx);

/* Zero point / scale input i: one value (*step = 0) or `per` values
 * (*step = 1) in a tensor whose dimensions are all 1 but one.  Anything
 * else (values varying by batch entry) is unsupported. */
xb_status xb_qint_per_vector(const xb_graph *g, const xb_node *n, int i, const char *what,
                             int64_t per, const char *per_what, int64_t *step, xb_ctx *ctx);

/* --- convolution ------------------------------------------------------- */
typedef struct {
    xb_conv_geom cg;
    xb_dtype xdt, wdt;
    size_t off_xu, off_xp, off_wt, off_wp, off_rs, off_cs, scratch; /* bytes */
} xb_qint_conv;

/* Geometry from inputs 0 (x) and w_in (w); lays out `base` bytes of the
 * caller's own scratch first, then ours.  Checks K. */
xb_status xb_qint_conv_init(xb_qint_conv *c, const xb_graph *g, const xb_node *n, int w_in,
                            size_t base, xb_ctx *ctx);
/* Exact acc[Cout][P] of one image.  xz: x zero point (raw value of x's
 * type); wz: w zero points as stored (w's type, NULL = 0), element
 * o * wz_step for output channel o (wz_step 0 = per tensor). */
void xb_qint_conv_image(const xb_qint_conv *c, const void *x_img, const void *w, int32_t xz,
                        const void *wz, int64_t wz_step, uint8_t *scratch, int32_t *acc);

/* --- matrix product (numpy.matmul broadcasting) ------------------------ */
#define XB_QINT_MAX_RANK XB_MAX_RANK
typedef struct {
    xb_dtype adt, bdt;
    int64_t M, K, N;
    int64_t batch;                  /* broadcast batch count */
    int brank;                      /* rank of the batch shape */
    int64_t bshape[XB_MAX_RANK];    /* broadcast batch shape */
    int64_t astride[XB_MAX_RANK];   /* batch strides in matrices (0 = broadcast) */
    int64_t bstride[XB_MAX_RANK];
    size_t off_xu, off_xp, off_wt, off_wp, off_rs, off_cs, off_s, scratch;
} xb_qint_mm;

/* Shapes from inputs 0 (A, [..., M, K] or [K]) and b_in (B, [..., K, N] or
 * [K]); sets y's shape.  Scratch after `base` bytes of the caller's. */
xb_status xb_qint_mm_init(xb_qint_mm *m, const xb_graph *g, const xb_node *n, int b_in,
                          xb_shape *y, size_t base, xb_ctx *ctx);
/* Exact acc[M][N] of batch element bi.  Zero points as stored (A's / B's
 * type, NULL = 0): az[m * az_step] per row of A, bz[n * bz_step] per
 * column of B (step 0 = per tensor). */
void xb_qint_mm_batch(const xb_qint_mm *m, const void *a, const void *b, int64_t bi,
                      const void *az, int64_t az_step, const void *bz, int64_t bz_step,
                      uint8_t *scratch, int32_t *acc);

#endif
