/* The crossbar simulation's side of an architecture description: a
 * layer's configuration from the arch, and what the arch's ADC options
 * mean for a built layer. */
#ifndef XBAR_CROSSBAR_FROM_ARCH_H
#define XBAR_CROSSBAR_FROM_ARCH_H

#include "backend/arch.h"
#include "backend/crossbar/crossbar.h"
#include "kernels/qlayer.h"

/* The configuration of matrix layer q (number layer_id, which keys its
 * random draws) under arch a: geometry, number format, encoding, slicing
 * and non-idealities.  The ADC starts lossless; the engine sets the arch's
 * ADC on the built layer (xb_crossbar_layer_set_adc), since a calibrated
 * range needs the layer's observed sums first. */
void xb_crossbar_config_from_arch(const xb_arch *a, const xb_qlayer *q, int layer_id,
                                  xb_crossbar_config *c);

/* The configuration's measured noise table: c->table borrows `table`,
 * which the caller loads once with xb_noise_table_load(a->noise_table)
 * when a->noise_table is set and frees after building the layers. */

#endif
