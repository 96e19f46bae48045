/* The DATE'24 ADC co-design on a backend (backend/crossbar/sar.h does the
 * per-conversion work): attaching each layer's SAR state, choosing the
 * non-uniform transfers after calibration, turning the counted trials into
 * the ADC energy fraction the cost model charges (the per-trial SAR model
 * of docs/ARCH.md, "SAR energy per trial"), and the report lines. */
#ifndef XBAR_ADC_SAR_H
#define XBAR_ADC_SAR_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "backend/engine.h"

/* SAR energy per conversion in the per-trial model, as a fraction of a
 * full `bits`-bit conversion: one sampling unit, then per trial run the
 * comparator and logic (energy.adc_bit_pj) and its capacitor (2^i units of
 * energy.adc_fom_fj); `logic` bit-adds of bound logic at energy.alu_pj / 32
 * each.  Arguments are means per conversion. */
double xb_sar_energy_frac(const xb_arch *a, int bits, double trials, double units, double logic);

/* Layer i's SAR state for the arch (data skipping), uniform transfer. */
xb_status xb_backend_sar_attach(xb_backend *b, int i, xb_ctx *ctx);
/* Back to the uniform transfer (calibration begins); no allocation. */
void xb_backend_sar_uniform(xb_backend *b, int i);
/* After calibration: layer i's non-uniform transfer from its histogram. */
xb_status xb_backend_sar_choose(xb_backend *b, int i, xb_ctx *ctx);
/* Layer i's ADC energy fraction into the mapping: from the counted trials
 * when the layer has SAR state and counts, else from the static bounds
 * (adc.skip_cycles=static), else 1. */
void xb_backend_sar_charge(xb_backend *b, int i);

/* Report: one line per layer with SAR state or a transfer, and the
 * per-layer JSON fields (trials, transfer). */
void xb_sar_print(FILE *f, const xb_backend *b);
void xb_sar_json_layer(cJSON *o, const xb_backend *b, int i);

#endif
