/* The read-noise side of the full simulation that is not the generator
 * itself (rng.h): value statistics of noisy column sums.  convert.c calls
 * in here; the conversion arithmetic stays there. */
#ifndef XBAR_CROSSBAR_NOISE_H
#define XBAR_CROSSBAR_NOISE_H

#include <stdint.h>

#include "backend/crossbar/crossbar.h"

/* stat_value (internal.h) of v[0..n): the same counts and histogram bins
 * bit for bit (llround, half away from zero), batched so the rounding
 * vectorises and no libm call or division is made per value. */
void xb_stat_floats(xb_crossbar_stats *s, const float *v, int64_t n);

/* v[i] += sg z_i, z_i the normal idx0 + i of stream `key` (xb_fast_normals),
 * for i < n: the same values as drawing all n into a buffer and adding,
 * but the draws pass through a 4 KB tile that stays in L1 instead of a
 * buffer the size of the block (the constant read_sigma, the common case). */
void xb_noise_add(uint64_t key, uint64_t idx0, int64_t n, float sg, float *v);

#endif
