/* Analog buffers, time-domain converters, per-layer supply voltage and
 * converter bits, and buffer endurance: TIMELY (Li et al., ISCA 2020) and
 * LayCO (JCST 2023).  The seed for LayCO is its abstract; every mechanism
 * here beyond TIMELY's published energies is a reconstruction, marked as
 * such in docs/ARCH.md ("Analog buffers") and docs/REPRODUCTION.md.
 *
 * With buffer.enabled:
 *   - mapping: the psums of `buffer.chain` consecutive row-block crossbars
 *     are added in analog (P-subBufs and an I-adder per stage) and converted
 *     once: conversions per column drop from R to ceil(R / chain) row blocks
 *     (xb_buffer_map_layer, called by the compiler); inputs are converted
 *     once per position (DTC, O2IR) and forwarded to the other column blocks
 *     by X-subBufs;
 *   - simulation: the chain is one tall block (backend/crossbar/analog_buffer.h),
 *     each stage adding Gaussian noise of sigma(V_l) = buffer.sigma x (one
 *     crossbar's full-scale column sum) x (v_nominal / V_l)^noise_exp;
 *   - cost: DTC, TDC + charging/comparator, X-/P-subBuf and I-adder energies
 *     (TIMELY Table II via the Accelergy library) replace DAC, ADC and S+H;
 *     with the crossbar read they scale with (V_l / v_nominal)^2; the TDC
 *     with 2^(bits - 8) at the layer's converter bits;
 *   - endurance (buffer.rram): RRAM buffer cells wear with every write. */
#ifndef XBAR_ANALOG_BUFFER_H
#define XBAR_ANALOG_BUFFER_H

#include <stdio.h>

#include "backend/arch.h"
#include "backend/crossbar/crossbar.h"

/* Defaults of the buffer.* and DTC/TDC fields (off; TIMELY's energies). */
void xb_buffer_defaults(xb_arch *a);
/* Syntax and range checks of the buffer fields (xb_arch_validate). */
xb_status xb_buffer_validate(const xb_arch *a, xb_ctx *ctx);
/* buffer.layer_voltage indices against a model of n matrix layers. */
xb_status xb_buffer_check_layers(const xb_arch *a, int n, xb_ctx *ctx);
/* Supply voltage of matrix layer `layer` of n: its buffer.layer_voltage
 * entry (the last one wins; negative indices from the end), else
 * buffer.voltage. */
double xb_buffer_layer_voltage(const xb_arch *a, int layer, int n);
/* Energy factor (V_l / v_nominal)^2 of that layer. */
double xb_buffer_energy_scale(const xb_arch *a, int layer, int n);
/* Per-stage noise sigma of that layer in unit levels (0 without buffers). */
double xb_buffer_stage_sigma(const xb_arch *a, int layer, int n);
/* TDC energy per conversion at `bits` (pJ), before voltage scaling. */
double xb_buffer_tdc_pj(const xb_arch *a, int bits);

/* Crossbar configuration of layer `layer` of n with buffers: rows become a
 * chain, the stage noise is set (nothing without buffer.enabled). */
void xb_buffer_configure(const xb_arch *a, int layer, int n, xb_crossbar_config *c);
/* Area of one tile's partitions with buffers and time-domain converters. */
double xb_buffer_partitions_area_um2(const xb_arch *a);

#endif
