/* Unit pulses of a pulse-train DAC (dac.model = pulse, docs/ARCH.md "DAC
 * energy").  RAELLA drives its inputs as pulse trains: an input digit d is
 * d unit pulses, so the DAC energy follows the values run rather than the
 * cycles (Andrulis et al., ISCA 2023: a 4-bit pulse-train DAC; facts in
 * ../shared/reference/seed-papers.md).  A digit's cost depends only on the
 * input code, so a 256-entry table built with the layer gives the count
 * exactly. */
#include "backend/crossbar/internal.h"

/* Pulses of one code: the digits of its slices, LSB slice first. */
static int code_pulses(int code, const int8_t *width, int n) {
    int p = 0;
    for (int j = 0, sh = 0; j < n; sh += width[j], j++) p += (code >> sh) & ((1 << width[j]) - 1);
    return p;
}

void xb_crossbar_pulse_table(xb_crossbar_layer *l) {
    const xb_crossbar_config *c = &l->cfg;
    int8_t w[16];
    int n = c->input_slices < 16 ? c->input_slices : 16;
    for (int j = 0; j < n; j++) w[j] = (int8_t)c->dac_bits;
    for (int v = 0; v < 256; v++) {
        l->pulses[v] = code_pulses(v, w, n);
        /* speculation: the wide slices first, then the bit-serial recovery
         * cycles, which drive every row (speculate.c counts 11 cycles) */
        if (c->spec_n) l->pulses[v] += code_pulses(v, c->spec_bits, c->spec_n);
    }
}

int64_t xb_crossbar_count_pulses(const xb_crossbar_layer *l, const uint8_t *x, int64_t P) {
    int64_t sum = 0, n_el = l->cfg.K * P;
    for (int64_t i = 0; i < n_el; i++) sum += l->pulses[x[i]];
    return sum;
}
