/* Backend reports (see profile.h). */
#include "backend/profile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/raella.h"

#include "backend/adc_sar.h"

#include "backend/buffer_cost.h"

int xb_profile_bits_needed(int64_t max_abs, bool is_signed) {
    int b = 0;
    while (b < 62 && ((int64_t)1 << b) - 1 < max_abs) b++;
    return is_signed ? b + 1 : b;
}

static const char *fmt_si(double v, char *buf, size_t n) {
    const char *suf[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    while (fabs(v) >= 1000 && i < 5) {
        v /= 1000;
        i++;
    }
    if (i == 0 && v == floor(v)) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.3g%s", v, suf[i]);
    return buf;
}

/* Width of the layer-name column: the longest name, so none is cut. */
static int name_width(const xb_mapping *m, int min) {
    int w = min;
    for (int i = 0; i < m->n; i++) {
        int n = (int)strlen(m->layers[i].s.name);
        if (n > w) w = n;
    }
    return w;
}

void xb_profile_print_mapping(FILE *f, const xb_mapping *m) {
    const xb_arch *a = &m->arch;
    fprintf(f,
            "arch %s: %dx%d crossbars, %d b/cell, %d-bit DAC, %d-bit weights (%s%s, %d slices), "
            "%d-bit inputs (%d cycles)\n",
            a->name, a->rows, a->cols, a->bits_per_cell, a->dac_bits, a->weight_bits,
            xb_arch_encoding_name(a), a->flip ? ", flipped columns" : "", xb_arch_weight_slices(a),
            a->input_bits, xb_arch_input_slices(a));
    if (a->layer_weight_bits[0] || a->layer_input_bits[0]) /* mixed precision (LRMP) */
        fprintf(f, "per-layer bits (others as above): weights \"%s\", inputs \"%s\"\n",
                a->layer_weight_bits, a->layer_input_bits);
    int nw = name_width(m, 5);
    fprintf(f, "%3s  %-*s %6s %6s %4s %6s %6s %4s %7s %6s %5s %5s %5s\n", "#", nw, "layer", "K", "N",
            "grp", "rowblk", "colblk", "rep", "xbars", "util", "part", "tile0", "tiles");
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        fprintf(f, "%3d  %-*s %6lld %6lld %4lld %6lld %6lld %4lld %7lld %5.1f%% %5lld %5lld %5lld\n",
                i, nw, l->s.name, (long long)l->s.K, (long long)l->s.N, (long long)l->s.groups,
                (long long)l->row_blocks, (long long)l->col_blocks, (long long)l->replicas,
                (long long)l->xbars,
                100 * l->utilisation, (long long)l->partitions, (long long)l->first_tile,
                (long long)l->tiles);
    }
    double cells = 0, used = 0;
    for (int i = 0; i < m->n; i++) {
        cells += (double)m->layers[i].xbars * a->rows * a->cols;
        used += m->layers[i].utilisation * (double)m->layers[i].xbars * a->rows * a->cols;
    }
    fprintf(f,
            "total: %d layers, %lld crossbars (%.1f%% of their cells used), %lld partitions, "
            "%lld of %d tiles%s\n",
            m->n, (long long)m->xbars, cells > 0 ? 100 * used / cells : 0.0,
            (long long)m->partitions, (long long)m->tiles, a->tiles,
            m->fits ? "" : "  ** DOES NOT FIT: more tiles than the chip has **");
    if (a->replication != XB_REP_NONE)
        fprintf(f, "replication: %s, budget %d tiles (rep = copies of a layer's weights)\n",
                a->replication == XB_REP_MILP ? "milp" : "balance",
                a->budget_tiles ? a->budget_tiles : a->tiles);
    xb_cost_peak p;
    xb_cost_peak_compute(a, &p);
    fprintf(f,
            "peak (one tile, full utilisation): %.1f mW, %.4f mm2, ADC %.1f%% of power and "
            "%.1f%% of area, %.2f mW per partition\n",
            p.tile_power_mw, p.tile_area_mm2, 100 * p.adc_power_share, 100 * p.adc_area_share,
            p.partition_power_mw);
}

/* The peak figures (xb_cost_peak) as JSON, power by component in mW. */
static cJSON *peak_json(const xb_arch *a) {
    xb_cost_peak p;
    xb_cost_peak_compute(a, &p);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tile_power_mw", p.tile_power_mw);
    cJSON_AddNumberToObject(o, "tile_area_mm2", p.tile_area_mm2);
    cJSON_AddNumberToObject(o, "adc_power_share", p.adc_power_share);
    cJSON_AddNumberToObject(o, "adc_area_share", p.adc_area_share);
    cJSON_AddNumberToObject(o, "partition_power_mw", p.partition_power_mw);
    cJSON_AddNumberToObject(o, "cycle_ns", p.cycle_ns);
    cJSON *pw = cJSON_AddObjectToObject(o, "power_mw");
    for (int k = 0; k < XB_E_COUNT; k++)
        cJSON_AddNumberToObject(pw, xb_energy_names[k], p.pj_per_cycle[k] / p.cycle_ns);
    return o;
}

static cJSON *arch_summary(const xb_arch *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddNumberToObject(o, "rows", a->rows);
    cJSON_AddNumberToObject(o, "cols", a->cols);
    cJSON_AddNumberToObject(o, "bits_per_cell", a->bits_per_cell);
    cJSON_AddNumberToObject(o, "dac_bits", a->dac_bits);
    cJSON_AddNumberToObject(o, "adc_bits", a->adc_bits);
    cJSON_AddStringToObject(o, "adc_layer_bits", a->layer_adc_bits);
    cJSON_AddStringToObject(o, "layer_weight_bits", a->layer_weight_bits);
    cJSON_AddStringToObject(o, "layer_input_bits", a->layer_input_bits);
    cJSON_AddNumberToObject(o, "adc_effective_bits", xb_arch_adc_eff_bits(a));
    static const char *rn[] = {"clip", "max", "calibrated"};
    cJSON_AddStringToObject(o, "adc_range", rn[a->adc_range]);
    cJSON_AddBoolToObject(o, "adc_signed", a->adc_signed);
    cJSON_AddNumberToObject(o, "weight_bits", a->weight_bits);
    cJSON_AddNumberToObject(o, "input_bits", a->input_bits);
    cJSON_AddStringToObject(o, "encoding", xb_arch_encoding_name(a));
    cJSON_AddBoolToObject(o, "flip", a->flip);
    cJSON_AddBoolToObject(o, "adc_skip_cycles", xb_arch_sar_skip(a) != XB_SKIP_OFF);
    static const char *skn[] = {"off", "static", "data", "column"};
    cJSON_AddStringToObject(o, "adc_skip_mode", skn[xb_arch_sar_skip(a)]);
    cJSON_AddStringToObject(o, "adc_quantizer",
                            a->adc_quantizer == XB_QUANT_NONUNIFORM ? "nonuniform" : "uniform");
    cJSON_AddStringToObject(o, "replication", a->replication == XB_REP_MILP      ? "milp"
                            : a->replication == XB_REP_BALANCE ? "balance"
                                                               : "none");
    cJSON_AddStringToObject(o, "row_split", a->row_split == XB_SPLIT_EVEN ? "even" : "fill");
    cJSON_AddNumberToObject(o, "programming_sigma", a->prog_sigma);
    cJSON_AddNumberToObject(o, "read_sigma", a->read_sigma);
    cJSON_AddNumberToObject(o, "stuck_low_rate", a->stuck_low);
    cJSON_AddNumberToObject(o, "stuck_high_rate", a->stuck_high);
    cJSON_AddNumberToObject(o, "on_off_ratio", xb_arch_on_off_ratio(a));
    cJSON_AddNumberToObject(o, "g_on_us", xb_arch_g_on_us(a));
    /* exactly: a 64-bit seed above 2^53 is not a double */
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)a->seed);
    cJSON_AddRawToObject(o, "seed", seed);
    return o;
}

/* Rows programmed per group and what mapping.row_rename saved (ORSS'23,
 * backend/rowmap.h): rows_stored = K without renaming. */
static void rename_json(cJSON *o, const xb_layer_map *l) {
    cJSON_AddNumberToObject(o, "rows_stored", (double)l->rows_stored);
    cJSON_AddNumberToObject(o, "rows_saved", (double)(l->s.K - l->rows_stored));
    cJSON_AddNumberToObject(o, "crossbars_saved_by_rename",
                            (double)(l->xbars_unrenamed - xb_layer_copy_xbars(l)));
}

cJSON *xb_profile_json_mapping(const xb_mapping *m, const xb_cost *c) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "arch", arch_summary(&m->arch));
    cJSON_AddItemToObject(root, "peak", peak_json(&m->arch));
    cJSON *arr = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", l->s.name);
        cJSON_AddNumberToObject(o, "K", (double)l->s.K);
        rename_json(o, l);
        cJSON_AddNumberToObject(o, "N", (double)l->s.N);
        cJSON_AddNumberToObject(o, "groups", (double)l->s.groups);
        cJSON_AddNumberToObject(o, "groups_per_crossbar", (double)l->groups_per_xbar);
        cJSON_AddNumberToObject(o, "positions", (double)l->s.P);
        cJSON_AddNumberToObject(o, "weight_slices", l->w_slices);
        cJSON_AddNumberToObject(o, "input_slices", l->input_slices);
        cJSON_AddNumberToObject(o, "weight_bits", l->weight_bits); /* per layer (LRMP) */
        cJSON_AddNumberToObject(o, "input_bits", l->input_bits);
        cJSON_AddNumberToObject(o, "row_blocks", (double)l->row_blocks);
        cJSON_AddNumberToObject(o, "col_blocks", (double)l->col_blocks);
        cJSON_AddNumberToObject(o, "replicas", (double)l->replicas);
        cJSON_AddNumberToObject(o, "crossbars", (double)l->xbars);
        cJSON_AddNumberToObject(o, "utilisation", l->utilisation);
        cJSON_AddNumberToObject(o, "first_crossbar", (double)l->first_xbar);
        cJSON_AddNumberToObject(o, "first_partition", (double)l->first_partition);
        cJSON_AddNumberToObject(o, "partitions", (double)l->partitions);
        cJSON_AddNumberToObject(o, "first_tile", (double)l->first_tile);
        cJSON_AddNumberToObject(o, "tiles", (double)l->tiles);
        cJSON_AddNumberToObject(o, "macs", (double)l->macs);
        cJSON_AddNumberToObject(o, "adc_conversions", (double)l->conversions);
        cJSON_AddNumberToObject(o, "conversions_per_mac", (double)l->conversions / (double)l->macs);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *t = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddNumberToObject(t, "layers", m->n);
    cJSON_AddNumberToObject(t, "crossbars", (double)m->xbars);
    cJSON_AddNumberToObject(t, "partitions", (double)m->partitions);
    cJSON_AddNumberToObject(t, "tiles", (double)m->tiles);
    cJSON_AddNumberToObject(t, "chip_tiles", m->arch.tiles);
    cJSON_AddBoolToObject(t, "fits", m->fits);
    if (c) {
        cJSON_AddNumberToObject(t, "macs", (double)c->macs);
        cJSON_AddNumberToObject(t, "adc_conversions", (double)c->conversions);
        cJSON_AddNumberToObject(t, "conversions_per_mac", c->conversions_per_mac);
        cJSON_AddNumberToObject(t, "energy_pj_per_inference", c->energy_pj);
        cJSON_AddNumberToObject(t, "adc_energy_share", c->adc_share);
        cJSON_AddNumberToObject(t, "latency_ns", c->latency_ns);
        cJSON_AddNumberToObject(t, "pipeline_interval_ns", c->pipeline_ns);
        cJSON_AddNumberToObject(t, "pipelined_images_per_s", c->pipelined_ips);
        cJSON_AddNumberToObject(t, "area_mm2", c->area_mm2_used);
    }
    return root;
}

/* Which images the ADC statistics cover (the profile images as a range of
 * image indices, which a shard or an --offset run may or may not hold). */
static void print_stats_scope(FILE *f, const xb_backend *b) {
    fprintf(f, "ADC statistics: saturation over all %lld images; zero share, max and bits needed "
               "over the fully simulated images",
            (long long)b->images);
    if (b->profile_images > 0)
        fprintf(f, " (profile images: #%lld..#%lld)\n", (long long)b->profile_first,
                (long long)(b->profile_first + b->profile_images - 1));
    else
        fprintf(f, " (no profile images: --profile-images 0)\n");
}

void xb_profile_print_layers(FILE *f, const xb_mapping *m, const xb_cost *c, const xb_backend *b) {
    char s1[32], s2[32], s3[32];
    int nw = name_width(m, 5);
    fprintf(f, "%3s  %-*s %6s %8s %8s %8s %7s %7s %6s %5s %10s %5s %10s %5s\n", "#", nw, "layer",
            "xbars", "MACs", "convs", "conv/MAC", "sat%", "zero%", "max", "bits", "energy_pJ",
            "ADC%", "latency_us", "path");
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        const xb_layer_cost *lc = &c->layers[i];
        char sat[16] = "-", zero[16] = "-", mx[16] = "-", bits[8] = "-";
        if (b && b->stats[i].conversions)
            snprintf(sat, sizeof sat, "%.3f",
                     100.0 * (double)b->stats[i].saturated / (double)b->stats[i].conversions);
        if (b && b->stats[i].observed) {
            snprintf(zero, sizeof zero, "%.1f",
                     100.0 * (double)b->stats[i].zeros / (double)b->stats[i].observed);
            snprintf(mx, sizeof mx, "%lld", (long long)b->stats[i].max_abs);
            snprintf(bits, sizeof bits, "%d",
                     xb_profile_bits_needed(b->stats[i].max_abs,
                                            xb_crossbar_cfg(b->layers[i])->signed_pair));
        }
        static const char *paths[] = {"exact", "corr", "full"};
        fprintf(f, "%3d  %-*s %6lld %8s %8s %8.4f %7s %7s %6s %5s %10s %5.1f %10.2f %5s\n", i,
                nw, l->s.name, (long long)l->xbars, fmt_si((double)l->macs, s1, sizeof s1),
                fmt_si((double)l->conversions, s2, sizeof s2),
                (double)l->conversions / (double)l->macs, sat, zero, mx, bits,
                fmt_si(lc->total_pj, s3, sizeof s3),
                lc->total_pj > 0 ? 100 * lc->pj[XB_E_ADC] / lc->total_pj : 0.0,
                lc->latency_ns / 1000, b ? paths[xb_crossbar_path(b->layers[i])] : "-");
    }
    fprintf(f, "per inference: %s pJ (%.3g uJ), ADC %.1f%%, %.4f conversions/MAC, latency %.1f us, "
               "%.3g TOPS/W, %.3g GOPS/s/mm2 on %.3g mm2 (%lld tiles)\n",
            fmt_si(c->energy_pj, s1, sizeof s1), c->energy_pj * 1e-6, 100 * c->adc_share,
            c->conversions_per_mac, c->latency_ns / 1000, c->tops_per_w, c->gops_per_mm2,
            c->area_mm2_used, (long long)m->tiles);
    if (m->n)
        fprintf(f, "layer-pipelined: one image every %.1f us (slowest layer #%d %s), %s images/s\n",
                c->pipeline_ns / 1000, c->bottleneck, m->layers[c->bottleneck].s.name,
                fmt_si(c->pipelined_ips, s1, sizeof s1));
    if (xb_arch_sar_skip(&m->arch) != XB_SKIP_OFF ||
        m->arch.adc_quantizer == XB_QUANT_NONUNIFORM) {
        double t = 0, n = 0;
        for (int i = 0; i < m->n; i++) {
            t += (double)m->layers[i].conversions * m->layers[i].adc_cycle_frac;
            n += (double)m->layers[i].conversions;
        }
        fprintf(f, "SAR ADC energy: %.1f%% of full %d-bit conversions (per-trial SAR model)%s\n",
                n > 0 ? 100 * t / n : 100.0, m->n ? m->layers[0].adc_bits : 0,
                b ? "" : "; weights and data unknown here, so nothing skipped");
        if (b) xb_sar_print(f, b);
    }
    fprintf(f, "energy by component (pJ per inference):");
    for (int k = 0; k < XB_E_COUNT; k++)
        fprintf(f, " %s %s (%.1f%%)%s", xb_energy_names[k], fmt_si(c->pj[k], s1, sizeof s1),
                c->energy_pj > 0 ? 100 * c->pj[k] / c->energy_pj : 0.0,
                k + 1 < XB_E_COUNT ? "," : "\n");
    if (m->arch.buf_on) xb_buffer_print(f, m);
    if (b) print_stats_scope(f, b);
    if (b) xb_raella_print(f, b); /* RAELLA's per-layer choices, when on */
}

static cJSON *energy_obj(const double *pj) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < XB_E_COUNT; k++) cJSON_AddNumberToObject(o, xb_energy_names[k], pj[k]);
    return o;
}

cJSON *xb_profile_json_layers(const xb_mapping *m, const xb_cost *c, const xb_backend *b) {
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        const xb_layer_cost *lc = &c->layers[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", l->s.name);
        cJSON_AddNumberToObject(o, "K", (double)l->s.K);
        rename_json(o, l);
        cJSON_AddNumberToObject(o, "N", (double)l->s.N);
        cJSON_AddNumberToObject(o, "groups", (double)l->s.groups);
        cJSON_AddNumberToObject(o, "replicas", (double)l->replicas);
        cJSON_AddNumberToObject(o, "crossbars", (double)l->xbars);
        cJSON_AddNumberToObject(o, "utilisation", l->utilisation);
        cJSON_AddNumberToObject(o, "macs", (double)l->macs);
        cJSON_AddNumberToObject(o, "adc_conversions", (double)l->conversions);
        cJSON_AddNumberToObject(o, "conversions_per_mac", (double)l->conversions / (double)l->macs);
        cJSON_AddNumberToObject(o, "adc_trial_fraction", l->adc_cycle_frac);
        cJSON_AddNumberToObject(o, "adc_bits", l->adc_bits);
        cJSON_AddNumberToObject(o, "crossbar_activations", (double)l->xbar_reads);
        cJSON_AddNumberToObject(o, "dac_activations", (double)l->dac_acts);
        if (m->arch.dac_model == XB_DAC_PULSE) cJSON_AddNumberToObject(o, "dac_pulses", l->dac_pulses);
        if (b) {
            const xb_crossbar_stats *s = &b->stats[i];
            static const char *paths[] = {"exact", "correction", "full"};
            cJSON_AddStringToObject(o, "path", paths[xb_crossbar_path(b->layers[i])]);
            cJSON_AddNumberToObject(o, "saturation_rate",
                                    s->conversions ? (double)s->saturated / (double)s->conversions : 0);
            cJSON_AddNumberToObject(o, "saturated", (double)s->saturated);
            /* the counts behind the rates, so shards' reports merge exactly */
            cJSON_AddNumberToObject(o, "simulated_conversions", (double)s->conversions);
            cJSON_AddNumberToObject(o, "observed_conversions", (double)s->observed);
            cJSON_AddNumberToObject(o, "observed_zeros", (double)s->zeros);
            if (s->observed) {
                cJSON_AddNumberToObject(o, "zero_share", (double)s->zeros / (double)s->observed);
                cJSON_AddNumberToObject(o, "max_value", (double)s->max_abs);
                cJSON_AddNumberToObject(
                    o, "bits_needed",
                    xb_profile_bits_needed(s->max_abs, xb_crossbar_cfg(b->layers[i])->signed_pair));
            }
            cJSON_AddNumberToObject(o, "adc_lsb", xb_crossbar_cfg(b->layers[i])->lsb);
            xb_sar_json_layer(o, b, i);
            if (b->full_scale[i] > 0)
                cJSON_AddNumberToObject(o, "adc_full_scale", b->full_scale[i]);
            xb_raella_layer_json(b, i, o); /* slicing, centers, speculation */
        }
        cJSON_AddItemToObject(o, "energy_pj", energy_obj(lc->pj));
        cJSON_AddNumberToObject(o, "energy_pj_total", lc->total_pj);
        cJSON_AddNumberToObject(o, "latency_ns", lc->latency_ns);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

cJSON *xb_profile_json_totals(const xb_mapping *m, const xb_cost *c, const xb_backend *b) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "energy_pj_per_inference", c->energy_pj);
    cJSON_AddNumberToObject(t, "adc_energy_share", c->adc_share);
    cJSON_AddNumberToObject(t, "conversions_per_mac", c->conversions_per_mac);
    cJSON_AddNumberToObject(t, "latency_ns", c->latency_ns);
    cJSON_AddNumberToObject(t, "pipeline_interval_ns", c->pipeline_ns);
    cJSON_AddNumberToObject(t, "pipelined_images_per_s", c->pipelined_ips);
    cJSON_AddNumberToObject(t, "macs", (double)c->macs);
    cJSON_AddNumberToObject(t, "adc_conversions", (double)c->conversions);
    cJSON_AddNumberToObject(t, "tops_per_w", c->tops_per_w);
    cJSON_AddNumberToObject(t, "gops_per_s", c->gops);
    cJSON_AddNumberToObject(t, "gops_per_s_per_mm2", c->gops_per_mm2);
    cJSON_AddNumberToObject(t, "area_mm2", c->area_mm2_used);
    cJSON_AddNumberToObject(t, "chip_area_mm2", c->area_mm2_chip);
    cJSON_AddNumberToObject(t, "crossbars", (double)m->xbars);
    cJSON_AddNumberToObject(t, "tiles", (double)m->tiles);
    cJSON_AddBoolToObject(t, "fits", m->fits);
    cJSON_AddItemToObject(t, "energy_pj", energy_obj(c->pj));
    if (b) {
        int64_t conv = 0, sat = 0;
        for (int i = 0; i < b->n; i++) {
            conv += b->stats[i].conversions;
            sat += b->stats[i].saturated;
        }
        cJSON_AddNumberToObject(t, "saturation_rate", conv ? (double)sat / (double)conv : 0);
        cJSON_AddNumberToObject(t, "profile_images", (double)b->profile_images);
        cJSON_AddNumberToObject(t, "profile_first", (double)b->profile_first);
    }
    cJSON_AddItemToObject(t, "arch", arch_summary(&m->arch));
    if (m->arch.buf_on) xb_buffer_json(m, t);
    return t;
}

/* The CSV writers' file: opened for writing, and closed with every write
 * checked (ferror after the last fprintf, fflush, fclose), so a full disk
 * or a file-size limit is an error naming the file.  The caller writes to
 * a temporary path (eval/outfile.c) and removes it on failure, so nothing
 * half-written takes the target's place. */
static FILE *open_csv(const char *path, xb_ctx *ctx) {
    FILE *f = fopen(path, "w");
    if (!f) xb_fail(ctx, XB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static xb_status close_csv(FILE *f, const char *path, xb_ctx *ctx) {
    int bad = ferror(f) || fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) return xb_fail(ctx, XB_ERR_IO, "%s: write failed: %s", path, e ? strerror(e) : "I/O error");
    return XB_OK;
}

xb_status xb_profile_write_csv(const char *path, const xb_mapping *m, const xb_cost *c,
                               const xb_backend *b, xb_ctx *ctx) {
    FILE *f = open_csv(path, ctx);
    if (!f) return ctx->status;
    errno = 0;
    fprintf(f, "layer,name,K,N,groups,crossbars,utilisation,macs,adc_conversions,"
               "conversions_per_mac,saturation_rate,zero_share,max_value,bits_needed,");
    for (int k = 0; k < XB_E_COUNT; k++) fprintf(f, "energy_%s_pj,", xb_energy_names[k]);
    fprintf(f, "energy_pj,latency_ns\n");
    for (int i = 0; i < m->n; i++) {
        const xb_layer_map *l = &m->layers[i];
        const xb_layer_cost *lc = &c->layers[i];
        fprintf(f, "%d,\"%s\",%lld,%lld,%lld,%lld,%.6f,%lld,%lld,%.6f,", i, l->s.name,
                (long long)l->s.K, (long long)l->s.N, (long long)l->s.groups, (long long)l->xbars,
                l->utilisation, (long long)l->macs, (long long)l->conversions,
                (double)l->conversions / (double)l->macs);
        const xb_crossbar_stats *s = b ? &b->stats[i] : NULL;
        if (s && s->conversions) fprintf(f, "%.8g,", (double)s->saturated / (double)s->conversions);
        else fprintf(f, ",");
        if (s && s->observed)
            fprintf(f, "%.6f,%lld,%d,", (double)s->zeros / (double)s->observed,
                    (long long)s->max_abs,
                    xb_profile_bits_needed(s->max_abs, xb_crossbar_cfg(b->layers[i])->signed_pair));
        else fprintf(f, ",,,");
        for (int k = 0; k < XB_E_COUNT; k++) fprintf(f, "%.6g,", lc->pj[k]);
        fprintf(f, "%.6g,%.6g\n", lc->total_pj, lc->latency_ns);
    }
    return close_csv(f, path, ctx);
}

xb_status xb_profile_write_hist(const char *path, const xb_backend *b, xb_ctx *ctx) {
    FILE *f = open_csv(path, ctx);
    if (!f) return ctx->status;
    errno = 0;
    fprintf(f, "layer,name,value_lo,value_hi,count\n");
    for (int i = 0; i < b->n; i++) {
        const xb_crossbar_stats *s = &b->stats[i];
        const char *name = b->map->layers[i].s.name;
        for (int k = 0; k < s->hist_bins; k++) {
            if (!s->hist[k]) continue;
            int64_t lo = s->hist_lo + (int64_t)k * s->hist_width;
            fprintf(f, "%d,\"%s\",%lld,%lld,%lld\n", i, name, (long long)lo,
                    (long long)(lo + s->hist_width - 1), (long long)s->hist[k]);
        }
    }
    return close_csv(f, path, ctx);
}
