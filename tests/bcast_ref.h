/* Naive reference for broadcasting tests: the flat index in `in` of the
 * element that output element `flat` (of shape `out`) reads, by the
 * numpy rule (right-aligned dims, size 1 repeats).  Deliberately written
 * from the definition, not from kernels/broadcast.h's plan. */
#ifndef XBAR_TESTS_BCAST_REF_H
#define XBAR_TESTS_BCAST_REF_H

#include <stdint.h>

#include "runtime/ir.h"

static inline int64_t xb_ref_bcast_index(const xb_shape *out, const xb_shape *in, int64_t flat) {
    int64_t idx = 0, mul = 1;
    for (int k = out->rank - 1; k >= 0; k--) {
        int64_t c = flat % out->d[k];
        flat /= out->d[k];
        int ki = k - (out->rank - in->rank);
        if (ki < 0) continue;
        if (in->d[ki] != 1) idx += c * mul;
        mul *= in->d[ki];
    }
    return idx;
}

/* Deterministic pseudo-random numbers for randomized cases (LCG). */
static inline uint32_t xb_ref_rand(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}
static inline float xb_ref_randf(uint32_t *s) {
    return (float)xb_ref_rand(s) / (float)(1u << 24) * 8.0f - 4.0f;
}

#endif
