/* Counter-based random numbers for the crossbar simulation: every draw is
 * a pure function of its key (seed, what, where), so results depend on the
 * key only, never on the thread count or the order of the draws. */
#ifndef XBAR_CROSSBAR_RNG_H
#define XBAR_CROSSBAR_RNG_H

#include <stdbool.h>
#include <stdint.h>

/* splitmix64's finalizer (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014) applied to z + the
 * golden-ratio increment: every draw is a pure function of (seed, what,
 * where), so no generator state is shared between threads and the thread
 * count cannot change a result. */
static inline uint64_t xb_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Hash of a seed and three coordinates (splitmix64's finalizer, chained). */
uint64_t xb_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
double xb_hash_uniform(uint64_t h); /* (0, 1] */
double xb_hash_normal(uint64_t h);  /* standard normal (Box-Muller) */

/* Normals idx0 .. idx0+n-1 of the stream `key` into out[n] (for
 * per-conversion read noise): Box-Muller on 24-bit uniforms with
 * polynomial log and sine, written to vectorise.  Any split of a range into
 * calls gives the same values. */
void xb_fast_normals(uint64_t key, uint64_t idx0, int64_t n, float *out);

/* Which implementation xb_fast_normals uses: AUTO asks the CPU at run time
 * (AVX-512F and DQ: rng_avx512.c, 16 pairs per step), PORTABLE is the plain
 * loop of rng.c.  Both give the same bits (test
 * crossbar/rng_avx512_matches_portable); AVX512 must be asked for only when
 * xb_rng_avx512_usable(). */
typedef enum { XB_RNG_AUTO, XB_RNG_PORTABLE, XB_RNG_AVX512 } xb_rng_impl;
void xb_fast_normals_impl(xb_rng_impl impl, uint64_t key, uint64_t idx0, int64_t n, float *out);
bool xb_rng_avx512_usable(void);
/* Pairs m0 .. m0+npairs-1 into out[2 npairs] (normals 2m and 2m+1). */
void xb_normal_pairs_portable(uint64_t key, uint64_t m0, int64_t npairs, float *out);
void xb_normal_pairs_avx512(uint64_t key, uint64_t m0, int64_t npairs, float *out);

#endif
