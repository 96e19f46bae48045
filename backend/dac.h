/* What the DAC costs (dac.model; docs/ARCH.md "DAC energy").
 *
 *   - level (default): every driven row of every input cycle costs one
 *     dac.bits-wide level, xb_arch_row_activation_pj: ISAAC's DACs at
 *     their Table I power whatever the data.
 *   - pulse: a pulse-train DAC (RAELLA) sends d unit pulses for an input
 *     digit d; one pulse costs a 1-bit row activation (driver and row-line
 *     charge).  The pulses are counted from the inputs actually run
 *     (backend/crossbar/pulses.c); `xbar compile`, which has no data,
 *     charges the expectation for uniformly distributed digits. */
#ifndef XBAR_DAC_H
#define XBAR_DAC_H

#include "backend/arch.h"
#include "backend/compile.h"

struct xb_backend;

/* Energy of one unit pulse (pJ). */
double xb_dac_pulse_pj(const xb_arch *a);
/* The expected pulses of one layer (uniform digits); compile.c calls it
 * with the layer's plain input slicing, before speculation is mapped. */
void xb_dac_map_layer(const xb_arch *a, xb_layer_map *l);
/* The counted pulses per image replace the expectation (after a merge). */
void xb_dac_update_map(struct xb_backend *b);
/* DAC energy of one layer under a's model (pJ per image). */
double xb_dac_layer_pj(const xb_arch *a, const xb_layer_map *l);

#endif
