/* Cast (ai.onnx 6, 9, 13) between f32, u8, i8, i32, i64 and bool.
 *
 * `to` is a TensorProto.DataType code.  The spec leaves out-of-range
 * conversions undefined; we pick defined behaviour that never traps:
 *   - float -> integer truncates toward zero and saturates at the target's
 *     limits; NaN becomes 0 (C leaves out-of-range float->int undefined, so
 *     the clamp is needed for safety anyway, and it matches what
 *     saturating hardware casts do);
 *   - integer -> narrower integer wraps modulo 2^bits, as numpy's astype
 *     (the ONNX reference) does; gcc defines the signed narrowing this way;
 *   - anything -> bool is (x != 0), so NaN -> true as in numpy;
 *   - bool -> number is 0 or 1.
 * Strings, float16/double and the wider unsigned types are unsupported. */
#include <math.h>
#include <stdint.h>

#include "kernels/kutil.h"
#include "kernels/registry.h"

/* TensorProto.DataType codes (onnx.proto). */
static xb_dtype from_onnx(int64_t code) {
    switch (code) {
    case 1: return XB_F32;
    case 2: return XB_U8;
    case 3: return XB_I8;
    case 6: return XB_I32;
    case 7: return XB_I64;
    case 9: return XB_BOOL;
    default: return XB_UNDEF;
    }
}

xb_status xb_op_cast_prepare(xb_graph *g, xb_node *n, xb_ctx *ctx) {
    XB_TRY(xb_k_arity(n, 1, 1, 1, 1, ctx));
    const xb_tensor *x = xb_in_t(g, n, 0);
    if (!xb_k_dtype_ok(x->dtype))
        return xb_fail(ctx, XB_ERR_UNSUPPORTED, "Cast from %s", xb_dtype_name(x->dtype));
    const xb_attr *to = xb_attr_find(n, "to");
    if (!to || to->type != XB_ATTR_INT)
        return xb_fail(ctx, XB_ERR_INVALID, "missing required attribute 'to'");
    xb_dtype dt = from_onnx(to->i);
    if (dt == XB_UNDEF)
        return xb_fail(ctx, XB_ERR_UNSUPPORTED,
                       "Cast to ONNX data type %lld (supported: float, uint8, int8, int32, int64, "
                       "bool)",
                       (long long)to->i);
    xb_tensor *y = xb_out_t(g, n, 0);
    y->dtype = dt;
    y->shape = x->shape;
    return XB_OK;
}

static int64_t f2i(float v, int64_t lo, int64_t hi) {
    if (isnan(v)) return 0;
    /* (float)hi rounds up to a power of two for i32/i64, so >= catches
     * every value that does not fit; lo is a power of two and exact. */
    if (v >= (float)hi) return hi;
    if (v <= (float)lo) return lo;
    return (int64_t)v;
}

/* Loop over the source elements with v = RD (the raw element, or a
 * normalised one for bool) and store BODY's conversion. */
#define FOR_EACH_R(T, RD, BODY)                                                                    \
    do {                                                                                           \
        const T *s_ = (const T *)src;                                                              \
        for (int64_t i = 0; i < len; i++) {                                                        \
            T v = RD;                                                                              \
            BODY;                                                                                  \
        }                                                                                          \
    } while (0)
#define FOR_EACH(T, BODY) FOR_EACH_R(T, s_[i], BODY)

#define FROM_INT(T, RD)                                                                                \
    switch (y->dtype) {                                                                            \
    case XB_F32: FOR_EACH_R(T, RD, ((float *)dst)[i] = (float)v); break;                                 \
    case XB_U8: FOR_EACH_R(T, RD, ((uint8_t *)dst)[i] = (uint8_t)v); break;                              \
    case XB_I8: FOR_EACH_R(T, RD, ((int8_t *)dst)[i] = (int8_t)(uint8_t)v); break;                       \
    case XB_I32: FOR_EACH_R(T, RD, ((int32_t *)dst)[i] = (int32_t)(uint32_t)v); break;                   \
    case XB_I64: FOR_EACH_R(T, RD, ((int64_t *)dst)[i] = (int64_t)v); break;                             \
    case XB_BOOL: FOR_EACH_R(T, RD, ((uint8_t *)dst)[i] = v != 0); break;                                \
    case XB_UNDEF: break;                                                                          \
    }

xb_status xb_op_cast_run(const xb_graph *g, const xb_node *n, xb_exec *e, xb_ctx *ctx) {
    (void)ctx;
    const xb_tensor *x = &g->tensors[n->in[0]];
    const xb_tensor *y = &g->tensors[n->out[0]];
    const void *src = e->buf[n->in[0]];
    void *dst = e->buf[n->out[0]];
    int64_t len = xb_shape_numel(&x->shape);
    switch (x->dtype) {
    case XB_F32:
        switch (y->dtype) {
        case XB_F32: FOR_EACH(float, ((float *)dst)[i] = v); break;
        case XB_U8: FOR_EACH(float, ((uint8_t *)dst)[i] = (uint8_t)f2i(v, 0, UINT8_MAX)); break;
        case XB_I8:
            FOR_EACH(float, ((int8_t *)dst)[i] = (int8_t)f2i(v, INT8_MIN, INT8_MAX));
            break;
        case XB_I32:
            FOR_EACH(float, ((int32_t *)dst)[i] = (int32_t)f2i(v, INT32_MIN, INT32_MAX));
            break;
        case XB_I64: FOR_EACH(float, ((int64_t *)dst)[i] = f2i(v, INT64_MIN, INT64_MAX)); break;
        case XB_BOOL: FOR_EACH(float, ((uint8_t *)dst)[i] = v != 0.0f || isnan(v)); break;
        case XB_UNDEF: break;
        }
        break;
    case XB_U8: FROM_INT(uint8_t, s_[i]); break;
    case XB_BOOL: FROM_INT(uint8_t, (uint8_t)(s_[i] != 0)); break; /* any nonzero byte is true */
    case XB_I8: FROM_INT(int8_t, s_[i]); break;
    case XB_I32: FROM_INT(int32_t, s_[i]); break;
    case XB_I64: FROM_INT(int64_t, s_[i]); break;
    case XB_UNDEF: break;
    }
    return XB_OK;
}
