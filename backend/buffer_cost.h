/* Analog buffers in the mapping, the cost model and the reports:
 * conversions saved per layer, the DTC/TDC/sub-buffer energies at each
 * layer's voltage and bits, and the endurance of RRAM buffers (LayCO).
 * See backend/analog_buffer.h for the model and docs/ARCH.md for the
 * numbers and what is reconstructed. */
#ifndef XBAR_BUFFER_COST_H
#define XBAR_BUFFER_COST_H

#include <stdio.h>

#include "backend/compile.h"
#include "backend/cost.h"

struct cJSON;

/* Compiler hook: with buffers, one conversion per chain of row blocks;
 * records the conversions saved.  No-op without buffer.enabled. */
void xb_buffer_map_layer(const xb_arch *a, xb_layer_map *l);
/* Cost hook: replaces the DAC, ADC and S+H terms of layer `layer` of n
 * by DTC, TDC + charging/comparator and P-subBuf + I-adder, adds the
 * X-subBufs to the input register, and scales the analog terms by
 * (V_l / V_nom)^2.  No-op without buffer.enabled. */
void xb_buffer_layer_energy(const xb_arch *a, const xb_layer_map *l, int layer, int n, double *e);

/* Endurance of RRAM buffers, per inference (analytic, from the mapping):
 * every psum a crossbar column hands to its P-subBuf and every input an
 * X-subBuf latches is one cell write.  Without swapping each layer's data
 * sit in the buffers of its own crossbars at fixed cells, rewritten every
 * position step: the hottest cell takes max_l ceil(P_l / replicas) x input
 * slices writes per inference.  With swapping the layer-to-partition
 * mapping rotates over `partitions` buffer partitions (and over the cells
 * of each) from one inference to the next, so in the long run every cell
 * takes writes / (partitions x cells per partition).  Lifetime (inferences)
 * = endurance / the hottest cell's writes per inference, i.e. with
 * swapping endurance x partitions / (writes per inference per partition
 * cell) [reconstructed]. */
typedef struct {
    double writes;              /* buffer cell writes per inference, all layers */
    double cells_per_partition; /* crossbars per partition x (rows + cols) */
    int64_t partitions;         /* rotation span */
    double peak_partition_writes_no_swap; /* busiest partition, static mapping */
    double peak_partition_writes_swap;    /* writes / partitions */
    double peak_cell_writes_no_swap, peak_cell_writes_swap;
    /* Rotating over partitions only (every layer's data at offset 0 of the
     * partition it visits): the cells at offset 0 take sum_l ceil(P_l /
     * replicas) x input slices / partitions writes per inference. */
    double peak_cell_writes_partition_swap;
    double lifetime, lifetime_no_swap;    /* inferences */
    double lifetime_partition_swap;
} xb_endurance;
void xb_buffer_endurance(const xb_mapping *m, xb_endurance *e);

/* Report hooks (backend/profile.c): a text block and a JSON object
 * ("analog_buffer": per layer voltage, bits, stage sigma, conversions
 * saved; "endurance" when buffer.rram). */
void xb_buffer_print(FILE *f, const xb_mapping *m);
void xb_buffer_json(const xb_mapping *m, struct cJSON *totals);

#endif
