/* Crossbar configuration from an architecture (see from_arch.h). */
#include "backend/crossbar/from_arch.h"

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
