/* Integer read noise for integer column sums converted by a 1-LSB ADC
 * (docs/ARCH.md, "Read noise"): y = clamp(round(S + sigma z)) equals
 * clamp(S + n) with the integer n = round(sigma z), whose law is the
 * discretized normal P(n = k) = Phi((k + 1/2) / sigma) - Phi((k - 1/2) /
 * sigma).  n is drawn from one 32-bit hash against a small threshold
 * table (no log, sqrt or sine per draw), and the conversion is then
 * integer arithmetic: convert.c's full simulation uses this where it is
 * exact in distribution (constant read_sigma, ideal cells, LSB 1, nothing
 * else perturbing the values) instead of the float normals of rng.h.
 *
 * The draw of conversion column cc, digit j, position p (absolute, within
 * the image) of a row block whose key is kr (seed, layer, image, group,
 * block: convert.c) is half (p & 1) of mix64(kr + (((cc J + j) << 32) +
 * (p >> 1)) G), G the golden-ratio constant: a pure function of where the
 * conversion is, so no thread count, chunking or order of work changes it.
 * Its 31 low bits against the table give |n|, bit 31 the sign. */
#ifndef XBAR_CROSSBAR_DNOISE_H
#define XBAR_CROSSBAR_DNOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/crossbar/crossbar.h"
#include "backend/crossbar/internal.h"

enum { XB_DNOISE_KMAX = 32 }; /* largest |n| the table holds (sigma up to about 5) */

typedef struct {
    int kmax;                    /* |n| <= kmax */
    uint32_t t[XB_DNOISE_KMAX];  /* t[k-1] = round(2^31 P(|n| >= k)), k = 1..kmax */
} xb_dnoise;

/* The table for sigma (unit levels): false when sigma is not finite and
 * positive or |n| would need more than XB_DNOISE_KMAX entries (then the
 * caller keeps the float normals). */
bool xb_dnoise_init(xb_dnoise *d, double sigma);

/* P(n = k) of the table (k in -kmax..kmax, 0 outside): the law the draws
 * follow exactly, each probability a multiple of 2^-32. */
double xb_dnoise_pmf(const xb_dnoise *d, int k);

/* The raw 32 bits of the draw at position p of stream key (key = kr +
 * ((cc J + j) << 32) G, xb_dnoise_stream), and its noise value. */
uint32_t xb_dnoise_bits(uint64_t key, uint64_t p);
int32_t xb_dnoise_value(const xb_dnoise *d, uint32_t u);
uint64_t xb_dnoise_stream(uint64_t kr, int64_t cc, int J, int j);

/* One conversion column of a row block, all digits: for q < pt,
 * acc[q] = sum_j clamp(S_j[q] + n_jq, lo, hi) 2^(j dshift), with S_j[q] =
 * Sp[j pt + q] (- Sn[j pt + q] for a signed pair), or 0 where
 * zero[j nruns + q / 16] is set (a 16-position run with no active row;
 * Sp is not read there; zero may be NULL), n_jq the draw of stream
 * xb_dnoise_stream(kr, cc, J, j) at position p0 + q.  pre (the profile
 * images' statistics), when not NULL, receives S + n before the clamp at
 * j pt + q.  Returns the conversions that clamped.  The caller makes sure
 * |acc| cannot overflow int32 (convert.c checks the layer's max_sum). */
typedef struct {
    const xb_dnoise *d;
    int32_t lo, hi;
    int J, dshift;
    int64_t pt, p0; /* p0 even */
} xb_dnoise_col;

typedef enum { XB_DNOISE_AUTO, XB_DNOISE_PORTABLE, XB_DNOISE_AVX512 } xb_dnoise_impl;
int64_t xb_dnoise_column(const xb_dnoise_col *a, uint64_t kr, int64_t cc, const int32_t *Sp,
                         const int32_t *Sn, const uint8_t *zero, int32_t *acc, int32_t *pre);
/* The same with a chosen implementation (tests: both give the same
 * integers); AVX512 only when xb_dnoise_avx512_usable(). */
int64_t xb_dnoise_column_impl(xb_dnoise_impl impl, const xb_dnoise_col *a, uint64_t kr,
                              int64_t cc, const int32_t *Sp, const int32_t *Sn,
                              const uint8_t *zero, int32_t *acc, int32_t *pre);
bool xb_dnoise_avx512_usable(void);

/* A whole row block in one pass, popcount sums and conversions fused
 * (AVX-512 with VPOPCNTDQ): for every conversion column cc < C (single
 * columns, no signed pairs) acc[cc pt + q] = sum_j clamp(S_j[q] + n_jq, lo,
 * hi) 2^(j dshift) as xb_dnoise_column gives it, S_j the column sum of
 * the level planes lb ([C][planes][W], bitsums.c's layout) with the digit
 * masks bm ([J][W][pp], xb_bits_pack), the same value xb_bits_sums stores,
 * here never stored.  pre (the profile images' statistics), when not
 * NULL, receives S + n before the clamp at (cc J + j) pt + q.  Returns the
 * conversions that clamped.  Only where xb_dnoise_fused_ok(a, planes, W). */
typedef struct {
    const uint64_t *lb, *bm;
    int planes;
    int64_t W, pp, C;
    int64_t rows; /* the block's rows: 32-row halves past them hold no level bit and are
                     not summed (0: all W words) */
} xb_dnoise_planes;
bool xb_dnoise_fused_usable(void);
bool xb_dnoise_fused_ok(const xb_dnoise_col *a, int planes, int64_t W);
int64_t xb_dnoise_block(const xb_dnoise_col *a, uint64_t kr, const xb_dnoise_planes *b,
                        int32_t *acc, int32_t *pre);
/* Tests: false makes xb_dnoise_fused_ok refuse, so convert.c takes the
 * sums-then-columns path (set it before any run, never during one). */
void xb_dnoise_set_fused(bool on);

/* The profile images' statistics of the values S + n before the clamp:
 * stat_value (internal.h) of each, as integers (no rounding needed); values
 * past either end of the histogram go to its end bins. */
void xb_dnoise_stats(xb_crossbar_stats *s, const int32_t *v, int64_t n);
/* The same through stats.c's lane copies of the histogram, opened once per
 * layer call (hsub: the call's scratch, xb_stat_acc_bytes) when the bins
 * are one value each (else _add books through xb_dnoise_stats); _add clamps
 * v to the histogram's range in place. */
typedef struct {
    xb_stat_acc a;
    bool on;
    int64_t fake0; /* non-zero values the clamp turned into 0 */
    int32_t mx;    /* largest magnitude before the clamp */
} xb_dnoise_stat;
void xb_dnoise_stat_begin(xb_dnoise_stat *d, const xb_crossbar_stats *s, void *hsub,
                          size_t hsub_bytes);
void xb_dnoise_stat_add(xb_dnoise_stat *d, xb_crossbar_stats *s, int32_t *v, int64_t n);
void xb_dnoise_stat_end(xb_dnoise_stat *d, xb_crossbar_stats *s);

#endif
