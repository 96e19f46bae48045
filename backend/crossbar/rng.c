/* Counter-based random numbers (see rng.h). */
#include "backend/crossbar/rng.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* rng.h's xb_mix64 (the finalizer every draw goes through). */
static inline uint64_t mix64(uint64_t z) { return xb_mix64(z); }

uint64_t xb_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    return mix64(mix64(mix64(mix64(seed) ^ a) ^ b) ^ c);
}

double xb_hash_uniform(uint64_t h) { return (double)((h >> 11) + 1) * 0x1.0p-53; }

double xb_hash_normal(uint64_t h) {
    double u1 = (double)((h >> 32) + 1) * 0x1.0p-32; /* (0, 1]: log is finite */
    double u2 = (double)(h & 0xffffffffu) * 0x1.0p-32;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* --- fast normals ---------------------------------------------------------- */

static inline float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline uint32_t float_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

/* Box-Muller pairs: SplitMix64's output for counter m (seed `key`) gives
 * u1 = k / 2^24 (k in 1..2^24, so log is finite) and u2 in [0, 1); normal
 * 2m is r cos(2 pi u2), normal 2m+1 is r sin(2 pi u2).  ln(k) from the
 * float exponent plus the atanh series ln m = 2 (s + s^3/3 + ...), s =
 * (m-1)/(m+1) <= 1/3 (relative error ~1e-6); both trigonometric values by
 * a Taylor sine on [-pi/2, pi/2] (error < 4e-6) after reducing with
 * cos(2 pi u) = -sin(2 pi (1/4 - |u - 1/2|)); sqrt by reciprocal-sqrt
 * Newton steps (libm's sqrtf may set errno, which stops vectorisation).
 * Branch-free, so the loop vectorises; rng_avx512.c computes the same
 * values 16 pairs at a time.  This file and that one are built with
 * -ffp-contract=off (CMakeLists.txt): a fused multiply-add on one side only
 * would change the last bit. */
static inline float sin_half_pi(float x) { /* |x| <= pi/2 */
    float x2 = x * x;
    return x * (1.0f - x2 * (1.0f / 6 - x2 * (1.0f / 120 - x2 * (1.0f / 5040 - x2 * (1.0f / 362880)))));
}

void xb_normal_pairs_portable(uint64_t key, uint64_t m0, int64_t npairs, float *out) {
    for (int64_t i = 0; i < npairs; i++) {
        uint64_t h = mix64(key + (m0 + (uint64_t)i) * 0x9e3779b97f4a7c15ull);
        uint32_t k1 = (uint32_t)(h >> 40) + 1; /* 1 .. 2^24 */
        float u2 = (float)(uint32_t)((h >> 8) & 0xffffff) * 0x1.0p-24f;
        uint32_t b = float_to_bits((float)k1);
        float e = (float)((int32_t)(b >> 23) - 127 - 24);
        float m = bits_to_float((b & 0x7fffffu) | 0x3f800000u);
        float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
        float lnm = 2.0f * s *
                    (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
        float a = -2.0f * (lnm + e * 0.69314718f);
        a = a < 1e-30f ? 1e-30f : a;
        float y = bits_to_float(0x5f3759dfu - (float_to_bits(a) >> 1));
        y = y * (1.5f - 0.5f * a * y * y);
        y = y * (1.5f - 0.5f * a * y * y);
        y = y * (1.5f - 0.5f * a * y * y);
        float r = a * y;
        /* cos(2 pi u2) and sin(2 pi u2) = cos(2 pi (u2 - 1/4)). */
        float tc = fabsf(u2 - 0.5f);
        float u3 = u2 < 0.25f ? u2 + 0.75f : u2 - 0.25f;
        float ts = fabsf(u3 - 0.5f);
        out[2 * i] = -r * sin_half_pi(6.2831853f * (0.25f - tc));
        out[2 * i + 1] = -r * sin_half_pi(6.2831853f * (0.25f - ts));
    }
}

/* The CPU is asked once per process; the answer cannot change, so the
 * race of two threads storing the same value first is benign, but C11
 * wants it atomic-free: resolve it before any thread starts (a
 * constructor), and fall back to asking on every call elsewhere. */
static int avx512_ok = -1;
#if defined(__GNUC__)
__attribute__((constructor)) static void rng_dispatch_init(void) {
    avx512_ok = xb_rng_avx512_usable();
}
#endif

/* Pairs straight into out where a pair lies wholly inside [idx0, idx0+n);
 * a half pair at either end goes through a 2-float buffer. */
void xb_fast_normals_impl(xb_rng_impl impl, uint64_t key, uint64_t idx0, int64_t n, float *out) {
    bool vec = impl == XB_RNG_AVX512 ||
               (impl == XB_RNG_AUTO && (avx512_ok >= 0 ? avx512_ok : xb_rng_avx512_usable()));
    void (*pairs)(uint64_t, uint64_t, int64_t, float *) =
        vec ? xb_normal_pairs_avx512 : xb_normal_pairs_portable;
    float two[2];
    if (n <= 0) return;
    if (idx0 & 1) { /* odd start: the sine half of pair idx0 / 2 */
        pairs(key, idx0 >> 1, 1, two);
        *out++ = two[1];
        idx0++;
        n--;
    }
    int64_t whole = n / 2;
    if (whole > 0) pairs(key, idx0 >> 1, whole, out);
    if (n & 1) { /* odd end: the cosine half of the last pair */
        pairs(key, (idx0 >> 1) + (uint64_t)whole, 1, two);
        out[n - 1] = two[0];
    }
}

void xb_fast_normals(uint64_t key, uint64_t idx0, int64_t n, float *out) {
    xb_fast_normals_impl(XB_RNG_AUTO, key, idx0, n, out);
}
