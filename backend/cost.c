/* Cost model (see cost.h; formulas and sources in docs/ARCH.md). */
#include "backend/cost.h"

#include <stdlib.h>
#include <string.h>

#include "backend/analog_buffer.h"
#include "backend/buffer_cost.h"
#include "backend/crossbar/geometry.h"
#include "backend/dac.h"

const char *const xb_energy_names[XB_E_COUNT] = {
    "adc",        "dac",   "crossbar", "sample_hold", "shift_add", "input_reg",
    "output_reg", "edram", "alu",      "bus",         "router"};

/* Digital ops per matrix-layer output: offset-encoding (or center)
 * correction, zero-point correction, scale, bias. */
#define ALU_OPS_PER_OUTPUT 4

double xb_cost_partitions_area_um2(const xb_arch *a) {
    if (a->buf_on) return xb_buffer_partitions_area_um2(a);
    double xbar = xb_arch_crossbar_um2(a) + a->rows * a->dac_um2 + a->cols * a->sh_um2 +
                  a->adcs_per_crossbar * xb_arch_adc_area_um2(a, xb_arch_adc_eff_bits(a));
    double part = a->sa_um2 + a->ir_um2 + a->or_um2 + a->xbars_per_partition * xbar;
    return a->partitions_per_tile * part;
}

double xb_cost_tile_area_um2(const xb_arch *a) {
    return a->edram_um2 + a->tile_bus_um2 + a->tile_router_um2 / a->tiles_per_router +
           a->tile_digital_um2 + xb_cost_partitions_area_um2(a);
}

/* Bytes of one input code on the bus and in eDRAM. */
static int xbytes(const xb_arch *a) { return (a->input_bits + 7) / 8; }

/* Per-event energies times the mapping's counts; eDRAM, bus and router by
 * the bytes they move. */
static void layer_energy(const xb_arch *a, const xb_layer_map *l, double *e) {
    int xb = xbytes(a);
    /* Energy per conversion scaled by the SAR trials it runs (adc.skip_cycles,
     * adc.quantizer; the per-trial model of docs/ARCH.md, backend/adc_sar.h). */
    e[XB_E_ADC] =
        (double)l->conversions * xb_arch_adc_energy_pj(a, l->adc_bits) * l->adc_cycle_frac;
    e[XB_E_DAC] = xb_dac_layer_pj(a, l); /* dac.model: per level or per pulse */
    double per_w = l->cells_driven / (double)l->w_slices; /* cells per slice */
    /* The cell energy is affine in the level, so the sum over slices of
     * per_w x E(mean level of slice s) needs only the summed means. */
    double lev = xb_arch_slice_mean_levels(a);
    e[XB_E_XBAR] = per_w * (xb_arch_cell_read_pj(a, lev) - xb_arch_cell_read_pj(a, 0)) +
                   l->cells_driven * xb_arch_cell_read_pj(a, 0) +
                   l->cells_idle * xb_arch_cell_read_pj(a, 0) +
                   l->unit_cells * xb_arch_cell_read_pj(a, 1);
    e[XB_E_SH] = (double)l->col_samples * a->sh_pj;
    e[XB_E_SA] = (double)l->conversions * a->sa_pj;
    e[XB_E_IR] = (double)l->dac_acts * a->dac_bits / 8.0 * a->ir_pj_per_byte;
    e[XB_E_OR] = (double)l->conversions * a->or_pj;
    e[XB_E_EDRAM] = (double)(l->s.in_elems + l->s.out_elems) * xb * a->edram_pj_per_byte;
    e[XB_E_ALU] = (double)(l->s.N * l->s.groups * l->s.P) * ALU_OPS_PER_OUTPUT * a->alu_pj;
    /* Bus: Table I's 7 mW at its full bandwidth is pJ per byte; router:
     * each layer's output crosses one router. */
    double bus_pj_per_byte = a->bus_bytes_per_ns > 0 ? a->tile_bus_mw / a->bus_bytes_per_ns : 0;
    e[XB_E_BUS] = xb_layer_bus_bytes(a, l) * bus_pj_per_byte;
    e[XB_E_ROUTER] = (double)l->s.out_elems * xb * a->router_pj_per_byte;
}

xb_cost *xb_cost_compute(const xb_mapping *m, xb_ctx *ctx) {
    const xb_arch *a = &m->arch;
    xb_cost *c = xb_calloc(ctx, 1, sizeof *c);
    if (!c) return NULL;
    c->n = m->n;
    c->layers = xb_calloc(ctx, (size_t)(m->n ? m->n : 1), sizeof *c->layers);
    if (!c->layers) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        xb_layer_cost *lc = &c->layers[i];
        xb_arch la; /* the layer's weight and input bits (layer_*_bits) */
        xb_arch_layer_view(a, i, m->n, &la);
        layer_energy(&la, l, lc->pj);
        xb_buffer_layer_energy(a, l, i, m->n, lc->pj);
        for (int k = 0; k < XB_E_COUNT; k++) {
            lc->total_pj += lc->pj[k];
            c->pj[k] += lc->pj[k];
        }
        lc->cycle_ns = xb_layer_cycle_ns(a, l);
        lc->latency_ns = xb_layer_latency_ns(a, l);
        if (lc->latency_ns > c->pipeline_ns) {
            c->pipeline_ns = lc->latency_ns;
            c->bottleneck = i;
        }
        c->energy_pj += lc->total_pj;
        c->latency_ns += lc->latency_ns;
        c->macs += l->macs;
        c->conversions += l->conversions;
    }
    c->adc_share = c->energy_pj > 0 ? c->pj[XB_E_ADC] / c->energy_pj : 0;
    c->conversions_per_mac = c->macs ? (double)c->conversions / (double)c->macs : 0;
    c->tops_per_w = c->energy_pj > 0 ? 2.0 * (double)c->macs / c->energy_pj : 0;
    c->gops = c->latency_ns > 0 ? 2.0 * (double)c->macs / c->latency_ns : 0;
    c->pipelined_ips = c->pipeline_ns > 0 ? 1e9 / c->pipeline_ns : 0;
    double tile = xb_cost_tile_area_um2(a) * 1e-6;
    c->area_mm2_used = (double)m->tiles * tile;
    c->area_mm2_chip = (double)a->tiles * tile;
    c->gops_per_mm2 = c->area_mm2_used > 0 ? c->gops / c->area_mm2_used : 0;
    return c;
}

/* Full utilisation: each crossbar of each partition reads all rows x all
 * columns every cycle (max(read, conversions / ADC throughput)), all
 * columns are sampled and converted at adc.bits, the tile-level units run
 * at their Table I powers. */
void xb_cost_peak_compute(const xb_arch *a, xb_cost_peak *p) {
    memset(p, 0, sizeof *p);
    double cols = a->cols, rows = a->rows;
    double conv = (double)xb_conversions_per_block(xb_arch_pair_columns(a) && a->adc_signed,
                                                   a->cols);
    double conv_ns = conv / (a->adcs_per_crossbar * a->adc_gsps);
    p->cycle_ns = conv_ns > a->xbar_read_ns ? conv_ns : a->xbar_read_ns;
    double nx = (double)a->xbars_per_partition * a->partitions_per_tile;
    double *e = p->pj_per_cycle;
    int bits = xb_arch_adc_eff_bits(a);
    /* A full crossbar holds cols / cols_per_slice slice units, whose
     * levels average the slicing's mean level per slice. */
    double lev = xb_arch_slice_mean_levels(a) / xb_arch_weight_slices(a);
    e[XB_E_ADC] = nx * conv * xb_arch_adc_energy_pj(a, bits);
    e[XB_E_DAC] = nx * rows * xb_arch_row_activation_pj(a);
    e[XB_E_XBAR] = nx * rows * cols * xb_arch_cell_read_pj(a, lev);
    e[XB_E_SH] = nx * cols * a->sh_pj;
    e[XB_E_SA] = nx * conv * a->sa_pj;
    e[XB_E_IR] = nx * rows * a->dac_bits / 8.0 * a->ir_pj_per_byte;
    e[XB_E_OR] = nx * conv * a->or_pj;
    /* mW x ns = pJ */
    e[XB_E_EDRAM] = a->tile_edram_mw * p->cycle_ns;
    e[XB_E_BUS] = a->tile_bus_mw * p->cycle_ns;
    e[XB_E_ROUTER] = a->tile_router_mw / a->tiles_per_router * p->cycle_ns;
    e[XB_E_ALU] = a->tile_digital_mw * p->cycle_ns;
    double total = 0, part = 0;
    for (int k = 0; k < XB_E_COUNT; k++) total += e[k];
    for (int k = XB_E_ADC; k <= XB_E_OR; k++) part += e[k];
    p->tile_power_mw = total / p->cycle_ns;
    p->partition_power_mw = part / p->cycle_ns / a->partitions_per_tile;
    p->adc_power_share = total > 0 ? e[XB_E_ADC] / total : 0;
    double area = xb_cost_tile_area_um2(a);
    p->tile_area_mm2 = area * 1e-6;
    p->adc_area_share = nx * a->adcs_per_crossbar * xb_arch_adc_area_um2(a, bits) / area;
}

void xb_cost_free(xb_cost *c) {
    if (!c) return;
    free(c->layers);
    free(c);
}
