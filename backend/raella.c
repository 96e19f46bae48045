/* RAELLA's switches: fields, per-layer slicing, speculation counts, reports
 * (see raella.h). */
#include "backend/raella.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/crossbar/from_arch.h"
#include "backend/engine.h"
#include "kernels/qlayer.h"
#include "runtime/num.h"

/* "4/2/2" (MSB first) -> widths LSB first in w[max]; -1 on a syntax error. */
static int parse_widths(const char *s, size_t len, int *w, int max) {
    int msb[16], n = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '/') j++;
        char item[16];
        long long v;
        if (j == i || j - i >= sizeof item || n == max || n == 16) return -1;
        memcpy(item, s + i, j - i);
        item[j - i] = '\0';
        if (!xb_parse_int(item, 1, 64, &v)) return -1;
        msb[n++] = (int)v;
        if (j < len && j + 1 == len) return -1; /* trailing '/' */
        i = j + 1;
    }
    for (int k = 0; k < n; k++) w[k] = msb[n - 1 - k];
    return n;
}

static int magnitude_bits(const xb_arch *a) {
    return a->encoding == XB_ENC_OFFSET ? a->weight_bits : a->weight_bits - 1;
}

/* Walks "I=W/W;I=W": calls fn(index, widths LSB first, count) for each
 * entry; returns false with *bad at the offending entry on a syntax error. */
static bool layer_entries(const char *s, bool (*fn)(long i, const int *w, int n, void *u), void *u,
                          const char **bad) {
    while (*s) {
        const char *e = strchr(s, ';'), *end = e ? e : s + strlen(s), *eq = s;
        while (eq < end && *eq != '=') eq++;
        char idx[16];
        long long i;
        int w[16], n;
        if (eq == end || eq == s || (size_t)(eq - s) >= sizeof idx) goto fail;
        memcpy(idx, s, (size_t)(eq - s));
        idx[eq - s] = '\0';
        if (!xb_parse_int(idx, -4096, 4096, &i)) goto fail;
        n = parse_widths(eq + 1, (size_t)(end - eq - 1), w, 16);
        if (n <= 0) goto fail;
        if (fn && fn((long)i, w, n, u)) return true;
        if (!e) return true;
        if (!e[1]) goto fail; /* trailing ';' */
        s = e + 1;
        continue;
    fail:
        *bad = s;
        return false;
    }
    return true;
}

typedef struct {
    const xb_arch *a;
    int layer, n, found, w[16];
    const char *err;
    long bad_index;
} entry_query;

static bool entry_check(long i, const int *w, int n, void *u) {
    entry_query *q = u;
    int sum = 0;
    for (int k = 0; k < n; k++) {
        if (w[k] > q->a->bits_per_cell) q->err = "a width exceeds crossbar.bits_per_cell";
        sum += w[k];
    }
    if (sum != magnitude_bits(q->a)) q->err = "widths do not add up to the magnitude bits";
    if (q->n > 0 && (i >= q->n || i < -q->n)) q->err = "no such layer";
    if (q->err) q->bad_index = i;
    return q->err != NULL;
}

static bool entry_match(long i, const int *w, int n, void *u) {
    entry_query *q = u;
    if (i == q->layer || (i < 0 && q->n + i == q->layer)) { /* the last entry wins */
        q->found = n;
        memcpy(q->w, w, (size_t)n * sizeof *w);
    }
    return false;
}

bool xb_raella_auto_slices(const xb_arch *a) { return !strcmp(a->slices, "auto"); }

int xb_raella_spec_widths(const xb_arch *a, int *w) {
    if (!a->dac_speculation) return 0;
    int n = parse_widths(a->spec_slices, strlen(a->spec_slices), w, 8);
    return n < 0 ? 0 : n;
}

static xb_status check_entries(const xb_arch *a, int n, xb_ctx *ctx) {
    entry_query q = {.a = a, .n = n};
    const char *bad = NULL;
    if (!layer_entries(a->layer_slices, entry_check, &q, &bad))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.layer_slices = '%s': expected LAYER=W/W/... entries "
                       "separated by ';' (widths MSB first), at '%s'",
                       a->layer_slices, bad);
    if (q.err)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.layer_slices, layer %ld: %s (cells of %d bits, %d magnitude "
                       "bits of %d-bit %s weights%s)",
                       q.bad_index, q.err, a->bits_per_cell, magnitude_bits(a), a->weight_bits,
                       xb_arch_encoding_name(a), n > 0 ? ", or the index is past the model" : "");
    return XB_OK;
}

static xb_status check_speculation(const xb_arch *a, xb_ctx *ctx) {
    int w[8];
    int n = a->spec_slices[0] ? parse_widths(a->spec_slices, strlen(a->spec_slices), w, 8) : 0;
    int sum = 0, ok = n > 0;
    for (int k = 0; ok && k < n; k++) {
        ok = w[k] <= 8;
        sum += w[k];
    }
    /* the widths must add up to the input bits only when they are used */
    if (a->spec_slices[0] && (!ok || (a->dac_speculation && sum != a->input_bits)))
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: dac.speculation_slices = '%s': up to 8 widths MSB first separated by "
                       "'/', each 1..8, adding up to input_bits = %d",
                       a->spec_slices, a->input_bits);
    if (a->dac_speculation && !n)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: dac.speculation needs dac.speculation_slices");
    if (a->dac_speculation && a->flip)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: dac.speculation does not run with flip");
    return XB_OK;
}

xb_status xb_raella_validate(const xb_arch *a, xb_ctx *ctx) {
    XB_TRY(check_entries(a, 0, ctx));
    XB_TRY(check_speculation(a, ctx));
    if (xb_raella_auto_slices(a) && a->adc_range == XB_ADC_CALIBRATED)
        return xb_fail(ctx, XB_ERR_INVALID,
                       "arch: crossbar.slices = auto with adc.range = calibrated is not supported "
                       "(the full scale would be calibrated on another slicing); use clip or max");
    if (xb_raella_auto_slices(a) && a->slice_error <= 0)
        return xb_fail(ctx, XB_ERR_INVALID, "arch: crossbar.slice_error must be > 0");
    return XB_OK;
}

xb_status xb_raella_check_layers(const xb_arch *a, int n, xb_ctx *ctx) {
    return check_entries(a, n, ctx);
}

int xb_raella_layer_slices(const xb_arch *a, int layer, int n, int *w) {
    entry_query q = {.a = a, .layer = layer, .n = n};
    const char *bad;
    layer_entries(a->layer_slices, entry_match, &q, &bad);
    if (q.found) {
        memcpy(w, q.w, (size_t)q.found * sizeof *w);
        return q.found;
    }
    return xb_arch_slice_widths(a, w);
}

int xb_raella_layer_weight_slices(const xb_arch *a, int layer, int n) {
    int w[16], k = xb_raella_layer_slices(a, layer, n, w);
    return k > 0 ? k : xb_arch_weight_slices(a);
}

void xb_raella_config(const xb_arch *a, int layer, int n, xb_crossbar_config *c) {
    int w[16], k = xb_raella_layer_slices(a, layer, n, w);
    if (k > 0) {
        memset(c->slice_bits, 0, sizeof c->slice_bits);
        for (int s = 0; s < k; s++) c->slice_bits[s] = (int8_t)w[s];
        c->w_slices = k;
    }
    int sw[8];
    c->spec_n = xb_raella_spec_widths(a, sw);
    for (int j = 0; j < c->spec_n; j++) c->spec_bits[j] = (int8_t)sw[j];
}

/* Under speculation every position runs the speculative slices and then
 * the recovery cycles (RAELLA: 3 + 8 = 11 crossbar cycles for 8-bit
 * inputs); the recovery cycles drive every row, but only flagged columns
 * are sampled and converted.  The counts from compile.c are for J =
 * input_slices narrow slices. */
void xb_raella_map_layer(const xb_arch *a, xb_layer_map *l) {
    int w[8], Js = xb_raella_spec_widths(a, w), Jr = l->input_slices;
    if (!Js || Jr < 1) return;
    double all = (double)(Js + Jr) / Jr, spec = (double)Js / Jr;
    int64_t acts_per_slice = l->dac_acts / Jr;
    l->xbar_reads = l->xbar_reads / Jr * (Js + Jr);
    l->cells_driven *= all;
    l->cells_idle *= all;
    l->unit_cells *= all;
    l->dac_acts = acts_per_slice * (Js + Jr);
    l->col_samples = (int64_t)llround((double)l->col_samples * spec);
    l->conversions = l->conversions / Jr * Js;
    l->input_slices = Js + Jr;
    /* A w-bit speculative slice drives a w-bit DAC level (the driver term
     * of xb_arch_row_activation_pj scales with 2^(bits - 1)). */
    xb_arch t = *a;
    double base = xb_arch_row_activation_pj(a), extra = 0;
    for (int j = 0; j < Js; j++) {
        t.dac_bits = w[j];
        extra += xb_arch_row_activation_pj(&t) - base;
    }
    l->dac_extra_pj = (double)acts_per_slice * extra;
}

void xb_raella_update_map(xb_backend *b) {
    if (!b->arch.dac_speculation || b->images <= 0) return;
    for (int i = 0; i < b->n; i++) {
        const xb_crossbar_stats *s = &b->stats[i];
        xb_layer_map *m = &b->map->layers[i];
        if (s->spec_units > 0)
            m->conversions = (int64_t)llround((double)s->conversions / (double)b->images);
    }
}

void xb_raella_slicing_text(const xb_crossbar_config *c, char *buf, size_t n) {
    size_t off = 0;
    buf[0] = '\0';
    for (int s = c->w_slices - 1; s >= 0 && off < n; s--) {
        int wd = c->slice_bits[0] ? c->slice_bits[s] : 0;
        if (!wd) { /* uniform: cell_bits each, the top one what is left */
            int mb = c->differential ? c->weight_bits - 1 : c->weight_bits;
            wd = mb - s * c->cell_bits < c->cell_bits ? mb - s * c->cell_bits : c->cell_bits;
        }
        off += (size_t)snprintf(buf + off, n - off, "%s%d", s == c->w_slices - 1 ? "" : "/", wd);
    }
}

static void centers_json(const xb_crossbar_layer *l, cJSON *o) {
    const xb_crossbar_config *c = xb_crossbar_cfg(l);
    if (!l->center) return;
    cJSON *arr = cJSON_AddArrayToObject(o, "centers");
    double sum = 0;
    int64_t nz = 0, total = c->groups * c->N;
    for (int64_t i = 0; i < total; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(l->center[i]));
        sum += fabs((double)l->center[i]);
        nz += l->center[i] != 0;
    }
    cJSON_AddNumberToObject(o, "center_mean_abs", total ? sum / (double)total : 0);
    cJSON_AddNumberToObject(o, "centers_nonzero", (double)nz);
}

void xb_raella_layer_json(const xb_backend *b, int layer, cJSON *o) {
    const xb_crossbar_layer *l = b->layers[layer];
    const xb_crossbar_config *c = xb_crossbar_cfg(l);
    char sl[64];
    xb_raella_slicing_text(c, sl, sizeof sl);
    cJSON_AddStringToObject(o, "weight_slicing", sl);
    centers_json(l, o);
    const xb_crossbar_stats *s = &b->stats[layer];
    if (c->spec_n) {
        cJSON_AddNumberToObject(o, "speculative_units", (double)s->spec_units);
        cJSON_AddNumberToObject(o, "recovered_units", (double)s->spec_recovered);
        cJSON_AddNumberToObject(o, "recovery_rate", s->spec_units ? (double)s->spec_recovered /
                                                                         (double)s->spec_units
                                                                   : 0);
    }
    if (b->autos) {
        cJSON *arr = cJSON_AddArrayToObject(o, "slice_candidates");
        for (int k = 0; k < xb_autoslice_candidates(b->autos, layer); k++) {
            cJSON *e = cJSON_CreateObject();
            double err = xb_autoslice_error(b->autos, layer, k, sl, sizeof sl);
            cJSON_AddStringToObject(e, "slicing", sl);
            cJSON_AddNumberToObject(e, "relative_rms_error", err);
            cJSON_AddItemToArray(arr, e);
        }
    }
}

cJSON *xb_raella_centers_json(const xb_arch *a, const xb_graph *qg, xb_ctx *ctx) {
    int n = xb_qlayer_count(qg);
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return NULL;
    for (int i = 0; i < n; i++) {
        const xb_node *node = NULL;
        const xb_qlayer *q = xb_qlayer_get(qg, i, &node);
        xb_crossbar_config c;
        xb_crossbar_config_from_arch(a, q, i, &c);
        xb_raella_config(a, i, n, &c);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", node->name);
        char sl[64];
        xb_raella_slicing_text(&c, sl, sizeof sl);
        cJSON_AddStringToObject(o, "weight_slicing", sl);
        cJSON *cs = cJSON_AddArrayToObject(o, "centers");
        for (int64_t g = 0; g < c.groups; g++)
            for (int64_t k = 0; k < c.N; k++)
                cJSON_AddItemToArray(cs, cJSON_CreateNumber(xb_crossbar_pick_center(
                                             &c, q->w + (g * c.N + k) * c.K, c.K)));
        cJSON_AddItemToArray(arr, o);
    }
    (void)ctx;
    return arr;
}

void xb_raella_print(FILE *f, const xb_backend *b) {
    const xb_arch *a = &b->arch;
    if (a->encoding != XB_ENC_CENTER && !a->layer_slices[0] && !b->autos && !a->dac_speculation)
        return;
    fprintf(f, "\nRAELLA per layer (weight slicing MSB first%s%s%s):\n",
            a->encoding == XB_ENC_CENTER ? ", mean |center|" : "",
            a->dac_speculation ? ", speculation recovery rate" : "",
            b->autos ? ", auto candidates: slicing=relative RMS error" : "");
    for (int i = 0; i < b->n; i++) {
        const xb_crossbar_layer *l = b->layers[i];
        const xb_crossbar_config *c = xb_crossbar_cfg(l);
        const xb_crossbar_stats *s = &b->stats[i];
        char sl[64];
        xb_raella_slicing_text(c, sl, sizeof sl);
        fprintf(f, "%3d  %-24s %-12s", i, b->map->layers[i].s.name, sl);
        if (l->center) {
            double sum = 0;
            for (int64_t k = 0; k < c->groups * c->N; k++) sum += fabs((double)l->center[k]);
            fprintf(f, " |c| %6.2f", sum / (double)(c->groups * c->N));
        }
        if (c->spec_n)
            fprintf(f, " recovery %6.4f",
                    s->spec_units ? (double)s->spec_recovered / (double)s->spec_units : 0);
        for (int k = 0; k < xb_autoslice_candidates(b->autos, i); k++) {
            double e = xb_autoslice_error(b->autos, i, k, sl, sizeof sl);
            fprintf(f, " %s=%.4f", sl, e);
        }
        fputc('\n', f);
    }
}
