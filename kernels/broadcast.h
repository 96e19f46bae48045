/* Multidirectional (numpy-style) broadcasting for binary elementwise ops.
 *
 * Rule (ONNX Broadcasting.md, same as numpy): align shapes at the right;
 * each pair of dimensions must be equal or one of them 1, and the output
 * takes the larger.  A missing leading dimension counts as 1.
 *
 * Prepare builds an xb_bcast plan once: output dimensions and the element
 * strides of each input, 0 where that input is broadcast.  Dimensions of
 * size 1 are dropped and neighbours whose strides chain are merged, so the
 * common cases collapse on their own:
 *   equal shapes            -> one dim, strides (1, 1)
 *   tensor op scalar        -> one dim, strides (1, 0)
 *   [N,C,H,W] op [C,1,1]    -> [N, C, H*W] with b strides (0, 1, 0)
 * The run loop walks the outer dims with a counter and runs the innermost
 * dim as a tight loop specialised on which side is contiguous, so the
 * compiler can vectorise it.  Nothing is allocated while running. */
#ifndef XBAR_BROADCAST_H
#define XBAR_BROADCAST_H

#include <stdint.h>

#include "runtime/exec.h"
#include "runtime/ir.h"

typedef struct {
    int rank; /* >= 1 */
    int64_t d[XB_MAX_RANK];
    int64_t sa[XB_MAX_RANK], sb[XB_MAX_RANK];
    int64_t n; /* output element count */
} xb_bcast;

/* Broadcast output shape of a and b; fails naming both shapes. */
xb_status xb_bcast_shape(const xb_shape *a, const xb_shape *b, xb_shape *out, xb_ctx *ctx);
/* Plan for shapes already known to broadcast (xb_bcast_shape succeeded). */
void xb_bcast_plan(const xb_shape *a, const xb_shape *b, xb_bcast *p);

/* Prepare of a binary elementwise op: 2 inputs of the same dtype (one of
 * the `ok` dtypes, XB_UNDEF-terminated), 1 output of that dtype and the
 * broadcast shape; stores the plan in n->params. */
xb_status xb_binary_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx);

/* Apply EXPR (an expression in the element values `a` and `b` of type T)
 * over the plan P, reading pointers PA, PB and writing PY. */
#define XB_BCAST_LOOP(P, T, PA, PB, PY, EXPR) XB_BCAST_LOOP_T(P, T, T, T, PA, PB, PY, EXPR)

/* The same with operand types TA, TB and result type TY (comparisons write
 * bool bytes; Pow takes an integer exponent). */
#define XB_BCAST_LOOP_T(P, TA, TB, TY, PA, PB, PY, EXPR)                                           \
    do {                                                                                           \
        const xb_bcast *p_ = (P);                                                                  \
        const TA *pa_ = (PA);                                                                      \
        const TB *pb_ = (PB);                                                                      \
        TY *py_ = (PY);                                                                            \
        int r_ = p_->rank;                                                                         \
        int64_t in_ = p_->d[r_ - 1];                                                               \
        int64_t outer_ = in_ > 0 ? p_->n / in_ : 0;                                                \
        int64_t ia_ = p_->sa[r_ - 1], ib_ = p_->sb[r_ - 1];                                        \
        int64_t idx_[XB_MAX_RANK] = {0};                                                           \
        int64_t oa_ = 0, ob_ = 0;                                                                  \
        for (int64_t o_ = 0; o_ < outer_; o_++) {                                                  \
            const TA *ra_ = pa_ + oa_;                                                             \
            const TB *rb_ = pb_ + ob_;                                                             \
            TY *ry_ = py_ + o_ * in_;                                                              \
            if (ia_ && ib_) {                                                                      \
                for (int64_t i_ = 0; i_ < in_; i_++) {                                             \
                    TA a = ra_[i_];                                                                \
                    TB b = rb_[i_];                                                                \
                    ry_[i_] = (EXPR);                                                              \
                }                                                                                  \
            } else if (ia_) {                                                                      \
                const TB b = rb_[0];                                                               \
                for (int64_t i_ = 0; i_ < in_; i_++) {                                             \
                    TA a = ra_[i_];                                                                \
                    ry_[i_] = (EXPR);                                                              \
                }                                                                                  \
            } else if (ib_) {                                                                      \
                const TA a = ra_[0];                                                               \
                for (int64_t i_ = 0; i_ < in_; i_++) {                                             \
                    TB b = rb_[i_];                                                                \
                    ry_[i_] = (EXPR);                                                              \
                }                                                                                  \
            } else {                                                                               \
                const TA a = ra_[0];                                                               \
                const TB b = rb_[0];                                                               \
                for (int64_t i_ = 0; i_ < in_; i_++) ry_[i_] = (EXPR);                             \
            }                                                                                      \
            for (int k_ = r_ - 2; k_ >= 0; k_--) {                                                 \
                oa_ += p_->sa[k_];                                                                 \
                ob_ += p_->sb[k_];                                                                 \
                if (++idx_[k_] < p_->d[k_]) break;                                                 \
                oa_ -= p_->sa[k_] * p_->d[k_];                                                     \
                ob_ -= p_->sb[k_] * p_->d[k_];                                                     \
                idx_[k_] = 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Element pointers of a binary node's operands inside an exec. */
#define XB_BIN_A(e, n, T) ((const T *)(e)->buf[(n)->in[0]])
#define XB_BIN_B(e, n, T) ((const T *)(e)->buf[(n)->in[1]])
#define XB_BIN_Y(e, n, T) ((T *)(e)->buf[(n)->out[0]])

#endif
