/* Component models of the cost model: ADC energy and area, array area,
 * row activation and cell read energy (formulas and sources in
 * docs/ARCH.md, "Component models"). */
#include <math.h>

#include "backend/arch.h"

/* ADC: the explicit table (4..10 bits, entries > 0) first, else the fit
 * of a SAR converter, b comparator decisions plus a capacitive DAC of 2^b
 * unit capacitors (docs/ARCH.md).  Above the reference rate a converter
 * costs proportionally more energy per conversion and area (an
 * assumption, stated in docs/ARCH.md). */
static double adc_rate_factor(const xb_arch *a) {
    double f = a->adc_gsps / a->adc_ref_gsps;
    return f > 1 ? f : 1;
}

double xb_arch_adc_energy_pj(const xb_arch *a, int bits) {
    double e = 0;
    if (bits >= XB_ADC_TAB_MIN && bits <= XB_ADC_TAB_MAX) e = a->adc_pj[bits - XB_ADC_TAB_MIN];
    if (e <= 0) e = a->adc_bit_pj * bits + a->adc_fom_fj * 1e-3 * ldexp(1.0, bits);
    return e * adc_rate_factor(a);
}

double xb_arch_adc_area_um2(const xb_arch *a, int bits) {
    double ar = 0;
    if (bits >= XB_ADC_TAB_MIN && bits <= XB_ADC_TAB_MAX) ar = a->adc_um2[bits - XB_ADC_TAB_MIN];
    if (ar <= 0) ar = a->adc_bit_um2 * bits + a->adc_cap_um2 * ldexp(1.0, bits);
    return ar * adc_rate_factor(a);
}

double xb_arch_slice_mean_levels(const xb_arch *a) {
    int w[16], n = xb_arch_slice_widths(a, w), S = xb_arch_weight_slices(a);
    int mb = xb_arch_magnitude_bits(a);
    double sum = 0;
    for (int s = 0; s < S; s++) {
        int width = n > 0 ? w[s] : (mb - s * a->bits_per_cell < a->bits_per_cell
                                        ? mb - s * a->bits_per_cell
                                        : a->bits_per_cell);
        sum += (ldexp(1.0, width) - 1) / 2;
    }
    return sum;
}

double xb_arch_crossbar_um2(const xb_arch *a) { return (double)a->rows * a->cols * a->cell_um2; }

/* Driver energy x 2^(dac_bits - 1) (a binary-weighted capacitive DAC
 * switches 2^b unit capacitors) plus the row line charged to the read
 * voltage: cols x cell pitch x wire capacitance x V^2. */
double xb_arch_row_activation_pj(const xb_arch *a) {
    double line_ff = a->cols * sqrt(a->cell_um2) * a->wire_ff_per_um;
    return a->dac_pj * ldexp(1.0, a->dac_bits - 1) + line_ff * 1e-3 * a->read_v * a->read_v;
}

/* A cell at level l conducts (l + g0) / (top + g0) of G_on, g0 = top /
 * (ratio - 1) (0 for an ideal ratio).  The calibration point (cell_fj_v2)
 * is a cell at half of G_on: the mean of a 2-bit cell's levels. */
double xb_arch_cell_read_pj(const xb_arch *a, double level) {
    double top = ldexp(1.0, a->bits_per_cell) - 1, ratio = xb_arch_on_off_ratio(a);
    double g0 = ratio > 1 ? top / (ratio - 1) : 0;
    double rel = (level + g0) / (top + g0) / 0.5;
    /* Read energy is V^2 G t: with explicit conductances it scales with
     * G_on against the conductance the calibration was taken at (factor 1
     * when only the ratio is given). */
    double gscale = xb_arch_g_on_us(a) / a->g_ref_us;
    return a->cell_fj_v2 * 1e-3 * a->read_v * a->read_v * rel * gscale;
}

/* Binary weights (weight_bits 1, ORSS'23) take one bit in every encoding:
 * offset stores (w + 1) / 2, a pair stores |w| = 1 on the sign's column. */
int xb_arch_magnitude_bits(const xb_arch *a) {
    if (a->weight_bits == 1) return 1;
    return a->encoding == XB_ENC_OFFSET ? a->weight_bits : a->weight_bits - 1;
}
