/* Analog buffers in the mapping, cost and reports (see buffer_cost.h). */
#include "backend/buffer_cost.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "backend/analog_buffer.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void xb_buffer_map_layer(const xb_arch *a, xb_layer_map *l) {
    l->conversions_saved = 0;
    if (!a->buf_on) return;
    /* The compiler counted one conversion per row block; a chain of
     * buffer.chain row blocks converts once. */
    int64_t chains = ceil_div(l->row_blocks, a->buf_chain);
    int64_t per_block = l->conversions / l->row_blocks;
    l->conversions_saved = (l->row_blocks - chains) * per_block;
    l->conversions = chains * per_block;
    /* What one conversion can see: the sum of a whole chain. */
    int64_t chain_rows = l->s.K < (int64_t)a->rows * a->buf_chain ? l->s.K
                                                                  : (int64_t)a->rows * a->buf_chain;
    int64_t klev = chain_rows * ((1 << a->bits_per_cell) - 1);
    l->max_column_sum = (a->flip ? klev / 2 : klev) * ((1 << a->dac_bits) - 1);
}

/* Per-inference event counts of the buffer datapath (buffer_cost.h). */
typedef struct {
    double dtc, xsub_fwd, xsub_writes, psub;
} buf_counts;

static void counts(const xb_layer_map *l, buf_counts *c) {
    double GPJ = (double)l->s.groups * (double)l->s.P * l->input_slices;
    /* [reconstructed] O2IR ("only once input read"): each element of the
     * layer's input tensor is read and converted once (DTC), then held and
     * forwarded by X-subBufs to every row it feeds, at every position
     * (the im2col reuse) and in every column block; each crossbar row's
     * X-subBuf latches it per position (a write of an RRAM buffer cell). */
    c->dtc = (double)l->s.in_elems * l->input_slices;
    c->xsub_fwd = (double)l->s.K * (double)l->col_blocks * GPJ;
    c->xsub_writes = (double)l->s.K * (double)l->col_blocks * GPJ;
    /* Every crossbar column's psum enters a P-subBuf and its I-adder. */
    c->psub = (double)l->col_samples;
}

void xb_buffer_layer_energy(const xb_arch *a, const xb_layer_map *l, int layer, int n, double *e) {
    if (!a->buf_on) return;
    buf_counts c;
    counts(l, &c);
    double s = xb_buffer_energy_scale(a, layer, n);
    if (a->time_domain) {
        e[XB_E_DAC] = c.dtc * a->dtc_pj * s;
        e[XB_E_ADC] = (double)l->conversions *
                      (xb_buffer_tdc_pj(a, l->adc_bits) + a->chcmp_pj) * s;
    }
    /* The psums go to P-subBufs and current adders, not to S+H. */
    e[XB_E_SH] = c.psub * (a->psub_pj + a->iadder_pj) * s;
    /* [reconstructed] O2IR: the input register is read once per input
     * element (the DTC's input); the X-subBufs carry it on. */
    e[XB_E_IR] = c.dtc * a->dac_bits / 8.0 * a->ir_pj_per_byte + c.xsub_fwd * a->xsub_pj * s;
    /* [reconstructed] the read voltage follows the layer's supply. */
    e[XB_E_XBAR] *= s;
}

/* Static mapping: a layer's partitions hold its buffers; its writes are
 * spread over them (used by the per-partition figure only). */
static double peak_partition_static(const xb_mapping *m, const double *w) {
    int64_t np = m->partitions > 0 ? m->partitions : 1;
    double *per = calloc((size_t)np, sizeof *per), peak = 0;
    if (!per) return 0;
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        int64_t lp = l->partitions > 0 ? l->partitions : 1;
        for (int64_t p = 0; p < lp && l->first_partition + p < np; p++)
            per[l->first_partition + p] += w[i] / (double)lp;
    }
    for (int64_t p = 0; p < np; p++)
        if (per[p] > peak) peak = per[p];
    free(per);
    return peak;
}

void xb_buffer_endurance(const xb_mapping *m, xb_endurance *e) {
    const xb_arch *a = &m->arch;
    double *w = calloc((size_t)(m->n ? m->n : 1), sizeof *w);
    *e = (xb_endurance){0};
    e->cells_per_partition = (double)a->xbars_per_partition * (a->rows + a->cols);
    e->partitions = a->buf_partitions > 0 ? a->buf_partitions : m->partitions;
    if (e->partitions < 1) e->partitions = 1;
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        buf_counts c;
        counts(l, &c);
        double wi = c.psub + c.xsub_writes;
        if (w) w[i] = wi;
        e->writes += wi;
        /* each used cell is rewritten once per position step and input slice */
        double per_cell = (double)ceil_div(l->s.P, l->replicas) * l->input_slices;
        if (per_cell > e->peak_cell_writes_no_swap) e->peak_cell_writes_no_swap = per_cell;
        e->peak_cell_writes_partition_swap += per_cell / (double)e->partitions;
    }
    e->peak_partition_writes_no_swap = w ? peak_partition_static(m, w) : 0;
    e->peak_partition_writes_swap = e->writes / (double)e->partitions;
    e->peak_cell_writes_swap = e->peak_partition_writes_swap / e->cells_per_partition;
    e->lifetime = e->peak_cell_writes_swap > 0 ? a->buf_endurance / e->peak_cell_writes_swap : 0;
    e->lifetime_no_swap =
        e->peak_cell_writes_no_swap > 0 ? a->buf_endurance / e->peak_cell_writes_no_swap : 0;
    e->lifetime_partition_swap = e->peak_cell_writes_partition_swap > 0
                                     ? a->buf_endurance / e->peak_cell_writes_partition_swap
                                     : 0;
    free(w);
}

void xb_buffer_print(FILE *f, const xb_mapping *m) {
    const xb_arch *a = &m->arch;
    int64_t saved = 0, conv = 0;
    for (int i = 0; i < m->n; i++) {
        saved += m->layers[i].conversions_saved;
        conv += m->layers[i].conversions;
    }
    fprintf(f, "analog buffers: chains of %d crossbars, %s converters; conversions per inference "
               "%lld, saved %lld (%.1f%%)\n",
            a->buf_chain, a->time_domain ? "DTC/TDC" : "DAC/ADC", (long long)conv,
            (long long)saved, conv + saved > 0 ? 100.0 * (double)saved / (double)(conv + saved) : 0);
    fprintf(f, "  per layer (V, bits, stage sigma in levels, conversions saved):");
    for (int i = 0; i < m->n; i++)
        fprintf(f, " #%d %.2fV %db %.3g %lld%s", i, xb_buffer_layer_voltage(a, i, m->n),
                m->layers[i].adc_bits, xb_buffer_stage_sigma(a, i, m->n),
                (long long)m->layers[i].conversions_saved, i + 1 < m->n ? ";" : "\n");
    if (!a->buf_rram) return;
    xb_endurance e;
    xb_buffer_endurance(m, &e);
    fprintf(f, "endurance (RRAM buffers, %.3g writes/cell): %.4g buffer writes per inference; "
               "peak per partition %.4g (static) / %.4g (swapped over %lld partitions); "
               "lifetime %.4g inferences with swapping, %.4g without (%.1fx); %.4g rotating over "
               "partitions only\n",
            a->buf_endurance, e.writes, e.peak_partition_writes_no_swap,
            e.peak_partition_writes_swap, (long long)e.partitions, e.lifetime, e.lifetime_no_swap,
            e.lifetime_no_swap > 0 ? e.lifetime / e.lifetime_no_swap : 0,
            e.lifetime_partition_swap);
}

static cJSON *endurance_json(const xb_mapping *m) {
    xb_endurance e;
    xb_buffer_endurance(m, &e);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "lifetime_inferences", e.lifetime);
    cJSON_AddNumberToObject(o, "lifetime_inferences_no_swap", e.lifetime_no_swap);
    cJSON_AddNumberToObject(o, "lifetime_inferences_partition_swap_only", e.lifetime_partition_swap);
    cJSON_AddNumberToObject(o, "endurance_writes", m->arch.buf_endurance);
    cJSON_AddNumberToObject(o, "writes_per_inference", e.writes);
    cJSON_AddNumberToObject(o, "partitions", (double)e.partitions);
    cJSON_AddNumberToObject(o, "cells_per_partition", e.cells_per_partition);
    cJSON_AddNumberToObject(o, "peak_partition_writes_no_swap", e.peak_partition_writes_no_swap);
    cJSON_AddNumberToObject(o, "peak_partition_writes_swap", e.peak_partition_writes_swap);
    cJSON_AddNumberToObject(o, "peak_cell_writes_no_swap", e.peak_cell_writes_no_swap);
    cJSON_AddNumberToObject(o, "peak_cell_writes_swap", e.peak_cell_writes_swap);
    return o;
}

void xb_buffer_json(const xb_mapping *m, cJSON *totals) {
    const xb_arch *a = &m->arch;
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    int64_t saved = 0;
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        cJSON *li = cJSON_CreateObject();
        cJSON_AddStringToObject(li, "name", l->s.name);
        cJSON_AddNumberToObject(li, "voltage", xb_buffer_layer_voltage(a, i, m->n));
        cJSON_AddNumberToObject(li, "converter_bits", l->adc_bits);
        cJSON_AddNumberToObject(li, "stage_sigma_levels", xb_buffer_stage_sigma(a, i, m->n));
        cJSON_AddNumberToObject(li, "conversions", (double)l->conversions);
        cJSON_AddNumberToObject(li, "conversions_saved", (double)l->conversions_saved);
        cJSON_AddItemToArray(arr, li);
        saved += l->conversions_saved;
    }
    cJSON_AddNumberToObject(o, "chain", a->buf_chain);
    cJSON_AddBoolToObject(o, "time_domain", a->time_domain);
    cJSON_AddNumberToObject(o, "conversions_saved", (double)saved);
    cJSON_AddItemToObject(o, "layers", arr);
    cJSON_AddItemToObject(totals, "analog_buffer", o);
    if (a->buf_rram) cJSON_AddItemToObject(totals, "endurance", endurance_json(m));
}
