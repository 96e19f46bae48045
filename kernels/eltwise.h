/* Shared pieces of the elementwise math ops (issue 14): dtype checks, the
 * unary prepare and loop, the variadic ops' broadcasting (Min, Max, Sum,
 * Mean: ONNX Broadcasting.md, multidirectional, over any number of inputs)
 * and the comparison loop that writes bool bytes.
 *
 * bool tensors (XB_BOOL) hold one byte per element, 0 or 1: comparisons and
 * Not write exactly those, so outputs compare byte for byte with ONNX's;
 * readers (Where, Not, Cast) still take any nonzero byte as true. */
#ifndef XBAR_ELTWISE_H
#define XBAR_ELTWISE_H

#include <stdint.h>

#include "kernels/broadcast.h"
#include "kernels/kutil.h"

/* XB_UNDEF-terminated dtype lists used by several ops. */
extern const xb_dtype xb_k_f32_only[];   /* f32 */
extern const xb_dtype xb_k_numeric[];    /* f32, u8, i8, i32, i64 */
extern const xb_dtype xb_k_signed[];     /* f32, i8, i32, i64 */
extern const xb_dtype xb_k_bool_only[];  /* bool */

/* Fail with UNSUPPORTED unless `dt` is in `ok`; the message names the op,
 * `dt` and the supported list. */
xb_status xb_k_dtype_in(const xb_node *n, xb_dtype dt, const xb_dtype *ok, xb_ctx *ctx);

/* Prepare of a unary elementwise op: one input whose dtype is in `ok`, one
 * output of the same dtype and shape. */
xb_status xb_unary_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx);

/* y[i] = EXPR for every element, with `x` the input element of type T. */
#define XB_UNARY_LOOP(G, N, E, T, EXPR)                                                            \
    do {                                                                                           \
        const T *xp_ = (const T *)(E)->buf[(N)->in[0]];                                            \
        T *yp_ = (T *)(E)->buf[(N)->out[0]];                                                       \
        int64_t len_ = xb_shape_numel(&(G)->tensors[(N)->in[0]].shape);                            \
        for (int64_t i_ = 0; i_ < len_; i_++) {                                                    \
            T x = xp_[i_];                                                                         \
            yp_[i_] = (EXPR);                                                                      \
        }                                                                                          \
    } while (0)

/* Variadic elementwise ops fold their inputs left to right:
 * y = f(...f(f(x0, x1), x2)..., xn-1).  Two inputs (the common case) run as
 * one binary pass; otherwise x0 is first broadcast-copied into y, and each
 * further input is combined into y in place (y already has the output
 * shape, so the plan reads it with its own strides). */
typedef struct {
    int n_in;
    int rank;                 /* of the first copy, >= 1 */
    int64_t od[XB_MAX_RANK];  /* output dims for the first copy */
    int64_t is0[XB_MAX_RANK]; /* x0's strides on them, 0 where broadcast */
    xb_bcast step[];          /* n_in == 2: [0] = plan(x0, x1); else [k-1] = plan(y, xk) */
} xb_variadic;

/* Prepare of Min/Max/Sum/Mean: at least one input, all of one dtype in
 * `ok`; the output takes the broadcast shape of all inputs.  Before opset 8
 * (version 6 of these ops) inputs must all have the same shape: broadcasting
 * came with version 8. */
xb_status xb_variadic_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx);
/* The first copy (x0 broadcast into y) of n_in != 2. */
void xb_variadic_first(const xb_graph *g, const xb_node *n, xb_exec *e);

/* Run the fold with EXPR in `a` (accumulated) and `b` (next input) of type T. */
#define XB_VARIADIC_LOOP(G, N, E, T, EXPR)                                                         \
    do {                                                                                           \
        const xb_variadic *v_ = (N)->params;                                                       \
        T *y_ = (T *)(E)->buf[(N)->out[0]];                                                        \
        if (v_->n_in == 2) {                                                                       \
            XB_BCAST_LOOP(&v_->step[0], T, XB_BIN_A(E, N, T), XB_BIN_B(E, N, T), y_, EXPR);        \
        } else {                                                                                   \
            xb_variadic_first(G, N, E);                                                            \
            for (int k_ = 1; k_ < v_->n_in; k_++)                                                  \
                XB_BCAST_LOOP(&v_->step[k_ - 1], T, y_, (const T *)(E)->buf[(N)->in[k_]], y_,      \
                              EXPR);                                                               \
        }                                                                                          \
    } while (0)

/* Comparison ops (Equal, Less, Greater): binary broadcast prepare on the
 * `ok` dtypes, bool output. */
xb_status xb_compare_prepare(xb_graph *g, xb_node *n, const xb_dtype *ok, xb_ctx *ctx);

/* Run a comparison: y = (uint8_t)(EXPR) over `a` and `b` of the inputs'
 * type.  bool inputs are read as bytes (0 or 1). */
#define XB_COMPARE_CASE(N, E, XT, T, EXPR)                                                         \
    case XT:                                                                                       \
        XB_BCAST_LOOP_T((const xb_bcast *)(N)->params, T, T, uint8_t, XB_BIN_A(E, N, T),           \
                        XB_BIN_B(E, N, T), XB_BIN_Y(E, N, uint8_t), (uint8_t)(EXPR));              \
        break
#define XB_COMPARE_RUN(G, N, E, EXPR)                                                              \
    do {                                                                                           \
        switch ((G)->tensors[(N)->in[0]].dtype) {                                                  \
            XB_COMPARE_CASE(N, E, XB_F32, float, EXPR);                                            \
            XB_COMPARE_CASE(N, E, XB_U8, uint8_t, EXPR);                                           \
            XB_COMPARE_CASE(N, E, XB_I8, int8_t, EXPR);                                            \
            XB_COMPARE_CASE(N, E, XB_I32, int32_t, EXPR);                                          \
            XB_COMPARE_CASE(N, E, XB_I64, int64_t, EXPR);                                          \
            XB_COMPARE_CASE(N, E, XB_BOOL, uint8_t, EXPR);                                         \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)

#endif
