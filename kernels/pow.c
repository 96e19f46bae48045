/* Pow (ai.onnx 7, 12, 13, 15): y = x ^ e with multidirectional
 * broadcasting (kernels/broadcast.h); the output has the base's type.
 *
 * Version 7 takes f32 base and exponent of the same type.  From 12 the base
 * may also be i32 or i64 and the exponent any of f32, u8, i8, i32, i64
 * (PyTorch exports x ** 2 with an integer exponent at some opsets).
 *   - f32 ^ f32 uses powf, which is what ONNX Runtime calls;
 *   - every other pair is evaluated in double and converted once, as numpy
 *     (the spec's reference) promotes float32 ** int64 and int ** float to
 *     float64.  Integer results are truncated toward zero (int32 ** 0.5 is
 *     the truncated root, 2 ** -1 is 0) and saturate at the type's limits
 *     instead of overflowing (the spec leaves overflow undefined). */
#include <math.h>

#include "kernels/eltwise.h"
#include "kernels/registry.h"

static const xb_dtype base_types_12[] = {XB_F32, XB_I32, XB_I64, XB_UNDEF};
static const xb_dtype exp_types[] = {XB_F32, XB_U8, XB_I8, XB_I32, XB_I64, XB_UNDEF};

xb_status xb_op_pow_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 2, 2, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    const xb_tensor *ex = xb_in_t(g, n, 1);
    XB_TRY(xb_k_dtype_in(n, x->dtype, n->opset >= 12 ? base_types_12 : xb_k_f32_only, ctx));
    if (n->opset < 12 && ex->dtype != x->dtype)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "exponent '%s' is %s but the base is %s (mixed types from opset 12)",
                       ex->name, xb_dtype_name(ex->dtype), xb_dtype_name(x->dtype));
    int ok = 0;
    for (const xb_dtype *t = exp_types; *t != XB_UNDEF; t++) ok |= *t == ex->dtype;
    if (!ok)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "exponent '%s' is %s (f32, u8, i8, i32, i64 supported)", ex->name,
                       xb_dtype_name(ex->dtype));
    xb_shape s;
    XB_TRY(xb_bcast_shape(&x->shape, &ex->shape, &s, ctx));
    xb_bcast *p = xb_malloc(ctx, sizeof *p);
    if (!p) return ctx->status;
    xb_bcast_plan(&x->shape, &ex->shape, p);
    n->params = p;
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = x->dtype;
    y->shape = s;
    return XB_OK;
}

/* double -> integer: truncate, saturate, NaN -> 0 (never undefined in C).
 * (double)INT64_MAX rounds up to 2^63, so >= catches every value that does
 * not fit; the lower limits are powers of two and exact. */
static inline int64_t d2i(double v, int64_t lo, int64_t hi) {
    if (isnan(v)) return 0;
    if (v <= (double)lo) return lo;
    if (v >= (double)hi) return hi;
    return (int64_t)v;
}
static inline float to_f32(double v) { return (float)v; }
static inline int32_t to_i32(double v) { return (int32_t)d2i(v, INT32_MIN, INT32_MAX); }
static inline int64_t to_i64(double v) { return d2i(v, INT64_MIN, INT64_MAX); }

#define POW_D(TA, TB, TY, CONV)                                                                    \
    XB_BCAST_LOOP_T(p, TA, TB, TY, XB_BIN_A(e, n, TA), XB_BIN_B(e, n, TB), XB_BIN_Y(e, n, TY),    \
                    CONV(pow((double)a, (double)b)))
/* One base type against every exponent type. */
#define POW_BASE(TA, CONV)                                                                         \
    switch (g->tensors[n->in[1]].dtype) {                                                          \
    case XB_F32: POW_D(TA, float, TA, CONV); break;                                                \
    case XB_U8: POW_D(TA, uint8_t, TA, CONV); break;                                               \
    case XB_I8: POW_D(TA, int8_t, TA, CONV); break;                                                \
    case XB_I32: POW_D(TA, int32_t, TA, CONV); break;                                              \
    case XB_I64: POW_D(TA, int64_t, TA, CONV); break;                                              \
    default: break;                                                                                \
    }

xb_status xb_op_pow_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const xb_bcast *p = n->params;
    switch (g->tensors[n->in[0]].dtype) {
    case XB_F32:
        if (g->tensors[n->in[1]].dtype == XB_F32) {
            XB_BCAST_LOOP(p, float, XB_BIN_A(e, n, float), XB_BIN_B(e, n, float),
                          XB_BIN_Y(e, n, float), powf(a, b));
        } else {
            POW_BASE(float, to_f32);
        }
        break;
    case XB_I32: POW_BASE(int32_t, to_i32); break;
    case XB_I64: POW_BASE(int64_t, to_i64); break;
    default: break;
    }
    return XB_OK;
}
