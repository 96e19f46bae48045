/* The DATE'24 ADC co-design on a backend (adc_sar.h). */
#include "backend/adc_sar.h"

#include <math.h>

#include "backend/crossbar/sar.h"

double xb_sar_energy_frac(const xb_arch *a, int bits, double trials, double units, double logic) {
    double eb = a->adc_bit_pj, ec = a->adc_fom_fj * 1e-3;
    double full = eb * bits + ec * ldexp(1.0, bits);
    if (bits <= 0 || full <= 0) return 1;
    /* one unit for sampling: a full conversion (trials = bits, units =
     * 2^bits - 1) is then exactly the fit E(b) = b eb + 2^b ec */
    return (ec + trials * eb + units * ec + logic * a->alu_pj / 32.0) / full;
}

xb_status xb_backend_sar_attach(xb_backend *b, int i, xb_ctx *ctx) {
    return xb_sar_attach(b->layers[i], xb_arch_sar_skip(&b->arch), b->map->layers[i].adc_bits,
                         NULL, ctx);
}

void xb_backend_sar_uniform(xb_backend *b, int i) {
    /* Calibration needs only the exact column sums: drop the state (no
     * allocation: mode off, no transfer), xb_backend_sar_choose attaches
     * it again when calibration ends. */
    (void)xb_sar_attach(b->layers[i], XB_SAR_OFF, 0, NULL, NULL);
}

xb_status xb_backend_sar_choose(xb_backend *b, int i, xb_ctx *ctx) {
    xb_crossbar_layer *l = b->layers[i];
    if (b->arch.adc_quantizer != XB_QUANT_NONUNIFORM) return xb_backend_sar_attach(b, i, ctx);
    const xb_crossbar_config *c = xb_crossbar_cfg(l);
    xb_nu_quant q = xb_nu_choose(&b->stats[i], c->code_lo, c->code_hi, c->lossless ? 1 : c->lsb,
                                 b->arch.adc_nu_error);
    return xb_sar_attach(l, xb_arch_sar_skip(&b->arch), b->map->layers[i].adc_bits, &q, ctx);
}

void xb_backend_sar_charge(xb_backend *b, int i) {
    xb_layer_map *m = &b->map->layers[i];
    const xb_crossbar_layer *l = b->layers[i];
    const xb_crossbar_stats *s = &b->stats[i];
    if (l->sar && s->sar_convs > 0) {
        double n = (double)s->sar_convs;
        m->adc_cycle_frac = xb_sar_energy_frac(&b->arch, m->adc_bits, (double)s->sar_trials / n,
                                               (double)s->sar_units / n, (double)s->sar_logic / n);
    } else if (xb_arch_sar_skip(&b->arch) != XB_SKIP_OFF && !l->sar) {
        double t, u;
        xb_sar_static_units(l, m->adc_bits, &t, &u);
        m->adc_cycle_frac = xb_sar_energy_frac(&b->arch, m->adc_bits, t, u, 0);
    } else {
        m->adc_cycle_frac = 1;
    }
}

static const char *skip_name(const xb_arch *a) {
    static const char *nm[] = {"off", "static", "data", "column"};
    return nm[xb_arch_sar_skip(a)];
}

void xb_sar_print(FILE *f, const xb_backend *b) {
    if (xb_arch_sar_skip(&b->arch) == XB_SKIP_OFF && b->arch.adc_quantizer == XB_QUANT_UNIFORM)
        return;
    fprintf(f, "SAR ADC (DATE'24 co-design, reconstructed): skip_cycles=%s, quantizer=%s\n",
            skip_name(&b->arch),
            b->arch.adc_quantizer == XB_QUANT_NONUNIFORM ? "nonuniform" : "uniform");
    fprintf(f, "  %-4s %6s %9s %9s %7s  %s\n", "#", "bits", "trials", "col-only", "energy",
            "transfer (codes: step 1 below F, 2^e above)");
    for (int i = 0; i < b->n; i++) {
        const xb_crossbar_stats *s = &b->stats[i];
        const xb_layer_map *m = &b->map->layers[i];
        xb_nu_quant q = xb_sar_quantizer(b->layers[i]);
        double n = (double)s->sar_convs;
        fprintf(f, "  %-4d %6d", i, m->adc_bits);
        if (n > 0)
            fprintf(f, " %9.3f %9.3f", (double)s->sar_trials / n, (double)s->sar_trials_col / n);
        else
            fprintf(f, " %9s %9s", "-", "-");
        fprintf(f, " %6.1f%%  ", 100 * m->adc_cycle_frac);
        if (q.fine > 0)
            fprintf(f, "F=%lld e=%d (coarse %.2f%% of calibration sums, rel. RMS error %.4f)\n",
                    (long long)q.fine, q.coarse_log2, 100 * q.coarse_share, q.rel_rms);
        else
            fprintf(f, "uniform\n");
    }
}

void xb_sar_json_layer(cJSON *o, const xb_backend *b, int i) {
    const xb_crossbar_stats *s = &b->stats[i];
    if (s->sar_convs > 0) {
        cJSON_AddNumberToObject(o, "sar_conversions", (double)s->sar_convs);
        cJSON_AddNumberToObject(o, "sar_trials", (double)s->sar_trials);
        cJSON_AddNumberToObject(o, "sar_trials_column_bound", (double)s->sar_trials_col);
        cJSON_AddNumberToObject(o, "sar_cap_units", (double)s->sar_units);
        cJSON_AddNumberToObject(o, "sar_logic_bit_adds", (double)s->sar_logic);
        cJSON_AddNumberToObject(o, "sar_trials_per_conversion",
                                (double)s->sar_trials / (double)s->sar_convs);
    }
    xb_nu_quant q = xb_sar_quantizer(b->layers[i]);
    if (b->arch.adc_quantizer == XB_QUANT_NONUNIFORM) {
        cJSON *t = cJSON_AddObjectToObject(o, "adc_transfer");
        cJSON_AddStringToObject(t, "kind", q.fine > 0 ? "piecewise-uniform" : "uniform");
        if (q.fine > 0) {
            cJSON_AddNumberToObject(t, "fine_below_code", (double)q.fine);
            cJSON_AddNumberToObject(t, "fine_step_codes", 1);
            cJSON_AddNumberToObject(t, "coarse_step_codes", ldexp(1.0, q.coarse_log2));
            cJSON_AddNumberToObject(t, "coarse_share_calibration", q.coarse_share);
            cJSON_AddNumberToObject(t, "rel_rms_error_calibration", q.rel_rms);
        }
    }
}
