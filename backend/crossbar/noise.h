/* The read-noise side of the full simulation that is not the generator
 * itself (rng.h): value statistics of noisy column sums.  convert.c calls
 * in here; the conversion arithmetic stays there. */
#ifndef XBAR_CROSSBAR_NOISE_H
#define XBAR_CROSSBAR_NOISE_H

#include <stdint.h>

#include "backend/crossbar/crossbar.h"

/* stat_value (internal.h) of v[0..n) for any histogram layout (stats.c's
 * xb_stat_floats uses 16 lane copies when the bins allow, else this): the same counts and histogram bins
 * bit for bit (llround, half away from zero), batched so the rounding
 * vectorises and no libm call or division is made per value. */
void xb_stat_floats_batched(xb_crossbar_stats *s, const float *v, int64_t n);

/* One conversion column's sums: integer Si (minus Si2, the negative
 * column of a signed pair, when not NULL) or float Sf (minus Sf2). */
typedef struct {
    const int32_t *Si, *Si2;
    const float *Sf, *Sf2;
} xb_col_sums;

/* v[i] = value_i + sg z_i for i < n, value_i the column's analog value as
 * convert.c computes it ((float)(Si - Si2), or Sf - Sf2) and z_i the normal
 * idx0 + i of stream `key` (xb_fast_normals): the same bits as writing the
 * values, drawing all n normals into a buffer and adding, in one pass whose
 * draws stay in a 4 KB tile in L1 (the constant read_sigma, the common case). */
void xb_noise_add(uint64_t key, uint64_t idx0, int64_t n, float sg, const xb_col_sums *S,
                  float *v);

/* The variance model of one conversion column (docs/ARCH.md): sigma^2 =
 * a2 + e2 I + r2 nsq, I the column current (int sums Si [+ Si2 for a
 * signed pair], or float sums Sf [+ Sf2], floored at 0: nv->S), nsq the block's
 * sums of squared digits; terms whose coefficient is 0 are left out. */
typedef struct {
    float a2, e2, r2;
    xb_col_sums S;      /* the current is Si + Si2 (Sf + Sf2) here */
    const int32_t *nsq; /* read_row_sigma only */
} xb_noise_var;

/* v[i] += sqrt(sigma_i^2) z[i] for i < n, the same operations as the
 * scalar loop it replaces (convert.c, add_read_noise), vectorised: noise.c
 * is built with -fno-math-errno, so sqrtf is the instruction (correctly
 * rounded either way) rather than a libm call per value. */
void xb_noise_add_var(const xb_noise_var *nv, const float *z, int64_t n, float *v);

/* xb_noise_add_var without the column current (e2 = 0) for ncol columns
 * at once (column c: z + c n, v + c n): sigma then depends only on the
 * value's (digit, position), so each sqrt is taken once per block instead
 * of once per column.  The same operations per value, so the same bits. */
void xb_noise_add_rows(float a2, float r2, const int32_t *nsq, const float *z, int64_t n,
                       int64_t ncol, float *v);

#endif
