/* Counter-based random numbers for the crossbar simulation: every draw is
 * a pure function of its key (seed, what, where), so results depend on the
 * key only, never on the thread count or the order of the draws. */
#ifndef XBAR_CROSSBAR_RNG_H
#define XBAR_CROSSBAR_RNG_H

#include <stdint.h>

/* Hash of a seed and three coordinates (splitmix64's finalizer, chained). */
uint64_t xb_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
double xb_hash_uniform(uint64_t h); /* (0, 1] */
double xb_hash_normal(uint64_t h);  /* standard normal (Box-Muller) */

/* Normals idx0 .. idx0+n-1 of the stream `key` into out[n] (for
 * per-conversion read noise): Box-Muller on 24-bit uniforms with
 * polynomial log and sine, written to vectorise.  Any split of a range into
 * calls gives the same values. */
void xb_fast_normals(uint64_t key, uint64_t idx0, int64_t n, float *out);

#endif
