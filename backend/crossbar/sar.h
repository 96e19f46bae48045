/* The SAR ADC of a crossbar layer as the DATE'24 ADC co-design (Zhang,
 * Yuan et al., DATE 2024; abstract only, so the mechanisms here are
 * reconstructions, docs/REPRODUCTION.md) would run it: which of its
 * successive-approximation trials each conversion actually needs, and an
 * optional piecewise-uniform (non-uniform) transfer.
 *
 * A b-bit SAR decides one code bit per trial, MSB first; trial i switches
 * the capacitor of weight 2^i of its capacitive DAC.  Two things let a
 * conversion run fewer trials:
 *
 *  - MSB skipping (adc.skip_cycles): when the converter knows before it
 *    starts that the value is at most B codes, the trials above bit
 *    bits_for(B) - 1 would all give 0 and are not run (their capacitors
 *    stay at 0).  `static` takes B from the programmed weights alone: dmax x
 *    the column's level sum in its row block.  `data` adds what is known at
 *    conversion time from the inputs and from the conversions already done
 *    in the same ADC's sequence (sar.c says exactly what and why it is
 *    causal).
 *  - early termination (adc.quantizer=nonuniform): codes at or above F =
 *    2^m are resolved only to steps of 2^e (fine steps of 1 LSB below F,
 *    coarse above), so a conversion that lands above F stops after its
 *    interval of 2^e codes is decided: e fewer trials.  Its value is the
 *    interval's midpoint.
 *
 * Both count, per conversion, the trials run and the capacitor units they
 * switch, into the layer statistics (integers, so merging is exact); the
 * engine turns them into energy with the per-trial SAR model of
 * docs/ARCH.md ("SAR energy per trial"). */
#ifndef XBAR_CROSSBAR_SAR_H
#define XBAR_CROSSBAR_SAR_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/crossbar/crossbar.h"
#include "runtime/status.h"

/* COLUMN: the data bounds of one column only, without the running partial
 * sums of its conversion group (an ablation of DATA). */
enum { XB_SAR_OFF = 0, XB_SAR_STATIC = 1, XB_SAR_DATA = 2, XB_SAR_COLUMN = 3 };

/* A piecewise-uniform transfer, in codes of the ADC (LSB units): exact
 * below fine = 2^m, steps of 2^coarse_log2 from fine to the top code.
 * fine = 0: uniform. */
typedef struct {
    int64_t fine;
    int coarse_log2;
    double rel_rms;      /* estimated on the calibration sums: RMS error / RMS value */
    double coarse_share; /* calibration conversions at or above fine */
} xb_nu_quant;

typedef struct xb_sar xb_sar;

/* Per-layer SAR state for mode (XB_SAR_*) at `bits` ADC bits, with the
 * transfer q (NULL or fine = 0: uniform).  Replaces any earlier one.  With
 * `data` or a non-uniform transfer every conversion is simulated (the
 * layer's path becomes full); `static` with a uniform transfer needs no
 * state (nothing is attached) and is charged from xb_sar_static_units. */
xb_status xb_sar_attach(xb_crossbar_layer *l, int mode, int bits, const xb_nu_quant *q,
                        xb_ctx *ctx);
void xb_sar_free(xb_sar *s);
/* The transfer in use (fine = 0 when uniform or no state). */
xb_nu_quant xb_sar_quantizer(const xb_crossbar_layer *l);

/* Static bounds only (adc.skip_cycles=static, weights known, no data):
 * mean trials and mean capacitor units per conversion of layer l at
 * `bits` bits, over every conversion of the mapping. */
void xb_sar_static_units(const xb_crossbar_layer *l, int bits, double *trials, double *units);

/* Scratch doubles one call of xb_sar_convert needs for `cols` digit
 * columns (0 without state). */
int64_t xb_sar_scratch_doubles(const xb_crossbar_layer *l, int64_t cols);

/* Converts the ncc x cols analog values of one row block and chunk in v
 * (conversion cc, column i = j * pt + q at v[cc * cols + i]), in place,
 * into the values the ADC returns (code x LSB), running only the trials
 * described above and counting them into st.  x, P, k0, kb, p0, pt say
 * which inputs drove the block (for the data bounds); blk = group * R + r.
 * Returns the conversions that saturated (outside the code range). */
int64_t xb_sar_convert(const xb_crossbar_layer *l, int64_t blk, const uint8_t *x, int64_t P,
                       int64_t k0, int64_t kb, int64_t p0, int64_t pt, float *v, double *work,
                       xb_crossbar_stats *st);

/* quantizer.c: the transfer for one layer from its calibration histogram
 * (st: pre-ADC values), the ADC's code range [lo, hi] and LSB: among F =
 * 2^m, step 2^e (1 <= e <= m, F <= the top magnitude code), the one that
 * saves the most trials on the histogram while the relative RMS error of
 * the converted values stays <= budget; fine = 0 when none qualifies. */
xb_nu_quant xb_nu_choose(const xb_crossbar_stats *st, int64_t lo, int64_t hi, double lsb,
                         double budget);
/* The transfer on a magnitude code c >= 0 (codes at or above fine become
 * the midpoint of their 2^e interval). */
static inline double xb_nu_apply(int64_t fine, int e, int64_t c) {
    if (fine <= 0 || c < fine) return (double)c;
    int64_t base = (c >> e) << e;
    return (double)base + ((double)((int64_t)1 << e) - 1.0) / 2.0;
}

#endif
