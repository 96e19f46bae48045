/* Exact histogram of an int32 value stream in bit-sliced counters
 * (hist.c), for the profile statistics (stats.c's xb_stat_acc).
 *
 * Most pre-ADC column sums are small (session 9, the 16 default profile
 * images with --arch ideal: 77% of ResNet-20's below 32 and 94% below 64;
 * VGG-small 67% and 93%, LeNet-5 85% and 98%).  Values in a window [base +
 * 32 w, base + 32 w + 32) become one bit of a 32-bit lane (1 << (v - base -
 * 32 w)); sixteen such vectors (256 values) are added by carry-save adders
 * (Harley-Seal) into counter planes of weight 1, 2, 4, 8, the carries of
 * weight 16 of four groups by more such adders into planes of weight 16,
 * 32, and theirs of weight 64 rippled into a small binary counter; the
 * planes are folded into the integer histogram when that counter could
 * overflow and at the end.  Values outside the windows are counted one by
 * one.  The counts equal a plain per-value histogram's exactly. */
#ifndef XBAR_CROSSBAR_HIST_H
#define XBAR_CROSSBAR_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define XB_HIST_WIN 32    /* values per window: one bit each of a 32-bit lane */
#define XB_HIST_NWIN 2    /* windows [base, base + 32), [base + 32, base + 64) */
#define XB_HIST_LANES 16  /* lanes of a vector (32-bit in 512 bits) */
#define XB_HIST_BLOCK 256 /* values per carry-save group: 16 vectors */
#define XB_HIST_BIG 8     /* bits of the binary counter of weight-64 carries */
#define XB_HIST_PLANES (6 + XB_HIST_BIG)
/* Groups the counters hold (a group adds at most 16 per lane and value,
 * the binary counter at most one per 64) */
#define XB_HIST_CAP (4 * ((1 << XB_HIST_BIG) - 1))

/* One level of counters: windows [base, base + 64). */
typedef struct {
    /* window w, plane p, lane i, bit k: bit p of lane i's count of value
     * base + 32 w + k (weights 1, 2, 4, 8, 16, 32, then 64 << (p - 6)) */
    uint32_t pl[XB_HIST_NWIN][XB_HIST_PLANES][XB_HIST_LANES];
    int64_t groups; /* groups since the last fold */
    int32_t base;
} xb_hist_level;

/* Level 1's input buffer (the caller's, not in xb_hist_bits: structs that
 * hold one are zero-initialised per layer call): counted in groups when it holds more than
 * XB_HIST_OVF_CAP values (a kernel call adds at most four groups' values
 * between checks) */
#define XB_HIST_OVF_CAP 2048
#define XB_HIST_OVF_BUF (XB_HIST_OVF_CAP + 4 * XB_HIST_BLOCK + 16)

/* Level 0 counts [base, base + 64); with AVX-512 its outliers are
 * compressed into ovf and counted by level 1, [base + 64, base + 128), in
 * the same kind of counters (ResNet-20's sums of 64 or more were 5% of its
 * values and about a fifth of the counting time as scalar increments);
 * level 1's outliers (0.2%) are counted one by one.  The portable fallback
 * counts level 0's outliers one by one. */
typedef struct {
    xb_hist_level lv[2];
    int32_t pend[XB_HIST_BLOCK]; /* values waiting for a full group of level 0 */
    int64_t npend;
    int32_t *ovf; /* [XB_HIST_OVF_BUF]: level 0's outliers waiting for level 1 */
    int64_t novf;
    int64_t cap;    /* fold a level when its groups reach cap (<= XB_HIST_CAP; tests lower it) */
    uint32_t *h;    /* h[v]: the integer histogram, indexed by value */
    int32_t stride; /* lane i's values outside the windows go to h[v + i * stride] */
} xb_hist_bits;

/* Empty counters for values counted into h[v] (the windows') and h[v + i *
 * stride] (lane i's others: with stride > 0 a row of h per lane, so
 * repeated values do not wait on each other's increment); every value fed
 * must have a bin in each row, v + 15 stride within int32.  ovf: a buffer
 * of XB_HIST_OVF_BUF values for level 1's input, in use until the flush. */
void xb_hist_init(xb_hist_bits *b, int32_t base, uint32_t *h, int32_t stride, int32_t *ovf);
/* The n values Sp[i] - Sn[i] (Sp[i] when Sn is NULL). */
void xb_hist_add(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t n);
/* The same without AVX-512 (the fallback, run by the tests everywhere). */
void xb_hist_add_portable(xb_hist_bits *b, const int32_t *Sp, const int32_t *Sn, int64_t n);
/* The popcount column sums of nr runs of a block (bitsums.h's
 * xb_bits_sums with level planes lb of C columns, masks bm), counted
 * without storing them: C x (positions of the runs) values, except that
 * the zero sums of positions with no row set (digit sums x1[j * pt + q] =
 * 0, xb_bits_x1) are only counted: returns how many, for the caller's zero
 * bin.  Only where the popcount sums exist (AVX-512 VPOPCNTDQ:
 * l->levbits). */
int64_t xb_hist_add_bitsums(xb_hist_bits *b, const uint64_t *lb, int64_t C, int planes, int64_t W,
                            const uint64_t *bm, int64_t pp, int64_t pt, const uint8_t *qj,
                            const int32_t *qcols, int64_t nr, const uint8_t *x1);
/* Everything counted so far into h; the counters start over empty. */
void xb_hist_flush(xb_hist_bits *b);
/* Whether xb_hist_add runs the AVX-512 kernel on this CPU. */
bool xb_hist_avx512(void);

#endif
