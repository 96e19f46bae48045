/* The C API's results (include/xbar.h): accuracy, per-layer ADC statistics
 * and energy, totals, and the JSON reports of `xbar run` / `xbar compile`. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/handle.h"
#include "backend/profile.h"
#include "eval/report.h"

_Static_assert(XB_E_COUNT <= XBAR_ENERGY_MAX, "XBAR_ENERGY_MAX holds every energy component");

/* Copy at most `size` bytes of the filled struct: older callers pass a
 * smaller struct, newer fields are appended. */
static void copy_out(void *out, size_t size, const void *full, size_t full_size) {
    memcpy(out, full, size < full_size ? size : full_size);
}

static bool mode_index(int mode, int *which) {
    *which = mode == XBAR_FLOAT ? XB_SESSION_FLOAT
             : mode == XBAR_INT8 ? XB_SESSION_INT8
             : mode == XBAR_ANALOG ? XB_SESSION_ANALOG
                                   : -1;
    return *which >= 0;
}

static xb_status get_result(xbar *h, int mode, xbar_result *out, size_t size) {
    xb_session *s;
    int which;
    if (!out) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_get_result: NULL out");
    if (!mode_index(mode, &which))
        return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_get_result: mode %d is not one of XBAR_FLOAT, "
                       "XBAR_INT8, XBAR_ANALOG", mode);
    XB_TRY(xb_api_session(h, &s));
    const xb_run_result *r = xb_session_result(s, which);
    double n = r->total ? (double)r->total : 1.0;
    xbar_result res = {.ran = r->total > 0, .threads = r->threads, .images = r->total,
                       .correct = r->correct1, .top5_correct = r->correct5,
                       .accuracy = (double)r->correct1 / n, .top5_accuracy = (double)r->correct5 / n,
                       .images_per_s = r->images_per_s, .seconds = r->seconds};
    copy_out(out, size, &res, sizeof res);
    return XB_OK;
}

xbar_status xbar_get_result(xbar *h, int mode, xbar_result *out, size_t size) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, get_result(h, mode, out, size));
}

int xbar_energy_count(void) { return XB_E_COUNT; }
const char *xbar_energy_name(int k) { return k >= 0 && k < XB_E_COUNT ? xb_energy_names[k] : NULL; }

/* Mapping and cost of the last analog run or compile. */
static xb_status mapped(xbar *h, const xb_mapping **m, const xb_cost **c) {
    xb_session *s;
    XB_TRY(xb_api_session(h, &s));
    *m = xb_session_mapping(s);
    *c = xb_session_cost(s);
    if (!*m || !*c)
        return xb_fail(&h->ctx, XB_ERR_INVALID, "no mapping: run XBAR_ANALOG or xbar_compile first");
    return XB_OK;
}

int xbar_layer_count(xbar *h) {
    if (!h) return 0;
    xb_api_enter(h);
    const xb_mapping *m = h->s ? xb_session_mapping(h->s) : NULL;
    int n = m && xb_session_cost(h->s) ? m->n : 0;
    xb_api_leave(h, XB_OK);
    return n;
}

static void layer_adc_stats(const xb_backend *b, int i, xbar_layer *o) {
    const xb_crossbar_stats *s = &b->stats[i];
    o->has_adc_stats = 1;
    o->saturated = s->saturated;
    o->saturation_rate = s->conversions ? (double)s->saturated / (double)s->conversions : 0;
    o->observed_conversions = s->observed;
    if (s->observed) {
        o->zero_share = (double)s->zeros / (double)s->observed;
        o->max_value = s->max_abs;
        o->bits_needed = xb_profile_bits_needed(s->max_abs, b->layers[i]->cfg.signed_pair);
    }
    o->adc_lsb = b->layers[i]->cfg.lsb;
    o->adc_full_scale = b->full_scale[i] > 0 ? b->full_scale[i] : 0;
}

static xb_status get_layer(xbar *h, int i, xbar_layer *out, size_t size) {
    const xb_mapping *m;
    const xb_cost *c;
    if (!out) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_get_layer: NULL out");
    XB_TRY(mapped(h, &m, &c));
    if (i < 0 || i >= m->n)
        return xb_fail(&h->ctx, XB_ERR_INVALID, "layer %d: the model has %d matrix layers", i, m->n);
    const xb_layer_map *l = &m->layers[i];
    const xb_layer_cost *lc = &c->layers[i];
    xbar_layer o = {.K = l->s.K, .N = l->s.N, .groups = l->s.groups, .positions = l->s.P,
                    .replicas = l->replicas, .crossbars = l->xbars, .tiles = l->tiles,
                    .utilisation = l->utilisation, .macs = l->macs,
                    .adc_conversions = l->conversions, .crossbar_activations = l->xbar_reads,
                    .dac_activations = l->dac_acts, .adc_bits = l->adc_bits,
                    .energy_pj_total = lc->total_pj, .latency_ns = lc->latency_ns};
    snprintf(o.name, sizeof o.name, "%s", l->s.name);
    for (int k = 0; k < XB_E_COUNT; k++) o.energy_pj[k] = lc->pj[k];
    const xb_backend *b = xb_session_backend(h->s);
    if (b && !h->compiled) layer_adc_stats(b, i, &o);
    copy_out(out, size, &o, sizeof o);
    return XB_OK;
}

xbar_status xbar_get_layer(xbar *h, int i, xbar_layer *out, size_t size) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, get_layer(h, i, out, size));
}

static xb_status get_cost(xbar *h, xbar_cost *out, size_t size) {
    const xb_mapping *m;
    const xb_cost *c;
    if (!out) return xb_fail(&h->ctx, XB_ERR_INVALID, "xbar_get_cost: NULL out");
    XB_TRY(mapped(h, &m, &c));
    xbar_cost o = {.energy_pj = c->energy_pj, .adc_energy_share = c->adc_share,
                   .latency_ns = c->latency_ns, .pipeline_interval_ns = c->pipeline_ns,
                   .pipelined_images_per_s = c->pipelined_ips, .macs = c->macs,
                   .adc_conversions = c->conversions, .conversions_per_mac = c->conversions_per_mac,
                   .tops_per_w = c->tops_per_w, .gops_per_s = c->gops,
                   .area_mm2 = c->area_mm2_used, .chip_area_mm2 = c->area_mm2_chip,
                   .crossbars = m->xbars, .tiles = m->tiles, .fits = m->fits};
    for (int k = 0; k < XB_E_COUNT; k++) o.energy_by[k] = c->pj[k];
    int64_t conv, sat;
    xb_session_adc_counts(h->s, &conv, &sat);
    o.saturation_rate = conv ? (double)sat / (double)conv : 0;
    copy_out(out, size, &o, sizeof o);
    return XB_OK;
}

xbar_status xbar_get_cost(xbar *h, xbar_cost *out, size_t size) {
    if (!h) return XBAR_ERR_INVALID;
    xb_api_enter(h);
    return xb_api_leave(h, get_cost(h, out, size));
}

/* --- JSON ---------------------------------------------------------------------- */

/* `xbar run --json`: every mode with a current result. */
cJSON *xb_api_run_json(const xbar *h) {
    return xb_session_run_json(h->s, NULL, h->data_label ? h->data_label : "");
}

/* `xbar compile --json`. */
cJSON *xb_api_compile_json(const xbar *h) {
    const xb_mapping *m = xb_session_mapping(h->s);
    const xb_cost *c = xb_session_cost(h->s);
    cJSON *root = xb_profile_json_mapping(m, c);
    cJSON_AddStringToObject(root, "model", xb_session_model(h->s));
    cJSON_AddItemToObject(root, "cost_layers", xb_profile_json_layers(m, c, NULL));
    cJSON_AddItemToObject(root, "cost_totals", xb_profile_json_totals(m, c, NULL));
    return root;
}

static xb_status report_json(xbar *h) {
    xb_session *s;
    XB_TRY(xb_api_session(h, &s));
    cJSON *root = NULL;
    if (h->compiled) root = xb_api_compile_json(h);
    else if (h->last_modes && xb_session_data(s)) root = xb_api_run_json(h);
    else return xb_fail(&h->ctx, XB_ERR_INVALID, "no report: call xbar_run or xbar_compile first");
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return xb_fail(&h->ctx, XB_ERR_NOMEM, "JSON report: out of memory");
    cJSON_free(h->json);
    h->json = text;
    return XB_OK;
}

const char *xbar_report_json(xbar *h) {
    if (!h) return NULL;
    xb_api_enter(h);
    xb_status st = report_json(h);
    const char *out = st == XB_OK ? h->json : NULL;
    xb_api_leave(h, st);
    return out;
}
