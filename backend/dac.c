/* DAC energy models; see dac.h. */
#include "backend/dac.h"

#include <math.h>

#include "backend/engine.h"
#include "backend/raella.h"

double xb_dac_pulse_pj(const xb_arch *a) {
    xb_arch t = *a;
    t.dac_bits = 1;
    return xb_arch_row_activation_pj(&t);
}

/* Mean of a uniformly distributed w-bit digit. */
static double mean_digit(int w) { return (ldexp(1.0, w) - 1) / 2; }

void xb_dac_map_layer(const xb_arch *a, xb_layer_map *l) {
    int J = l->input_slices > 0 ? l->input_slices : 1;
    double per_cycle = (double)l->dac_acts / J; /* rows x column blocks x positions */
    double d = 0;
    for (int j = 0, left = l->input_bits; j < J; j++, left -= a->dac_bits) /* this layer's bits */
        d += mean_digit(left < a->dac_bits ? (left > 0 ? left : 0) : a->dac_bits);
    int w[8], Js = a->dac_speculation ? xb_raella_spec_widths(a, w) : 0;
    for (int j = 0; j < Js; j++) d += mean_digit(w[j]);
    l->dac_pulses = per_cycle * d;
}

void xb_dac_update_map(xb_backend *b) {
    if (b->arch.dac_model != XB_DAC_PULSE || b->images <= 0) return;
    for (int i = 0; i < b->n; i++) {
        xb_layer_map *m = &b->map->layers[i];
        m->dac_pulses = (double)b->stats[i].dac_pulses / (double)b->images * (double)m->col_blocks;
    }
}

double xb_dac_layer_pj(const xb_arch *a, const xb_layer_map *l) {
    if (a->dac_model == XB_DAC_PULSE) return l->dac_pulses * xb_dac_pulse_pj(a);
    return (double)l->dac_acts * xb_arch_row_activation_pj(a) + l->dac_extra_pj;
}
