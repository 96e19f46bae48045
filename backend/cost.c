/* Cost model (see cost.h). */
#include "backend/cost.h"

#include <stdlib.h>

const char *const xb_energy_names[XB_E_COUNT] = {"adc",       "dac",       "crossbar",
                                                 "sample_hold", "shift_add", "input_reg",
                                                 "output_reg", "edram",     "alu"};

/* Digital ops per matrix-layer output: offset-encoding (or center)
 * correction, zero-point correction, scale, bias. */
#define ALU_OPS_PER_OUTPUT 4

double xb_cost_tile_area_um2(const xb_arch *a) {
    double xbar = a->xbar_um2 + a->rows * a->dac_um2 + a->cols * a->sh_um2 +
                  a->adcs_per_crossbar * xb_arch_adc_area_um2(a, xb_arch_adc_eff_bits(a));
    double part = a->sa_um2 + a->ir_um2 + a->or_um2 + a->xbars_per_partition * xbar;
    return a->edram_um2 + a->partitions_per_tile * part;
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
    int xbytes = (a->input_bits + 7) / 8;
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        xb_layer_cost *lc = &c->layers[i];
        double *e = lc->pj;
        /* Energy per conversion taken as proportional to the SAR trials
         * it runs (adc.skip_cycles; docs/BACKEND.md). */
        e[XB_E_ADC] = (double)l->conversions * xb_arch_adc_energy_pj(a, l->adc_bits) *
                      l->adc_cycle_frac;
        e[XB_E_DAC] = (double)l->dac_acts * a->dac_pj;
        e[XB_E_XBAR] = l->xbar_row_reads * a->xbar_pj;
        e[XB_E_SH] = (double)l->col_samples * a->sh_pj;
        e[XB_E_SA] = (double)l->conversions * a->sa_pj;
        e[XB_E_IR] = (double)l->dac_acts * a->dac_bits / 8.0 * a->ir_pj_per_byte;
        e[XB_E_OR] = (double)l->conversions * a->or_pj;
        e[XB_E_EDRAM] = (double)(l->s.in_elems + l->s.out_elems) * xbytes * a->edram_pj_per_byte;
        e[XB_E_ALU] = (double)(l->s.N * l->s.groups * l->s.P) * ALU_OPS_PER_OUTPUT * a->alu_pj;
        for (int k = 0; k < XB_E_COUNT; k++) {
            lc->total_pj += e[k];
            c->pj[k] += e[k];
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

void xb_cost_free(xb_cost *c) {
    if (!c) return;
    free(c->layers);
    free(c);
}
