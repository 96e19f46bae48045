/* Scalar quantization arithmetic shared by the integer ops.
 *
 * Rounding is round-half-to-even everywhere (ONNX QuantizeLinear and the
 * QLinear* ops specify it; numpy's rint/round do it).  rintf/rint round in
 * the current rounding mode, which is round-to-nearest-even by default and
 * is never changed by this library; unlike lroundf they compile to a single
 * vector instruction.  Every float-to-integer conversion is clamped first,
 * with NaN mapped to the lower bound, because converting an out-of-range or
 * NaN float to an integer type is undefined behaviour in C. */
#ifndef XBAR_QMATH_H
#define XBAR_QMATH_H

#include <math.h>
#include <stdint.h>

/* clamp(v, lo, hi), NaN -> lo. */
static inline float xb_clampf(float v, float lo, float hi) {
    v = v >= lo ? v : lo;
    return v <= hi ? v : hi;
}
static inline double xb_clampd(double v, double lo, double hi) {
    v = v >= lo ? v : lo;
    return v <= hi ? v : hi;
}

/* ONNX QuantizeLinear for one element: saturate(rint(x / scale) + zp) in
 * [lo, hi].  Division, not multiplication by 1/scale: that is what the spec
 * and its reference compute, and the two differ in the last bit. */
static inline int32_t xb_quantize1(float x, float scale, int32_t zp, int32_t lo, int32_t hi) {
    float v = rintf(x / scale) + (float)zp;
    return (int32_t)xb_clampf(v, (float)lo, (float)hi);
}

/* Whole-buffer quantization to unsigned codes in [0, hi] (hi <= 255). */
static inline void xb_quantize_u8(const float *x, int64_t n, float scale, int32_t zp, int32_t hi,
                                  uint8_t *out) {
    const float fz = (float)zp, fh = (float)hi;
    for (int64_t i = 0; i < n; i++)
        out[i] = (uint8_t)(int32_t)xb_clampf(rintf(x[i] / scale) + fz, 0.0f, fh);
}

static inline void xb_quantize_i8(const float *x, int64_t n, float scale, int32_t zp, int8_t *out) {
    const float fz = (float)zp;
    for (int64_t i = 0; i < n; i++)
        out[i] = (int8_t)(int32_t)xb_clampf(rintf(x[i] / scale) + fz, -128.0f, 127.0f);
}

/* Requantize an exact int32 accumulator: saturate(rint(acc * m) + zp).  The
 * product is taken in double, the way the ONNX reference multiplies an int32
 * array by a float32 multiplier (numpy promotes to float64). */
static inline int32_t xb_requantize1(int64_t acc, float m, int32_t zp, int32_t lo, int32_t hi) {
    double v = rint((double)acc * (double)m) + (double)zp;
    return (int32_t)xb_clampd(v, (double)lo, (double)hi);
}

#endif
