/* Crossbar configuration from an architecture (see from_arch.h). */
#include "backend/crossbar/from_arch.h"

#include <math.h>
#include <string.h>

void xb_crossbar_config_from_arch(const xb_arch *a, const xb_qlayer *q, int layer_id,
                                  xb_crossbar_config *c) {
    memset(c, 0, sizeof *c);
    c->K = q->K;
    c->N = q->N;
    c->groups = q->groups;
    c->rows = a->rows;
    c->even_rows = a->row_split == XB_SPLIT_EVEN;
    c->dac_bits = a->dac_bits;
    c->input_slices = xb_arch_input_slices(a);
    c->cell_bits = a->bits_per_cell;
    c->w_slices = xb_arch_weight_slices(a);
    int sw[16], ns = xb_arch_slice_widths(a, sw);
    for (int s = 0; s < ns; s++) c->slice_bits[s] = (int8_t)sw[s];
    c->weight_bits = a->weight_bits;
    c->differential = xb_arch_pair_columns(a);
    c->center = a->encoding == XB_ENC_CENTER;
    c->flip = a->flip;
    c->signed_pair = c->differential && a->adc_signed;
    c->lossless = true;
    c->lsb = 1;
    c->prog_sigma = a->prog_sigma;
    c->read_sigma = a->read_sigma;
    c->stuck_low = a->stuck_low;
    c->stuck_high = a->stuck_high;
    c->on_off_ratio = xb_arch_on_off_ratio(a); /* from G_on / G_off when given */
    c->seed = a->seed;
    c->layer_id = layer_id;
    /* device and circuit non-idealities */
    c->off_comp = a->off_compensation;
    c->prog_floor = a->prog_floor;
    c->read_current_sigma = a->read_current_sigma;
    c->read_row_sigma = a->read_row_sigma;
    c->drift_seconds = a->drift_seconds;
    c->drift_nu = a->drift_nu;
    c->drift_t0 = a->drift_t0;
    c->drift_comp = a->drift_compensation;
    c->ir_drop = a->ir_drop;
    c->cols = a->cols;
    c->adcs_per_xbar = a->adcs_per_crossbar;
    c->adc_offset = a->adc_offset_lsb;
    c->adc_gain = a->adc_gain_sigma;
    c->adc_inl = a->adc_inl_lsb;
    c->input_control = a->input_control;
}

/* SAR cycle skipping, after the DATE'24 ADC co-design (Zhang, Yuan et
 * al.): a SAR ADC resolves one bit per trial from the MSB down; when the
 * column can never produce a code above 2^m - 1 the trials above bit m are
 * known to give 0 and are skipped.  The bound used here is static, from
 * the programmed weights: dmax * sum of the column's levels in the row
 * block, over the LSB (for a signed pair the larger side, plus a sign trial
 * when both sides can be nonzero).  The paper also uses the output
 * distribution; that part is a reconstruction we do not model.  Result:
 * the mean trials per conversion over `bits`, charged by the cost model as
 * the ADC energy fraction. */
double xb_crossbar_sar_trial_frac(const xb_crossbar_layer *l, int bits) {
    const xb_crossbar_config *c = &l->cfg;
    double dmax = (double)((1 << c->dac_bits) - 1), lsb = c->lossless ? 1 : c->lsb;
    int64_t N = c->N, ncc = xb_crossbar_convs_per_block(l);
    double trials = 0, convs = 0;
    for (int64_t gr = 0; gr < c->groups * l->R; gr++) {
        const int32_t *ls = l->levsum + gr * l->C;
        for (int64_t cc = 0; cc < ncc; cc++) {
            int64_t col = xb_conversion_col(c->signed_pair, N, cc);
            int64_t sp = ls[col], sn = c->signed_pair ? ls[col + N] : 0;
            int64_t mag = sp > sn ? sp : sn;
            int need = xb_arch_bits_for((int64_t)ceil((double)mag * dmax / lsb)) +
                       (sp > 0 && sn > 0 ? 1 : 0);
            trials += need < bits ? need : bits;
            convs += 1;
        }
    }
    return convs > 0 && bits > 0 ? trials / (convs * bits) : 1;
}
