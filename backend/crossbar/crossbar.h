/* Crossbar simulation of one matrix layer (the analog mode; driven by
 * backend/engine.c).
 *
 * Computes what crossbars, DACs, ADCs and digital shift-and-add produce for
 *     acc[n][p] = sum_k w[n][k] * x[k][p]
 * with x unsigned codes (< 2^input_bits) and w signed weights:
 *
 *   - x enters d = dac_bits at a time: digit j of x is (x >> j*d) & (2^d-1);
 *   - each weight is encoded (offset: u = w + 2^(B-1); differential: |w|
 *     on the positive or the negative column; center: |w - c_n| the same
 *     way, c_n per output chosen at build) and cut into slices of c =
 *     bits_per_cell bits, each slice one cell (conductance level 0..2^c-1);
 *   - per row block r (rows of the crossbar), input digit j and column
 *     (slice s, polarity, output n), the column sum S = sum_k digit_j[k] *
 *     G[k][col] goes through the ADC;
 *   - shift-and-add: acc += sign * ADC(S) * 2^(j*d + s*c); offset encoding
 *     then subtracts 2^(B-1) * sum_k x[k], center adds c_n * sum_k x[k].
 * With a lossless ADC and ideal cells this is exactly the integer product
 * (the identity sum_j sum_s 2^(jd+sc) digit_j * slice_s = x * u).
 *
 * Flip (ISAAC, Shafiee et al. 2016, section 5): a column whose levels in a
 * row block sum to more than half of kb * top (top = 2^width - 1 of its
 * slice) is stored complemented, top - level, so no column sum exceeds half
 * the range and the ADC needs one bit less.  The converted value S' gives
 * S = top * D - S',
 * with D = sum of the block's digits: ISAAC's 129th "unit" column, taken
 * here as exact (a digital popcount of the DAC inputs; the cost model still
 * charges its conversion).
 *
 * Three execution paths give the same results:
 *   exact      - compile-time bound: no column sum can leave the ADC's
 *                lossless range, no noise: the int8 kernel (igemm) computes
 *                acc directly (off the profile images the engine lets the
 *                layer run its own int8 kernel instead: xb_engine.exact);
 *   correction - ADC with LSB 1 that may clip, no noise: igemm computes the
 *                exact product, then only (position, row block, digit)
 *                groups whose data-dependent bound X1 * maxlevel can exceed
 *                the ADC range are simulated (in runs of 16 positions of
 *                one digit plane), and acc corrected by
 *                sign * (clip(S) - S) * 2^shift for each clipped column;
 *   full       - everything else (rounding ADC, noise, cell non-idealities):
 *                every conversion simulated.
 * Statistics (zero share, max, histogram) need every column sum; on
 * "profile" images (the first images of a run: backend/engine.c) layers on the exact or
 * correction paths compute every sum of the digit runs that are not all
 * zero (correction.c, same values as the full simulation) and the
 * statistics say how many conversions they were measured on.
 *
 * Files: program.c builds a layer (encoding, slicing, center choice, flip,
 * level sums, packing); device.c the cell and circuit non-idealities
 * (conductances, drift, IR drop, ADC errors); table.c measured noise
 * tables; input_control.c the sparsity-aware input control; convert.c runs the exact and
 * full paths and dispatches, correction.c the correction path (and the
 * profile images of exact and correction layers); sar.c the
 * SAR trials each conversion runs (data-dependent skipping, non-uniform
 * transfer; a layer with that state always takes the full path) and
 * quantizer.c the transfer's choice; stats.c
 * holds the ADC statistics; rng.h the counter-based random numbers;
 * geometry.h the row-block and column bookkeeping; from_arch.h builds the
 * configuration from an architecture description. */
#ifndef XBAR_CROSSBAR_H
#define XBAR_CROSSBAR_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/crossbar/geometry.h"
#include "runtime/status.h"

typedef enum { XB_XPATH_EXACT = 0, XB_XPATH_CORRECTION = 1, XB_XPATH_FULL = 2 } xb_xpath;

/* A measured noise table (nonideal.table, table.c): for each ideal column
 * sum S in [lo, lo + n) the mean and sigma of the value the ADC reads, in
 * unit levels; rows between the file's rows are interpolated linearly. */
typedef struct {
    int64_t lo, n;
    float *mean, *sigma; /* [n] */
} xb_noise_table;

typedef struct {
    /* geometry and number format */
    int64_t K, N, groups;
    int rows;          /* crossbar rows */
    bool even_rows;    /* row blocks split K equally (mapping.row_split = even), else filled */
    int dac_bits, input_slices;
    int cell_bits, w_slices, weight_bits;
    /* Slice widths, LSB slice first (each <= cell_bits, summing to the
     * magnitude bits); all zero = every slice cell_bits wide (the last one
     * what is left).  RAELLA-style slicing, e.g. {2, 2, 4} for 4b-2b-2b. */
    int8_t slice_bits[16];
    bool differential; /* else offset */
    bool center;       /* with differential: RAELLA Center+Offset, w = center[n] + o */
    bool flip;         /* offset only: ISAAC's flipped columns (see above) */
    bool signed_pair;  /* differential with a signed ADC: convert S+ - S- */
    /* ADC */
    bool lossless;     /* no clipping, LSB 1 */
    double lsb;        /* >= 1 */
    int64_t code_lo, code_hi;
    /* non-idealities */
    double prog_sigma, read_sigma, stuck_low, stuck_high, on_off_ratio;
    uint64_t seed;
    int layer_id;      /* keys the random draws */
    /* device and circuit non-idealities (device.c; docs/ARCH.md) */
    bool off_comp;           /* subtract g0 x digit sum from each converted column */
    double prog_floor;       /* programming sigma floor, fraction of G_on */
    double read_current_sigma, read_row_sigma; /* sigma = E sqrt(I), s sqrt(sum d^2) */
    double drift_seconds, drift_nu, drift_t0;
    bool drift_comp;         /* global drift compensation (one factor per layer) */
    double ir_drop;          /* wire segment resistance / R_on */
    int cols, adcs_per_xbar; /* physical crossbar columns (0 = all C) and ADCs per crossbar */
    double adc_offset, adc_gain, adc_inl; /* sigmas: LSB, relative, LSB */
    const xb_noise_table *table; /* borrowed during the build; the layer keeps a copy */
    /* RAELLA's speculative input slicing (speculate.c): spec_n slices of
     * spec_bits[] bits (LSB first) per input; a conversion that saturates
     * sends its column (this row block and position) to recovery with
     * dac_bits-wide slices.  spec_n = 0: off. */
    int spec_n;
    int8_t spec_bits[8];
    /* Sparsity-aware input control (ORSS'23, input_control.c): a row block
     * whose input digits are all zero for a digit plane and position is
     * not driven or converted; its value is exactly 0 (no read noise, no
     * ADC error).  Changes nothing without noise. */
    bool input_control;
    /* Analog buffers (TIMELY / LayCO; backend/crossbar/analog_buffer.h): `rows`
     * is then a chain of crossbars of xbar_rows rows whose partial sums the
     * P-subBufs add in analog before one conversion; each stage adds Gaussian
     * noise of sigma buf_sigma unit levels.  xbar_rows 0 = no buffers. */
    int xbar_rows;
    double buf_sigma;
} xb_crossbar_config;

/* Per-layer statistics, integers so merging is order-independent. */
typedef struct {
    int64_t conversions;  /* conversions whose saturation is known (all images) */
    int64_t saturated;
    int64_t observed;     /* conversions whose value was observed (profile/full) */
    int64_t zeros;
    int64_t max_abs;      /* largest |pre-ADC sum| observed, rounded */
    int64_t hist_lo;      /* value of bin 0 */
    int64_t hist_width;   /* values per bin */
    int hist_bins;
    int64_t *hist;        /* [hist_bins], owned */
    /* speculation (speculate.c): (row block, conversion column, position)
     * units run speculatively, and those recovered */
    int64_t spec_units, spec_recovered;
    /* SAR trials actually run (sar.c; only while a layer has SAR state):
     * conversions counted, trials, capacitor units switched, the trials a
     * per-column bound alone would run (ablation), bound-logic bit-adds */
    int64_t sar_convs, sar_trials, sar_units, sar_trials_col, sar_logic;
    int64_t skipped;      /* conversions input control left out (full path) */
    int64_t dac_pulses;   /* dac.model=pulse: unit DAC pulses on one column block's rows
                             (pulses.c), counted on every path */
    int64_t fused_blocks; /* row-block chunks whose conversions ran fused with the sums
                             (integer read noise: dnoise.h xb_dnoise_block; a rounding
                             ADC: direct.h): the tests that compare the fused and unfused
                             kernels check that the first really ran */
} xb_crossbar_stats;

typedef struct xb_crossbar_layer {
    xb_crossbar_config cfg;
    int64_t C;            /* columns per group: w_slices * (differential ? 2 : 1) * N */
    int64_t R;            /* row blocks */
    uint8_t *lev;         /* [groups][K][C] ideal conductance levels */
    float *cond;          /* [groups][K][C] actual conductances (unit levels), or NULL */
    uint8_t *maxlev;      /* [groups][R] largest level in the row block */
    int64_t *col_shift;   /* [C]: the slice's bit offset; sign in col_sign */
    uint8_t *col_mask;    /* [C]: the slice's top level, 2^width - 1 */
    int8_t *col_sign;     /* [C] */
    int64_t *col_n;       /* [C] */
    int64_t max_sum;      /* largest possible |column sum| in this layer */
    int32_t *center;      /* [groups][N] c_n of the center encoding, or NULL */
    uint8_t *flipped;     /* [groups][R][C] 1 = column stored complemented, or NULL */
    int32_t *levsum;      /* [groups][R][C] sum of the column's ideal levels in the block */
    xb_xpath path;
    int8_t *w;            /* [groups][N][K] copy of the weights */
    int8_t *wpack;        /* [groups] igemm-packed weights (exact and correction paths) */
    int8_t *levp;         /* [groups][R] igemm-packed level blocks [C][kpad(rows)] */
    size_t levp_stride;   /* bytes per block in levp */
    uint64_t *levbits;    /* [groups][R][C][lev_planes][lev_words] level bit planes for
                             popcount column sums (bitsums.c), or NULL */
    int lev_planes, lev_words;
    uint8_t *lev_thr;     /* [groups][R][C] with levbits: the fewest 1-digits X for which
                             the X largest levels of the column in the block sum above
                             lev_thr_hi (255: never), so a (digit, position) column of
                             digit sum X1 < lev_thr cannot clip (bitsums.c); or NULL */
    int64_t lev_thr_hi;   /* the top code lev_thr was built for */
    uint8_t *lev_bk;      /* [groups][R][5] with lev_thr: bucket count, then the X1 bucket
                             bounds, descending, the last the block's smallest threshold
                             (bitsums.c) */
    uint32_t *lev_cols;   /* [groups][R][ngr][lev_planes][lev_words][2][16] with lev_thr:
                             the level planes' 32-bit halves of the sorted path's groups
                             of 16 lanes side by side (bitsums.c, groups_of: the whole
                             groups u N + 16 g .. + 15, then N mod 16 remainder outputs of
                             several slices packed; zero in empty lanes), its vector
                             operand */
    /* with lev_thr, per group i of those: lev_gthr [groups][R][ngr] its columns'
     * smallest threshold (rebuilt with lev_thr), lev_gneg [groups][R][ngr] its lanes
     * whose column enters negated (sign < 0 xor flipped), lev_gsh [ngr][16] its
     * columns' shifts (0 in empty lanes): per layer, not per call (bitsums.c) */
    uint8_t *lev_gthr;
    uint16_t *lev_gneg;
    int32_t *lev_gsh;
    float *condT;         /* [groups][R][C][rows] conductance blocks, or NULL */
    /* device and circuit non-idealities (device.c) */
    double g0;            /* nominal off conductance, unit levels (0: infinite ratio) */
    double drift_alpha;   /* digital gain of the global drift compensation (1: none) */
    bool read_noise;      /* a read-noise term or a table perturbs the column sums */
    float *adc_err;       /* [groups][R][convs per block][3]: offset (LSB), gain, INL (LSB) */
    xb_noise_table *table; /* owned copy, or NULL */
    struct xb_sar *sar;    /* SAR trial skipping / non-uniform ADC (sar.h), or NULL */
    int32_t pulses[256];   /* DAC pulses of each input code (pulses.c), built once */
} xb_crossbar_layer;

/* Build from int8 weights [groups][N][K]; fails if a weight does not fit
 * the configured weight bits and encoding. */
xb_crossbar_layer *xb_crossbar_layer_new(const xb_crossbar_config *cfg, const int8_t *w,
                                         xb_ctx *ctx);
void xb_crossbar_layer_free(xb_crossbar_layer *l);
/* Measured noise tables (table.c): parse CSV text (`origin` names it in
 * errors, with the line) or a file; free. */
xb_noise_table *xb_noise_table_parse(const char *text, const char *origin, xb_ctx *ctx);
xb_noise_table *xb_noise_table_load(const char *path, xb_ctx *ctx);
xb_noise_table *xb_noise_table_copy(const xb_noise_table *t, xb_ctx *ctx);
void xb_noise_table_free(xb_noise_table *t);
/* (mean, sigma) the table gives an ideal column sum s. */
void xb_noise_table_at(const xb_noise_table *t, int64_t s, float *mean, float *sigma);
/* Re-derive the path after changing cfg.lsb / code range (calibration). */
void xb_crossbar_layer_set_adc(xb_crossbar_layer *l, bool lossless, double lsb, int64_t lo,
                               int64_t hi);

xb_status xb_crossbar_stats_init(xb_crossbar_stats *s, const xb_crossbar_layer *l, xb_ctx *ctx);
void xb_crossbar_stats_merge(xb_crossbar_stats *into, const xb_crossbar_stats *from);
void xb_crossbar_stats_free(xb_crossbar_stats *s);
/* Zero the counts and the histogram, keeping its geometry and memory. */
void xb_crossbar_stats_clear(xb_crossbar_stats *s);
/* Value at a percentile of the observed |sums| (histogram upper bin edge). */
double xb_crossbar_stats_percentile(const xb_crossbar_stats *s, double pct);

/* Books the ADC conversions of one exact-path call (P positions, one
 * group) that ran as the plain int8 product elsewhere (xb_engine.exact):
 * the exact path records nothing else off the profile images. */
void xb_crossbar_count_exact(const xb_crossbar_layer *l, int64_t P, xb_crossbar_stats *st);
/* Unit pulses a pulse-train DAC sends into one column block's rows for
 * one call's inputs x[K x P] (pulses.c): each input digit d is d pulses,
 * over the speculative slices plus the bit-serial recovery cycles under
 * speculation, else over the dac_bits-wide input slices. */
int64_t xb_crossbar_count_pulses(const xb_crossbar_layer *l, const uint8_t *x, int64_t P);
/* Fills l->pulses from the layer's input slicing (xb_crossbar_layer_new). */
void xb_crossbar_pulse_table(xb_crossbar_layer *l);
/* Scratch bytes one call of xb_crossbar_matmul needs for P positions. */
size_t xb_crossbar_scratch_bytes(const xb_crossbar_layer *l, int64_t P);

/* acc[N][P] for group `group`.  `profile` forces the full simulation and
 * records value statistics; `stats` may be NULL. */
void xb_crossbar_matmul(const xb_crossbar_layer *l, int group, const uint8_t *x, int64_t P,
                        int64_t image, bool profile, int32_t *acc, void *scratch,
                        xb_crossbar_stats *stats);
/* RAELLA's Center+Offset center of one output's weights wn[K] under c
 * (program.c; the rule is documented there and in docs/ARCH.md). */
int32_t xb_crossbar_pick_center(const xb_crossbar_config *c, const int8_t *wn, int64_t K);

/* Read access for the engine and the reports. */
static inline const xb_crossbar_config *xb_crossbar_cfg(const xb_crossbar_layer *l) {
    return &l->cfg;
}
static inline xb_xpath xb_crossbar_path(const xb_crossbar_layer *l) { return l->path; }
/* Conversions per (row block, input digit, position). */
static inline int64_t xb_crossbar_convs_per_block(const xb_crossbar_layer *l) {
    return xb_conversions_per_block(l->cfg.signed_pair, l->C);
}

#endif
